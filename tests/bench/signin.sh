#!/usr/bin/env bash
# `make bench`, sign-in part: what a whole sign-in and a refresh cost, each as a ratio to
# client_credentials, all three measured in ONE run against one `sigil dev` (ES256) by the
# same driver (`sigil-load` of sigil-testkit) with the same concurrency and duration:
#
#   client-credentials  one token request (HTTP Basic): the yardstick;
#   sign-in             a new browser's whole authorization code + S256 PKCE flow: authorize,
#                       login page, login post (an argon2id password check), continue, code
#                       redeemed for tokens (5 requests);
#   refresh             refresh_token grant with rotation, each worker on its own family.
#
# The machine is shared and its CPU steal varies, so only the ratios within one run mean
# anything; `vmstat 1` is recorded and the mean steal is reported per mode.
#
# Knobs (environment):
#   DURATION=10        measured seconds per mode
#   WARMUP=3           seconds of warm-up per mode, not counted
#   CONNECTIONS=32     concurrent workers of the driver (each one a user / connection)
#   SIGIL_PORT=18520   loopback port of the server
#   SKIP_BUILD=1       do not run cargo build (use the binaries already built)
#   SIGIL_BIN, LOAD_BIN   override the binaries (default: cargo's release output)
#   BENCH_OUT=...      JSON output (default <target dir>/bench/signin.json)
#   STRICT=1           exit 1 when any request failed
#   BASELINE_SECONDS=3 idle sampling before measuring (warns when the machine is busy)
#   KEEP_TMP=1         keep the temp dir (server log, driver output, vmstat log)
set -euo pipefail

# ---------------------------------------------------------------- settings --
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/../.." && pwd)"
# shellcheck source=machine.sh
source "$BENCH_DIR/machine.sh"
TARGET_DIR="$(realpath -m -- "${CARGO_TARGET_DIR:-$ROOT/target}")"

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
CONNECTIONS="${CONNECTIONS:-32}"
SIGIL_PORT="${SIGIL_PORT:-18520}"
SKIP_BUILD="${SKIP_BUILD:-0}"
SIGIL_BIN="${SIGIL_BIN:-$TARGET_DIR/release/sigil}"
LOAD_BIN="${LOAD_BIN:-$TARGET_DIR/release/sigil-load}"
BENCH_OUT="${BENCH_OUT:-$TARGET_DIR/bench/signin.json}"
STRICT="${STRICT:-0}"
READY_TIMEOUT="${READY_TIMEOUT:-30}"
BASELINE_SECONDS="${BASELINE_SECONDS:-3}"
SIGIL_CONFIG="$BENCH_DIR/sigil-signin-bench.yaml"
# The users and clients of sigil-signin-bench.yaml.
LOAD_FLAGS=(
  --client-id bench --client-secret bench-secret --scope api.read
  --web-client-id bench-web --web-client-secret bench-secret
  --redirect-uri http://bench.invalid/cb --sign-in-scope "openid profile offline_access api.read"
  --username bench --users 32 --password bench-password
)
MODES=(client-credentials sign-in refresh)

for v in DURATION WARMUP CONNECTIONS SIGIL_PORT READY_TIMEOUT BASELINE_SECONDS; do
  if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then
    echo "bench: $v must be a whole number (got '${!v}')" >&2
    exit 2
  fi
done
((DURATION > 0 && CONNECTIONS > 0)) || { echo "bench: DURATION and CONNECTIONS must be at least 1" >&2; exit 2; }

log() { printf '\n== %s\n' "$*" >&2; }
note() { printf '   %s\n' "$*" >&2; }

# ------------------------------------------------------------- cleanup -------
TMP="$(mktemp -d -t sigil-signin-bench.XXXXXX)"
SERVER_PID=""
VMSTAT_PID=""
CHILD_PID=""

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  if [[ -n "$CHILD_PID" ]]; then
    kill -TERM "$CHILD_PID" 2>/dev/null || true
    wait "$CHILD_PID" 2>/dev/null || true
  fi
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n "$VMSTAT_PID" ]]; then
    kill "$VMSTAT_PID" 2>/dev/null || true
    wait "$VMSTAT_PID" 2>/dev/null || true
  fi
  if [[ "${KEEP_TMP:-0}" == 1 || $rc -ne 0 ]]; then
    echo "bench: logs kept in $TMP" >&2
  else
    rm -rf -- "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_child OUTFILE ERRFILE CMD...: runs CMD in the background and waits for it, so that a
# signal to this script is handled at once (bash defers traps until a foreground child
# exits); cleanup stops it.
run_child() {
  local outfile="$1" errfile="$2"
  shift 2
  "$@" >"$outfile" 2>"$errfile" &
  CHILD_PID=$!
  local rc=0
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return $rc
}

