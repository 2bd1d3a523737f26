# Temporary files, child processes and their clean-up, shared by the bench scripts (sourced).
#
#   bench_setup NAME      make $TMP (sigil-NAME-bench.*) and an empty PIDS array; on exit stop
#                         every pid in PIDS and remove $TMP (kept on failure or KEEP_TMP=1)
#   require_tools TOOL…   exit 2 naming the first tool that is not installed
#   wait_http URL SECONDS return once URL answers 200, fail after SECONDS

bench_setup() {
  TMP="$(mktemp -d -t "sigil-$1-bench.XXXXXX")"
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ "${KEEP_TMP:-0}" == 1 || $rc -ne 0 ]]; then echo "bench: logs kept in $TMP" >&2; else rm -rf -- "$TMP"; fi
  exit "$rc"
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make bench installs it through run.sh)" >&2; exit 2; }
  done
}

wait_http() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true)" == 200 ]] && return 0
    sleep 0.2
  done
  echo "bench: $1 did not answer 200 within $2 s" >&2
  return 1
}
