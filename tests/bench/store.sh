#!/usr/bin/env bash
# `make bench`, store part: the replicated grant store under load, measured in ONE run.
#
#   1. grant writes/s and consume/s on a 3-node `sigil store` cluster on loopback
#      (the `store_load` example of sigil-store-client: CONCURRENCY tasks, each
#      waiting for its answer before sending the next), with p50/p99;
#   2. one `sigil serve` pod on that cluster: client_credentials with reference
#      tokens (a store write per token) against client_credentials with JWTs
#      (no store access), both ES256, and introspection of a reference token (a
#      linearizable store read per request).
# All processes share the machine's cores with the load generators; only ratios
# within one run mean anything (see README.md).
#
# Knobs: DURATION=10 WARMUP=2 CONCURRENCY=64 CONNECTIONS=32 THREADS=2
#        STORE_PORTS="18501 18502 18503" SERVE_PORT=18510 SKIP_BUILD=1
#        BENCH_OUT (default <target dir>/bench/store.json) KEEP_TMP=1 STRICT=1
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/../.." && pwd)"
TARGET_DIR="$(realpath -m -- "${CARGO_TARGET_DIR:-$ROOT/target}")"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONCURRENCY="${CONCURRENCY:-64}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
STORE_PORTS="${STORE_PORTS:-18501 18502 18503}"
SERVE_PORT="${SERVE_PORT:-18510}"
SIGIL_BIN="${SIGIL_BIN:-$TARGET_DIR/release/sigil}"
LOAD_BIN="${LOAD_BIN:-$TARGET_DIR/release/examples/store_load}"
BENCH_OUT="${BENCH_OUT:-$TARGET_DIR/bench/store.json}"
STRICT="${STRICT:-0}"

log() { printf '\n== %s\n' "$*" >&2; }
note() { printf '   %s\n' "$*" >&2; }

# shellcheck source=processes.sh
source "$BENCH_DIR/processes.sh"
bench_setup store
require_tools wrk curl openssl

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "cargo build --release -p sigil -p sigil-store-client --bins --examples"
  (cd "$ROOT" && cargo build --release -p sigil -p sigil-store-client --bins --examples)
fi


# ------------------------------------------------------------- cluster -------
log "3-node store cluster"
read -r -a PORTS <<<"$STORE_PORTS"
PEERS=""
for i in 0 1 2; do PEERS+="${PEERS:+,}$((i + 1))=http://127.0.0.1:${PORTS[$i]}"; done
ENDPOINTS=""
for i in 0 1 2; do
  "$SIGIL_BIN" store --id $((i + 1)) --listen "127.0.0.1:${PORTS[$i]}" --data-dir "$TMP/store-$((i + 1))" \
    --peers "$PEERS" </dev/null >"$TMP/store-$((i + 1)).log" 2>&1 &
  PIDS+=($!)
  ENDPOINTS+="${ENDPOINTS:+,}http://127.0.0.1:${PORTS[$i]}"
done
for i in 0 1 2; do wait_http "http://127.0.0.1:${PORTS[$i]}/readyz" 30; done
note "peers $PEERS"

declare -A R=()
load() { # load NAME OP CONCURRENCY
  local name="$1" out="$TMP/load-$1.json"
  "$LOAD_BIN" --endpoints "$ENDPOINTS" --op "$2" --concurrency "$3" --seconds "$DURATION" >"$out"
  R[${name}_ps]="$(sed -n 's/.*"per_second":\([0-9.]*\).*/\1/p' "$out")"
  R[${name}_p50]="$(sed -n 's/.*"p50_ms":\([0-9.]*\).*/\1/p' "$out")"
  R[${name}_p99]="$(sed -n 's/.*"p99_ms":\([0-9.]*\).*/\1/p' "$out")"
  R[${name}_errors]="$(sed -n 's/.*"errors":\([0-9]*\).*/\1/p' "$out")"
  note "$name ($3 concurrent): ${R[${name}_ps]}/s, p50 ${R[${name}_p50]} ms, p99 ${R[${name}_p99]} ms, errors ${R[${name}_errors]}"
}
WIDE=$((CONCURRENCY * 2))
log "store load: $CONCURRENCY and $WIDE concurrent clients, ${DURATION}s each"
load put put "$CONCURRENCY"
load put_wide put "$WIDE"
load consume consume "$CONCURRENCY"

# ------------------------------------------------------------- serve ---------
log "sigil serve on the cluster (ES256)"
mkdir -p "$TMP/keys"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/keys/bench.pem" 2>/dev/null
sed "s|KEYS_DIR|$TMP/keys|" "$BENCH_DIR/sigil-store-bench.yaml" >"$TMP/serve.yaml"
BASE="http://127.0.0.1:$SERVE_PORT"
"$SIGIL_BIN" serve --config "$TMP/serve.yaml" --store "$ENDPOINTS" --listen "127.0.0.1:$SERVE_PORT" \
  --issuer "$BASE" </dev/null >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
wait_http "$BASE/readyz" 30