# ------------------------------------------------------------- build ---------
for tool in curl vmstat; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make bench installs it through run.sh)" >&2; exit 2; }
done
if [[ "$SKIP_BUILD" != 1 ]]; then
  log "cargo build --release -p sigil --bin sigil -p sigil-testkit --bin sigil-load"
  (cd "$ROOT" && cargo build --release -p sigil --bin sigil -p sigil-testkit --bin sigil-load)
fi
for bin in "$SIGIL_BIN" "$LOAD_BIN"; do
  [[ -x "$bin" ]] || { echo "bench: no binary at $bin (run without SKIP_BUILD=1)" >&2; exit 1; }
done

# ------------------------------------------------------------- vmstat --------
vm_start "$TMP"
# How idle the machine is before anything is measured.
vm_baseline "$BASELINE_SECONDS"

# The server's peak resident memory: reset before a mode (where the kernel allows it),
# read after it. Concurrent password checks each hold an argon2 buffer, so this shows what
# CONNECTIONS simultaneous sign-ins cost in memory.
rss_reset() { echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true; }
rss_peak_mb() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status" 2>/dev/null || true; }

# ------------------------------------------------------------- server --------
log "sigil dev (ES256, $SIGIL_CONFIG)"
if (exec 3<>"/dev/tcp/127.0.0.1/$SIGIL_PORT") 2>/dev/null; then
  echo "bench: port $SIGIL_PORT is in use (set SIGIL_PORT)" >&2
  exit 1
fi
BASE="http://127.0.0.1:$SIGIL_PORT"
mkdir -p "$TMP/data"
"$SIGIL_BIN" dev --config "$SIGIL_CONFIG" --listen "127.0.0.1:$SIGIL_PORT" --data-dir "$TMP/data" \
  </dev/null >"$TMP/sigil.log" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + READY_TIMEOUT))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/readyz" || true)" == 200 ]]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null || ((SECONDS >= deadline)); then
    echo "bench: sigil did not become ready at $BASE/readyz; last lines of its log:" >&2
    tail -n 20 "$TMP/sigil.log" >&2 || true
    exit 1
  fi
  sleep 0.2
done

# One sign-in and refresh before measuring: a broken flow fails here, with its reason.
for mode in sign-in refresh; do
  if ! run_child "$TMP/check-$mode.json" "$TMP/check-$mode.err" \
    "$LOAD_BIN" "$mode" --url "$BASE" --concurrency 1 --duration 1 --warmup 0 "${LOAD_FLAGS[@]}" ||
    ! grep -q '"errors":0' "$TMP/check-$mode.json" || grep -q '"completed":0' "$TMP/check-$mode.json"; then
    echo "bench: a single $mode does not work against $BASE:" >&2
    cat "$TMP/check-$mode.err" "$TMP/check-$mode.json" >&2
    exit 1
  fi
done
note "a sign-in and a refresh work"

# ------------------------------------------------------------- measure -------
json_field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"; }

declare -A R=()
FAILED=0
for mode in "${MODES[@]}"; do
  log "$mode: $CONNECTIONS workers, ${WARMUP}s warm-up, ${DURATION}s measured"
  out="$TMP/load-$mode.json"
  m0="$(vm_mark)"
  rss_reset
  if ! run_child "$out" "$TMP/load-$mode.err" \
    "$LOAD_BIN" "$mode" --url "$BASE" --concurrency "$CONNECTIONS" --duration "$DURATION" \
    --warmup "$WARMUP" "${LOAD_FLAGS[@]}"; then
    echo "bench: the $mode driver failed:" >&2
    cat "$TMP/load-$mode.err" >&2
    FAILED=$((FAILED + 1))
    continue
  fi
  m1="$(vm_mark)"
  R[${mode}_rss]="$(rss_peak_mb)"
  R[${mode}_ps]="$(json_field "$out" per_second)"
  R[${mode}_p50]="$(json_field "$out" p50_ms)"
  R[${mode}_p99]="$(json_field "$out" p99_ms)"
  R[${mode}_completed]="$(json_field "$out" completed)"
  R[${mode}_errors]="$(json_field "$out" errors)"
  R[${mode}_per]="$(json_field "$out" requests_per_iteration)"
  read -r R[${mode}_steal] R[${mode}_busy] <<<"$(vm_stats "$m0" "$m1")"
  note "${R[${mode}_ps]}/s, p50 ${R[${mode}_p50]} ms, p99 ${R[${mode}_p99]} ms, errors ${R[${mode}_errors]}, steal ${R[${mode}_steal]}%, server peak RSS ${R[${mode}_rss]:-?} MiB"
  [[ -s "$TMP/load-$mode.err" ]] && note "$(head -c 600 "$TMP/load-$mode.err")"
