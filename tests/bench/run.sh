#!/usr/bin/env bash
# `make bench`: client_credentials throughput and p99 latency of Sigil, measured
# in ONE run against
#   (a) the in-process signing ceiling of the same algorithm on all cores
#       (sigil-keys example `signing_ceiling`), and
#   (b) panva's oidc-provider (certified) issuing JWT access tokens for
#       client_credentials with the same algorithm, as a node:cluster of
#       PEER_WORKERS processes (its best case).
# The machine is shared and its CPU steal varies, so only the ratios measured
# within one run are meaningful; `vmstat 1` is recorded for the whole run and
# the mean steal is reported per phase.
#
# Knobs (environment):
#   DURATION=10         seconds of each measured wrk run
#   WARMUP=3            seconds of the wrk warm-up before each measured run
#   CONNECTIONS=32      wrk connections (-c)
#   THREADS=2           wrk threads (-t)
#   ALGS="RS256 ES256"  algorithms to measure
#   SKIP_PEER=1         do not run the peer provider
#   SKIP_SIGIL=1        do not run Sigil
#   SKIP_CEILING=1      do not run the signing ceiling
#   SKIP_BUILD=1        do not run cargo build (use the binaries already built)
#   PEER_WORKERS=2      oidc-provider worker processes
#   CEILING_THREADS=2   signing ceiling threads;  CEILING_SECONDS=5
#   SIGIL_PORT=18443    PEER_PORT=18444           loopback ports used
#   SIGIL_URL=...       measure an already running Sigil instead of starting one
#                       (its signing algorithm must match; only useful with one ALG)
#   SIGIL_BIN, CEILING_BIN   override the binaries (default: cargo's release output)
#   STRICT=1            exit 1 if any goal is missed
#   BENCH_OUT=...       JSON output (default <target dir>/bench/client_credentials.json)
#   BASELINE_SECONDS=3  idle sampling before measuring (warns when the machine is busy)
#   KEEP_TMP=1          keep the temp dir (server logs, raw wrk output, vmstat log)
set -euo pipefail

# ---------------------------------------------------------------- settings --
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/../.." && pwd)"
# shellcheck source=machine.sh
source "$BENCH_DIR/machine.sh"
if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
  TARGET_DIR="$(realpath -m -- "$CARGO_TARGET_DIR")"
else
  TARGET_DIR="$ROOT/target"
fi

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
ALGS="${ALGS:-RS256 ES256}"
SKIP_PEER="${SKIP_PEER:-0}"
SKIP_SIGIL="${SKIP_SIGIL:-0}"
SKIP_CEILING="${SKIP_CEILING:-0}"
SKIP_BUILD="${SKIP_BUILD:-0}"
PEER_WORKERS="${PEER_WORKERS:-2}"
CEILING_THREADS="${CEILING_THREADS:-2}"
CEILING_SECONDS="${CEILING_SECONDS:-5}"
SIGIL_PORT="${SIGIL_PORT:-18443}"
PEER_PORT="${PEER_PORT:-18444}"
SIGIL_URL="${SIGIL_URL:-}"
SIGIL_BIN="${SIGIL_BIN:-$TARGET_DIR/release/sigil}"
CEILING_BIN="${CEILING_BIN:-$TARGET_DIR/release/examples/signing_ceiling}"
STRICT="${STRICT:-0}"
BENCH_OUT="${BENCH_OUT:-$TARGET_DIR/bench/client_credentials.json}"
READY_TIMEOUT="${READY_TIMEOUT:-30}"

CLIENT_ID=bench
CLIENT_SECRET=bench-secret
SCOPE=api.read
SIGIL_CONFIG="$BENCH_DIR/sigil-bench.yaml"
LUA="$BENCH_DIR/client_credentials.lua"
PEER_DIR="$BENCH_DIR/peer"

for v in DURATION WARMUP CONNECTIONS THREADS PEER_WORKERS CEILING_THREADS CEILING_SECONDS SIGIL_PORT PEER_PORT READY_TIMEOUT; do
  if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then
    echo "bench: $v must be a whole number (got '${!v}')" >&2
    exit 2
  fi
