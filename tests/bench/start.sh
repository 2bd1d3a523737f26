#!/usr/bin/env bash
# `make bench`, start part: how long a token pod takes from process start to its first
# `/readyz` 200, with a `file` key source and a reachable 3-node store cluster. Goal: under
# 200 ms (a pod that joins fast makes scaling out and rolling restarts cheap).
#
# `sigil-start` (sigil-testkit) starts `sigil serve` RUNS times on free ports, polls /readyz
# every millisecond from the moment it spawned the process, and stops it (the pod config sets
# `server.shutdown.drain: 0s` so runs are short). Median and maximum are printed.
#
# Knobs: RUNS=20 STORE_PORTS="18531 18532 18533" SKIP_BUILD=1 SIGIL_BIN START_BIN
#        BENCH_OUT (default <target dir>/bench/start.json) KEEP_TMP=1 STRICT=1
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/../.." && pwd)"
TARGET_DIR="$(realpath -m -- "${CARGO_TARGET_DIR:-$ROOT/target}")"
RUNS="${RUNS:-20}"
STORE_PORTS="${STORE_PORTS:-18531 18532 18533}"
SIGIL_BIN="${SIGIL_BIN:-$TARGET_DIR/release/sigil}"
START_BIN="${START_BIN:-$TARGET_DIR/release/sigil-start}"
BENCH_OUT="${BENCH_OUT:-$TARGET_DIR/bench/start.json}"
STRICT="${STRICT:-0}"
GOAL_MS=200

log() { printf '\n== %s\n' "$*" >&2; }

# shellcheck source=processes.sh
source "$BENCH_DIR/processes.sh"
bench_setup start
require_tools curl openssl

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "cargo build --release -p sigil -p sigil-testkit --bins"
  (cd "$ROOT" && cargo build --release -p sigil -p sigil-testkit --bins)
fi

log "3-node store cluster"
read -r -a PORTS <<<"$STORE_PORTS"
PEERS=""
ENDPOINTS=""
for i in 0 1 2; do
  PEERS+="${PEERS:+,}$((i + 1))=http://127.0.0.1:${PORTS[$i]}"
  ENDPOINTS+="${ENDPOINTS:+,}http://127.0.0.1:${PORTS[$i]}"
done
for i in 0 1 2; do
  "$SIGIL_BIN" store --id $((i + 1)) --listen "127.0.0.1:${PORTS[$i]}" --data-dir "$TMP/store-$((i + 1))" \
    --peers "$PEERS" </dev/null >"$TMP/store-$((i + 1)).log" 2>&1 &
  PIDS+=($!)
done
for i in 0 1 2; do wait_http "http://127.0.0.1:${PORTS[$i]}/readyz" 30; done

log "sigil serve, start to /readyz 200, $RUNS runs"
mkdir -p "$TMP/keys"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/keys/bench.pem" 2>/dev/null
{
  sed "s|KEYS_DIR|$TMP/keys|" "$BENCH_DIR/sigil-store-bench.yaml"
  printf '\nserver: { shutdown: { drain: 0s } }\n'
} >"$TMP/serve.yaml"
"$START_BIN" --sigil "$SIGIL_BIN" --config "$TMP/serve.yaml" --store "$ENDPOINTS" \
  --issuer "http://127.0.0.1:18530" --runs "$RUNS" >"$TMP/start.json"
MEDIAN="$(sed -n 's/.*"median_ms":\([0-9.]*\).*/\1/p' "$TMP/start.json")"
MAX="$(sed -n 's/.*"max_ms":\([0-9.]*\).*/\1/p' "$TMP/start.json")"
MIN="$(sed -n 's/.*"min_ms":\([0-9.]*\).*/\1/p' "$TMP/start.json")"
GOAL="$(awk -v v="${MEDIAN:-1e9}" -v t="$GOAL_MS" 'BEGIN { print (v < t) ? "PASS" : "MISS" }')"

printf '\nstart benchmark: sigil serve, file key source, 3-node store, %s runs, %s cores\n' "$RUNS" "$(nproc)"
printf '  start to /readyz 200   median %s ms   max %s ms   min %s ms\n' "$MEDIAN" "$MAX" "$MIN"
printf '  %s  median start to ready < %s ms\n' "$GOAL" "$GOAL_MS"

mkdir -p "$(dirname "$BENCH_OUT")"
printf '{"benchmark":"start","date":"%s","cores":%s,"runs":%s,"median_ms":%s,"max_ms":%s,"min_ms":%s,"goals":{"ready_under_200ms":"%s"}}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$RUNS" "${MEDIAN:-null}" "${MAX:-null}" "${MIN:-null}" "$GOAL" >"$BENCH_OUT"
printf '\nresults: %s\n' "$BENCH_OUT"
[[ "$STRICT" == 1 && "$GOAL" == MISS ]] && exit 1
exit 0