wrk_run() { # wrk_run NAME LUA [ENV...]
  local name="$1" lua="$2" out="$TMP/wrk-$1.txt"
  shift 2
  env "$@" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$lua" "$BASE" >/dev/null 2>&1 || true
  env "$@" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$lua" "$BASE" >"$out" 2>&1
  R[${name}_rps]="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
  R[${name}_p99]="$(awk '/Latency Distribution/ { d = 1; next } d && $1 == "99%" { print $2; exit }' "$out")"
  R[${name}_bad]="$(sed -n 's/^BENCH_RESULT .*non200=\([0-9]*\).*/\1/p' "$out")"
  note "$name: ${R[${name}_rps]} req/s, p99 ${R[${name}_p99]}, failed ${R[${name}_bad]:-?}"
}
CC="$BENCH_DIR/client_credentials.lua"
wrk_run cc_jwt "$CC" CLIENT_ID=bench CLIENT_SECRET=bench-secret TOKEN_PATH=/connect/token SCOPE=api.read
wrk_run cc_reference "$CC" CLIENT_ID=bench-ref CLIENT_SECRET=bench-secret TOKEN_PATH=/connect/token SCOPE=api.read
TOKEN="$(curl -s -u bench-ref:bench-secret -d 'grant_type=client_credentials&scope=api.read' "$BASE/connect/token" |
  sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')"
[[ -n "$TOKEN" ]] || { echo "bench: no reference token issued" >&2; exit 1; }
wrk_run introspection "$BENCH_DIR/introspection.lua" TOKEN="$TOKEN"

# ------------------------------------------------------------- report --------
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
goal() { awk -v v="${1:-0}" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "PASS" : "MISS" }'; }
REF_OVER_JWT="$(ratio "${R[cc_reference_rps]}" "${R[cc_jwt_rps]}")"
INTRO_OVER_JWT="$(ratio "${R[introspection_rps]}" "${R[cc_jwt_rps]}")"
G1="$(goal "${R[put_ps]}" '>=' 5000)"
G2="$(goal "${R[put_p99]}" '<' 50)"
printf '\nstore benchmark: 3 store nodes, %s concurrent store clients, wrk -t%s -c%s -d%ss, %s cores\n' \
  "$CONCURRENCY" "$THREADS" "$CONNECTIONS" "$DURATION" "$(nproc)"
printf '  grant writes   %8s /s  p50 %6s ms  p99 %6s ms  errors %s\n' "${R[put_ps]}" "${R[put_p50]}" "${R[put_p99]}" "${R[put_errors]}"
printf '  grant writes   %8s /s  p50 %6s ms  p99 %6s ms  errors %s   (%s concurrent)\n' "${R[put_wide_ps]}" "${R[put_wide_p50]}" "${R[put_wide_p99]}" "${R[put_wide_errors]}" "$WIDE"
printf '  consumes       %8s /s  p50 %6s ms  p99 %6s ms  errors %s\n' "${R[consume_ps]}" "${R[consume_p50]}" "${R[consume_p99]}" "${R[consume_errors]}"
printf '  client_credentials, JWT        %8s req/s  p99 %s\n' "${R[cc_jwt_rps]}" "${R[cc_jwt_p99]}"
printf '  client_credentials, reference  %8s req/s  p99 %s   (%sx of JWT)\n' "${R[cc_reference_rps]}" "${R[cc_reference_p99]}" "$REF_OVER_JWT"
printf '  introspection (reference)      %8s req/s  p99 %s   (%sx of JWT issuance)\n' "${R[introspection_rps]}" "${R[introspection_p99]}" "$INTRO_OVER_JWT"
printf '  %s  3-node grant writes >= 5000/s\n  %s  grant write p99 < 50 ms\n' "$G1" "$G2"

mkdir -p "$(dirname "$BENCH_OUT")"
printf '{"benchmark":"store","date":"%s","cores":%s,"concurrency":%s,"writes":{"per_second":%s,"p50_ms":%s,"p99_ms":%s,"errors":%s},"writes_wide":{"concurrency":%s,"per_second":%s,"p50_ms":%s,"p99_ms":%s,"errors":%s},"consumes":{"per_second":%s,"p50_ms":%s,"p99_ms":%s,"errors":%s},"cc_jwt_rps":%s,"cc_reference_rps":%s,"introspection_rps":%s,"reference_over_jwt":"%s","goals":{"writes_5000":"%s","p99_50ms":"%s"}}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$CONCURRENCY" \
  "${R[put_ps]:-null}" "${R[put_p50]:-null}" "${R[put_p99]:-null}" "${R[put_errors]:-null}" \
  "$WIDE" "${R[put_wide_ps]:-null}" "${R[put_wide_p50]:-null}" "${R[put_wide_p99]:-null}" "${R[put_wide_errors]:-null}" \
  "${R[consume_ps]:-null}" "${R[consume_p50]:-null}" "${R[consume_p99]:-null}" "${R[consume_errors]:-null}" \
  "${R[cc_jwt_rps]:-null}" "${R[cc_reference_rps]:-null}" "${R[introspection_rps]:-null}" "$REF_OVER_JWT" "$G1" "$G2" >"$BENCH_OUT"
printf '\nresults: %s\n' "$BENCH_OUT"
[[ "$STRICT" == 1 && ( "$G1" == MISS || "$G2" == MISS ) ]] && exit 1
exit 0