done
for alg in $ALGS; do
  case "$alg" in RS256|ES256) ;; *) echo "bench: unsupported algorithm '$alg' in ALGS" >&2; exit 2 ;; esac
done

log() { printf '\n== %s\n' "$*" >&2; }
note() { printf '   %s\n' "$*" >&2; }

# ------------------------------------------------------------- cleanup -------
TMP="$(mktemp -d -t sigil-bench.XXXXXX)"
SERVER_PIDS=()
VMSTAT_PID=""

# Stops one server started with setsid: its whole process group (node:cluster
# workers included), TERM first, KILL after 5 s.
stop_group() {
  local pid="$1"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  if [[ -n "${CHILD_PID:-}" ]]; then
    kill -TERM "$CHILD_PID" 2>/dev/null || true
    wait "$CHILD_PID" 2>/dev/null || true
  fi
  for pid in "${SERVER_PIDS[@]}"; do
    stop_group "$pid"
  done
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

# run_child OUTFILE CMD...: runs CMD (output to OUTFILE) in the background and
# waits for it, so that a signal to this script is handled at once (bash defers
# traps until a foreground child exits); cleanup stops it. The redirection is
# inside so that a trap running meanwhile still writes to the terminal.
CHILD_PID=""
run_child() {
  local outfile="$1"
  shift
  "$@" >"$outfile" 2>&1 &
  CHILD_PID=$!
  local rc=0
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return $rc
}

forget_pid() {
  local pid="$1" kept=() p
  for p in "${SERVER_PIDS[@]}"; do [[ "$p" == "$pid" ]] || kept+=("$p"); done
  SERVER_PIDS=("${kept[@]}")
}

# ------------------------------------------------------------- installs ------
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "bench: need root to run: $*" >&2; return 1; fi
}