done
read -r STEAL_ALL BUSY_ALL <<<"$(vm_stats 0)"

# ------------------------------------------------------------- report --------
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a != "" && b > 0) printf "%.4f", a / b; else print "n/a" }'; }
jnum() { if [[ -n "${1:-}" && "$1" != n/a && "$1" != - ]]; then printf '%s' "$1"; else printf 'null'; fi; }
CC="${R[client-credentials_ps]:-}"
ERRORS_TOTAL=0
printf '\nsign-in benchmark: sigil dev ES256, %s workers, %ss measured (warm-up %ss), %s cores, driver on the same cores\n' \
  "$CONNECTIONS" "$DURATION" "$WARMUP" "$(nproc)"
printf 'mean CPU steal over the run: %s%% (us+sy %s%%; before measuring: busy %s%%, steal %s%%); only the ratios within this run mean anything\n\n' \
  "$STEAL_ALL" "$BUSY_ALL" "$BASE_BUSY" "$BASE_STEAL"
printf '  %-20s %10s %10s %10s %10s %8s %7s %9s %12s\n' mode "rate/s" "HTTP req/s" "p50 ms" "p99 ms" errors steal "peak RSS" "÷ client_cc"
MODES_JSON=()
for mode in "${MODES[@]}"; do
  ps="${R[${mode}_ps]:-}"
  per="${R[${mode}_per]:-1}"
  http_ps="$(awk -v a="$ps" -v n="$per" 'BEGIN { if (a != "") printf "%.0f", a * n; else print "n/a" }')"
  r="$(ratio "$ps" "$CC")"
  ERRORS_TOTAL=$((ERRORS_TOTAL + ${R[${mode}_errors]:-0}))
  steal="${R[${mode}_steal]:-}"
  [[ -n "$steal" && "$steal" != - ]] && steal="$steal%" || steal=n/a
  rss="${R[${mode}_rss]:-}"
  printf '  %-20s %10s %10s %10s %10s %8s %7s %9s %12s\n' "$mode" "${ps:-n/a}" "$http_ps" "${R[${mode}_p50]:-n/a}" \
    "${R[${mode}_p99]:-n/a}" "${R[${mode}_errors]:-n/a}" "$steal" "${rss:+$rss MiB}" "$r"
  MODES_JSON+=("$(printf '"%s":{"per_second":%s,"http_requests_per_iteration":%s,"completed":%s,"errors":%s,"p50_ms":%s,"p99_ms":%s,"ratio_to_client_credentials":%s,"steal_pct":%s,"cpu_busy_pct":%s,"server_peak_rss_mib":%s}' \
    "$mode" "$(jnum "$ps")" "$per" "$(jnum "${R[${mode}_completed]:-}")" "$(jnum "${R[${mode}_errors]:-}")" \
    "$(jnum "${R[${mode}_p50]:-}")" "$(jnum "${R[${mode}_p99]:-}")" "$(jnum "$r")" \
    "$(jnum "${R[${mode}_steal]:-}")" "$(jnum "${R[${mode}_busy]:-}")" "$(jnum "${R[${mode}_rss]:-}")")")
done
printf '\n  A sign-in checks an argon2id password hash (m=19456 KiB, t=2: tens of ms of one core by\n'
printf '  design), so sign-ins/s sit far below token requests/s; that is the cost of the hash.\n'

mkdir -p "$(dirname "$BENCH_OUT")"
printf '{"benchmark":"signin","date":"%s","cores":%s,"algorithm":"ES256","concurrency":%s,"duration_s":%s,"warmup_s":%s,"steal_pct_mean":%s,"cpu_busy_pct_mean":%s,"baseline_busy_pct":%s,"baseline_steal_pct":%s,"failed_modes":%s,"modes":{%s}}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$CONNECTIONS" "$DURATION" "$WARMUP" \
  "$(jnum "$STEAL_ALL")" "$(jnum "$BUSY_ALL")" "$(jnum "$BASE_BUSY")" "$(jnum "$BASE_STEAL")" "$FAILED" "$(IFS=,; printf '%s' "${MODES_JSON[*]}")" >"$BENCH_OUT"
printf '\nresults: %s\n' "$BENCH_OUT"

if ((FAILED > 0)); then
  echo "bench: $FAILED mode(s) failed (see above)" >&2
  exit 1
fi
if ((ERRORS_TOTAL > 0)); then
  echo "bench: WARNING: $ERRORS_TOTAL request(s) failed; the rates above include no failed iteration" >&2
  [[ "$STRICT" == 1 ]] && exit 1
fi
exit 0