APT_UPDATED=0
apt_install() {
  if [[ $APT_UPDATED -eq 0 ]]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

log "tools"
command -v wrk >/dev/null || { note "installing wrk"; apt_install wrk; }
command -v curl >/dev/null || { note "installing curl"; apt_install curl; }
command -v vmstat >/dev/null || { note "installing procps"; apt_install procps; }
command -v setsid >/dev/null || { note "installing util-linux"; apt_install util-linux; }
if [[ "$SKIP_PEER" != 1 ]]; then
  command -v node >/dev/null || { note "installing nodejs"; apt_install nodejs npm; }
  command -v npm >/dev/null || { note "installing npm"; apt_install npm; }
  if [[ ! -d "$PEER_DIR/node_modules" ]]; then
    note "npm ci (peer provider)"
    (cd "$PEER_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
note "$(wrk --version 2>&1 | head -n1 | cut -c1-40); node $(command -v node >/dev/null && node --version || echo absent)"

need_build=0
[[ "$SKIP_SIGIL" != 1 && -z "$SIGIL_URL" ]] && need_build=1
[[ "$SKIP_CEILING" != 1 ]] && need_build=1
if [[ "$SKIP_BUILD" != 1 && $need_build -eq 1 ]]; then
  log "cargo build --release -p sigil -p sigil-keys --bins --examples"
  (cd "$ROOT" && cargo build --release -p sigil -p sigil-keys --bins --examples)
fi

# ------------------------------------------------------------- vmstat --------
BASELINE_SECONDS="${BASELINE_SECONDS:-3}"
vm_start "$TMP"
# How idle the machine is before anything is measured.
vm_baseline "$BASELINE_SECONDS"

# ------------------------------------------------------------- helpers -------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_ready URL PID NAME LOG: poll URL until 200 (READY_TIMEOUT seconds).
wait_ready() {
  local url="$1" pid="$2" name="$3" logf="$4" deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "bench: $name exited before it was ready; last lines of its log:" >&2
      tail -n 20 "$logf" >&2 || true
      return 1
    fi
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" == 200 ]]; then
      return 0
    fi
    sleep 0.2
  done
  echo "bench: $name not ready at $url after ${READY_TIMEOUT}s; last lines of its log:" >&2
  tail -n 20 "$logf" >&2 || true
  return 1
}

# The token endpoint's path from the discovery document, else the fallback.
token_path() {
  local base="$1" fallback="$2" doc te
  doc="$(curl -s --max-time 5 "$base/.well-known/openid-configuration" || true)"
  te="$(printf '%s' "$doc" | sed -n 's/.*"token_endpoint"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')"
  if [[ "$te" =~ ^https?://[^/]+(/.*)$ ]]; then
    printf '%s\n' "${BASH_REMATCH[1]}"
  else
    printf '%s\n' "$fallback"
  fi
}

b64url_decode() {
  local s="${1//-/+}"
  s="${s//_//}"
  while ((${#s} % 4)); do s+="="; done
  printf '%s' "$s" | base64 -d 2>/dev/null
}

# One token request; checks 200 and a JWT access token signed with ALG.
check_token() {
  local base="$1" path="$2" alg="$3" name="$4" out code tok header
  out="$TMP/check-$name-$alg.json"
  code="$(curl -s -o "$out" -w '%{http_code}' --max-time 10 -u "$CLIENT_ID:$CLIENT_SECRET" \
    -d "grant_type=client_credentials&scope=$SCOPE" "$base$path" || true)"
  if [[ "$code" != 200 ]]; then
    echo "bench: $name token request returned HTTP $code: $(head -c 300 "$out" 2>/dev/null)" >&2
    return 1
  fi
  tok="$(sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$out")"
  header="$(b64url_decode "${tok%%.*}")"
  if ! [[ "$header" =~ \"alg\"[[:space:]]*:[[:space:]]*\"$alg\" ]]; then
    echo "bench: $name access token is not a JWT signed with $alg (header: ${header:-none})" >&2
    return 1
  fi
  note "$name: token endpoint $path issues $alg JWT access tokens"
}

# Converts a wrk duration (123.45us, 6.78ms, 1.20s, 2.00m) to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (match(v, /^[0-9.]+/)) { n = substr(v, 1, RLENGTH); u = substr(v, RLENGTH + 1) } else { print ""; exit }
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
    if (f < 0) print ""; else printf "%.3f\n", n * f
  }'
}

# parse_wrk FILE: sets W_RPS W_P50 W_P99 W_NON200 W_RESPONSES W_SOCKERR from wrk --latency output.
parse_wrk() {
  local f="$1" raw
  W_RPS="$(awk '/^Requests\/sec:/ { print $2 }' "$f")"
  raw="$(awk '/Latency Distribution/ { d = 1; next } d && $1 == "50%" { print $2; exit }' "$f")"
  W_P50="$(to_ms "$raw")"
  raw="$(awk '/Latency Distribution/ { d = 1; next } d && $1 == "99%" { print $2; exit }' "$f")"
  W_P99="$(to_ms "$raw")"
  W_NON200="$(sed -n 's/^BENCH_RESULT .*non200=\([0-9]*\).*/\1/p' "$f")"
  W_RESPONSES="$(sed -n 's/^BENCH_RESULT responses=\([0-9]*\).*/\1/p' "$f")"
  W_SOCKERR="$(sed -n 's/^BENCH_RESULT .* errors=\([0-9]*\).*/\1/p' "$f")"
}

# ratio A B: A/B to 3 decimals, or nothing when an input is missing.
ratio() {
  local a="$1" b="$2"
  [[ -n "$a" && -n "$b" ]] || return 0
  awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f\n", a / b }'
}
fmt() { # fmt VALUE DECIMALS SUFFIX
  if [[ -n "$1" && "$1" != "-" ]]; then awk -v v="$1" -v d="$2" -v s="$3" 'BEGIN { printf "%.*f%s", d, v, s }'; else printf 'n/a'; fi
}
# verdict VALUE OP THRESHOLD: PASS / MISS / n/a
verdict() {
  local v="$1" op="$2" t="$3"
  [[ -n "$v" && -n "$t" ]] || { echo "n/a"; return; }
  awk -v v="$v" -v t="$t" -v op="$op" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (op == "<") ? (v < t) : 0
    print ok ? "PASS" : "MISS" }'
}

jnum() { if [[ -n "${1:-}" && "${1:-}" != "-" ]]; then printf '%s' "$1"; else printf 'null'; fi; }

# Result store: R[key]=value; empty means not measured.
declare -A R=()
ERRORS=0

# run_wrk NAME ALG BASE PATH: warm-up, measured run, parse into R[NAME_*_ALG].
run_wrk() {
  local name="$1" alg="$2" base="$3" path="$4" out m0 m1 stats
  out="$TMP/wrk-$name-$alg.txt"
  export CLIENT_ID CLIENT_SECRET SCOPE
  if ((WARMUP > 0)); then
    TOKEN_PATH="$path" run_child "$TMP/warmup-$name-$alg.txt" \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$LUA" "$base" || true
  fi
  m0="$(vm_mark)"
  if ! TOKEN_PATH="$path" run_child "$out" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$LUA" "$base"; then
    echo "bench: wrk failed against $name ($alg):" >&2
    cat "$out" >&2
    return 1
  fi
  m1="$(vm_mark)"
  parse_wrk "$out"
  if [[ -z "$W_RPS" || -z "$W_P99" ]]; then
    echo "bench: could not parse wrk output for $name ($alg):" >&2
    cat "$out" >&2
    return 1
  fi
  read -r R["${name}_steal_$alg"] R["${name}_busy_$alg"] <<<"$(vm_stats "$m0" "$m1")"
  R["${name}_rps_$alg"]="$W_RPS"
  R["${name}_p50_$alg"]="$W_P50"
  R["${name}_p99_$alg"]="$W_P99"
  R["${name}_non200_$alg"]="${W_NON200:-0}"
  R["${name}_responses_$alg"]="${W_RESPONSES:-0}"
  R["${name}_sockerr_$alg"]="${W_SOCKERR:-0}"
  note "$name $alg: $W_RPS req/s, p50 ${W_P50} ms, p99 ${W_P99} ms, non-200 ${W_NON200:-?}, socket errors ${W_SOCKERR:-?}, steal $(fmt "${R[${name}_steal_$alg]}" 1 %)"
  if [[ "${W_NON200:-0}" != 0 || "${W_SOCKERR:-0}" != 0 ]]; then
    note "WARNING: $name $alg had failed requests: $(grep '^BENCH_RESULT' "$out" | sed 's/.*first_error=//')"
  fi
}

# ------------------------------------------------------------- phases --------
bench_sigil() {
  local alg="$1" base pid cfg data logf path
  if [[ -n "$SIGIL_URL" ]]; then
    base="${SIGIL_URL%/}"
    path="$(token_path "$base" /connect/token)"
    check_token "$base" "$path" "$alg" sigil || return 1
    run_wrk sigil "$alg" "$base" "$path"
    return
  fi
  if [[ ! -x "$SIGIL_BIN" ]]; then
    echo "bench: no Sigil binary at $SIGIL_BIN" >&2
    return 1
  fi
  port_free "$SIGIL_PORT" || { echo "bench: port $SIGIL_PORT is in use (set SIGIL_PORT)" >&2; return 1; }
  cfg="$TMP/sigil-$alg.yaml"
  sed -E "s/^([[:space:]]*algorithm:[[:space:]]*)[A-Za-z0-9]+/\1$alg/" "$SIGIL_CONFIG" >"$cfg"
  grep -qE "^[[:space:]]*algorithm:[[:space:]]*$alg([[:space:]]|$)" "$cfg" \
    || { echo "bench: could not set signing.algorithm in $cfg" >&2; return 1; }
  data="$TMP/sigil-data-$alg"
  mkdir -p "$data"
  logf="$TMP/sigil-$alg.log"
  base="http://127.0.0.1:$SIGIL_PORT"
  setsid "$SIGIL_BIN" dev --config "$cfg" --listen "127.0.0.1:$SIGIL_PORT" --data-dir "$data" \
    </dev/null >"$logf" 2>&1 &
  pid=$!
  SERVER_PIDS+=("$pid")
  local rc=0
  if wait_ready "$base/readyz" "$pid" "sigil ($alg)" "$logf"; then
    path="$(token_path "$base" /connect/token)"
    if check_token "$base" "$path" "$alg" sigil; then
      run_wrk sigil "$alg" "$base" "$path" || rc=1
    else
      rc=1
    fi
  else
    rc=1
  fi
  stop_group "$pid"
  forget_pid "$pid"
  return $rc
}

bench_peer() {
  local alg="$1" base pid logf path
  port_free "$PEER_PORT" || { echo "bench: port $PEER_PORT is in use (set PEER_PORT)" >&2; return 1; }
  logf="$TMP/peer-$alg.log"
  base="http://127.0.0.1:$PEER_PORT"
  (cd "$PEER_DIR" && NODE_ENV=production ALG="$alg" HOST=127.0.0.1 PORT="$PEER_PORT" WORKERS="$PEER_WORKERS" \
    CLIENT_ID="$CLIENT_ID" CLIENT_SECRET="$CLIENT_SECRET" SCOPE="$SCOPE" \
    exec setsid node server.mjs </dev/null >"$logf" 2>&1) &
  pid=$!
  SERVER_PIDS+=("$pid")
  local rc=0
  if wait_ready "$base/.well-known/openid-configuration" "$pid" "peer ($alg)" "$logf"; then
    # The cluster answers as soon as one worker listens: wait for all of them.
    local deadline=$((SECONDS + READY_TIMEOUT))
    while ! grep -q "listening" "$logf" && ((SECONDS < deadline)); do sleep 0.2; done
    path="$(token_path "$base" /token)"
    if check_token "$base" "$path" "$alg" peer; then
      run_wrk peer "$alg" "$base" "$path" || rc=1
    else
      rc=1
    fi
  else
    rc=1
  fi
  stop_group "$pid"
  forget_pid "$pid"
  return $rc
}

bench_ceiling() {
  local alg="$1" out line m0 m1
  if [[ ! -x "$CEILING_BIN" ]]; then
    echo "bench: no signing ceiling binary at $CEILING_BIN" >&2
    return 1
  fi
  out="$TMP/ceiling-$alg.txt"
  m0="$(vm_mark)"
  if ! run_child "$out" "$CEILING_BIN" --alg "$alg" --threads "$CEILING_THREADS" --seconds "$CEILING_SECONDS"; then
    echo "bench: signing ceiling ($alg) failed:" >&2
    cat "$out" >&2
    return 1
  fi
  m1="$(vm_mark)"
  line="$(grep -E '^[[:space:]]*\{' "$out" | tail -n1)"
  R["ceiling_ps_$alg"]="$(printf '%s' "$line" | sed -n 's/.*"per_second"[[:space:]]*:[[:space:]]*\([0-9.eE+-]*\).*/\1/p')"
  if [[ -z "${R[ceiling_ps_$alg]}" ]]; then
    echo "bench: could not parse the signing ceiling output ($alg):" >&2
    cat "$out" >&2
    return 1
  fi
  read -r R["ceiling_steal_$alg"] R["ceiling_busy_$alg"] <<<"$(vm_stats "$m0" "$m1")"
  note "ceiling $alg: ${R[ceiling_ps_$alg]} signatures/s on $CEILING_THREADS threads, steal $(fmt "${R[ceiling_steal_$alg]}" 1 %)"
}

for alg in $ALGS; do
  if [[ "$SKIP_SIGIL" != 1 ]]; then
    log "Sigil $alg"
    bench_sigil "$alg" || { ERRORS=$((ERRORS + 1)); note "Sigil $alg: FAILED"; }
  fi
  if [[ "$SKIP_PEER" != 1 ]]; then
    log "peer oidc-provider $alg ($PEER_WORKERS workers)"
    bench_peer "$alg" || { ERRORS=$((ERRORS + 1)); note "peer $alg: FAILED"; }
  fi
  if [[ "$SKIP_CEILING" != 1 ]]; then
    log "signing ceiling $alg"
    bench_ceiling "$alg" || { ERRORS=$((ERRORS + 1)); note "ceiling $alg: FAILED"; }
  fi
done

read -r STEAL_ALL BUSY_ALL <<<"$(vm_stats 0)"

# ------------------------------------------------------------- report --------
# Goals: ALG|label|value key|op|threshold|shown threshold
GOALS=(
  "RS256|Sigil >= 75% of the signing ceiling|sigil_over_ceiling|>=|0.75|0.75x"
  "RS256|Sigil >= 2x oidc-provider|sigil_over_peer|>=|2|2x"
  "RS256|Sigil p99 < oidc-provider p99|p99_ratio|<|1|1x"
  "ES256|Sigil >= 5x oidc-provider|sigil_over_peer|>=|5|5x"
  "ES256|Sigil p99 < oidc-provider p99|p99_ratio|<|1|1x"
)

MISSES=0
JSON_ALGS=()

printf '\nclient_credentials benchmark: wrk -t%s -c%s -d%ss (warm-up %ss), peer workers %s, ceiling threads %s, %s cores\n' \
  "$THREADS" "$CONNECTIONS" "$DURATION" "$WARMUP" "$PEER_WORKERS" "$CEILING_THREADS" "$(nproc)"
printf 'mean CPU steal over the whole run: %s (us+sy %s; before measuring: busy %s, steal %s); ratios below are within this run\n' \
  "$(fmt "$STEAL_ALL" 1 %)" "$(fmt "$BUSY_ALL" 1 %)" "$(fmt "$BASE_BUSY" 1 %)" "$(fmt "$BASE_STEAL" 1 %)"

for alg in $ALGS; do
  s_rps="${R[sigil_rps_$alg]:-}"; s_p99="${R[sigil_p99_$alg]:-}"
  p_rps="${R[peer_rps_$alg]:-}"; p_p99="${R[peer_p99_$alg]:-}"
  c_ps="${R[ceiling_ps_$alg]:-}"
  declare -A V=(
    [sigil_over_ceiling]="$(ratio "$s_rps" "$c_ps")"
    [sigil_over_peer]="$(ratio "$s_rps" "$p_rps")"
    [p99_ratio]="$(ratio "$s_p99" "$p_p99")"
    [peer_over_ceiling]="$(ratio "$p_rps" "$c_ps")"
  )
  printf '\n%s\n' "$alg"
  printf '  %-28s %12s %12s %12s %8s %8s\n' "" "req/s" "p50" "p99" "non-200" "steal"
  printf '  %-28s %12s %12s %12s %8s %8s\n' "Sigil" "$(fmt "$s_rps" 0 '')" "$(fmt "${R[sigil_p50_$alg]:-}" 2 ' ms')" \
    "$(fmt "$s_p99" 2 ' ms')" "${R[sigil_non200_$alg]:-n/a}" "$(fmt "${R[sigil_steal_$alg]:-}" 1 %)"
  printf '  %-28s %12s %12s %12s %8s %8s\n' "oidc-provider x$PEER_WORKERS" "$(fmt "$p_rps" 0 '')" "$(fmt "${R[peer_p50_$alg]:-}" 2 ' ms')" \
    "$(fmt "$p_p99" 2 ' ms')" "${R[peer_non200_$alg]:-n/a}" "$(fmt "${R[peer_steal_$alg]:-}" 1 %)"
  printf '  %-28s %12s %12s %12s %8s %8s\n' "signing ceiling ($CEILING_THREADS thr, sig/s)" "$(fmt "$c_ps" 0 '')" "" "" "" \
    "$(fmt "${R[ceiling_steal_$alg]:-}" 1 %)"
  printf '  ratios: Sigil/ceiling %s   Sigil/peer %s   Sigil p99/peer p99 %s   (peer/ceiling %s)\n' \
    "$(fmt "${V[sigil_over_ceiling]}" 2 x)" "$(fmt "${V[sigil_over_peer]}" 2 x)" "$(fmt "${V[p99_ratio]}" 2 x)" \
    "$(fmt "${V[peer_over_ceiling]}" 2 x)"

  goals_json=()
  for g in "${GOALS[@]}"; do
    IFS='|' read -r g_alg g_label g_key g_op g_t g_shown <<<"$g"
    [[ "$g_alg" == "$alg" ]] || continue
    val="${V[$g_key]}"
    res="$(verdict "$val" "$g_op" "$g_t")"
    # Failed requests invalidate a throughput comparison.
    if [[ "$res" == PASS && ( "${R[sigil_non200_$alg]:-0}" != 0 || "${R[sigil_sockerr_$alg]:-0}" != 0 ) ]]; then
      res="MISS"; g_label="$g_label (Sigil had failed requests)"
    fi
    [[ "$res" == MISS ]] && MISSES=$((MISSES + 1))
    printf '  %-4s  %-46s %s %s\n' "$res" "$g_label" "$(fmt "$val" 2 x)" "(goal $g_op $g_shown)"
    goals_json+=("$(printf '{"goal":"%s","value":%s,"op":"%s","threshold":%s,"result":"%s"}' \
      "$g_label" "$(jnum "$val")" "$g_op" "$g_t" "$res")")
  done

  side_json() { # side_json NAME
    printf '{"req_per_s":%s,"p50_ms":%s,"p99_ms":%s,"responses":%s,"non_200":%s,"socket_errors":%s,"steal_pct":%s,"cpu_busy_pct":%s}' \
      "$(jnum "${R[${1}_rps_$alg]:-}")" "$(jnum "${R[${1}_p50_$alg]:-}")" "$(jnum "${R[${1}_p99_$alg]:-}")" \
      "$(jnum "${R[${1}_responses_$alg]:-}")" "$(jnum "${R[${1}_non200_$alg]:-}")" "$(jnum "${R[${1}_sockerr_$alg]:-}")" \
      "$(jnum "${R[${1}_steal_$alg]:-}")" "$(jnum "${R[${1}_busy_$alg]:-}")"
  }
  JSON_ALGS+=("$(printf '"%s":{"sigil":%s,"peer":%s,"ceiling":{"per_second":%s,"threads":%s,"seconds":%s,"steal_pct":%s},"ratios":{"sigil_over_ceiling":%s,"sigil_over_peer":%s,"sigil_p99_over_peer_p99":%s,"peer_over_ceiling":%s},"goals":[%s]}' \
    "$alg" "$(side_json sigil)" "$(side_json peer)" \
    "$(jnum "$c_ps")" "$CEILING_THREADS" "$CEILING_SECONDS" "$(jnum "${R[ceiling_steal_$alg]:-}")" \
    "$(jnum "${V[sigil_over_ceiling]}")" "$(jnum "${V[sigil_over_peer]}")" "$(jnum "${V[p99_ratio]}")" "$(jnum "${V[peer_over_ceiling]}")" \
    "$(IFS=,; printf '%s' "${goals_json[*]}")")")
  unset V
done

mkdir -p "$(dirname "$BENCH_OUT")"
{
  printf '{"benchmark":"client_credentials","date":"%s","cores":%s,' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)"
  printf '"wrk":{"threads":%s,"connections":%s,"duration_s":%s,"warmup_s":%s},' "$THREADS" "$CONNECTIONS" "$DURATION" "$WARMUP"
  printf '"peer":{"software":"oidc-provider","version":"%s","workers":%s},' \
    "$(sed -n 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$PEER_DIR/node_modules/oidc-provider/package.json" 2>/dev/null | head -n1)" \
    "$PEER_WORKERS"
  printf '"steal_pct_mean":%s,"cpu_busy_pct_mean":%s,"baseline_busy_pct":%s,"baseline_steal_pct":%s,"errors":%s,"goals_missed":%s,' \
    "$(jnum "$STEAL_ALL")" "$(jnum "$BUSY_ALL")" "$(jnum "$BASE_BUSY")" "$(jnum "$BASE_STEAL")" "$ERRORS" "$MISSES"
  printf '"algorithms":{%s}}\n' "$(IFS=,; printf '%s' "${JSON_ALGS[*]}")"
} >"$BENCH_OUT"
printf '\nresults: %s\n' "$BENCH_OUT"

if ((ERRORS > 0)); then
  echo "bench: $ERRORS phase(s) failed (see above)" >&2
  exit 1
fi
if [[ "$STRICT" == 1 && $MISSES -gt 0 ]]; then
  echo "bench: $MISSES goal(s) missed" >&2
  exit 1
fi
