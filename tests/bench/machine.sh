# How busy the machine is while a benchmark runs, shared by the bench scripts (sourced).
# A script calls vm_start once its temp dir exists, stops $VMSTAT_PID in its cleanup, and
# reports vm_stats over the marks around each phase, so a noisy neighbour shows in the results.
#
#   vm_start DIR        start `vmstat -n 1` into DIR/vmstat.log (sets VMSTAT_LOG, VMSTAT_PID)
#   vm_mark             the log's current line count: a phase is the lines between two marks
#   vm_stats FROM [TO]  mean steal and us+sy over lines (FROM, TO]: "steal busy" or "- -"
#   vm_baseline SECONDS sample an idle period (sets BASE_STEAL, BASE_BUSY), warn when busy

vm_start() {
  VMSTAT_LOG="$1/vmstat.log"
  vmstat -n 1 >"$VMSTAT_LOG" 2>/dev/null &
  VMSTAT_PID=$!
}

vm_mark() { wc -l <"$VMSTAT_LOG" | tr -d ' '; }

# The first data line (averages since boot) is never used.
vm_stats() {
  local from="${1:-0}" to="${2:-}"
  [[ -n "$to" ]] || to="$(vm_mark)"
  awk -v from="$from" -v to="$to" '
    NR == 2 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    NR <= 3 || NR <= from || NR > to { next }
    col["st"] && $1 ~ /^[0-9]+$/ { n++; st += $col["st"]; busy += $col["us"] + $col["sy"] }
    END { if (n) printf "%.1f %.1f\n", st / n, busy / n; else print "- -" }
  ' "$VMSTAT_LOG"
}

# Other processes (builds, tests) take CPU that vmstat does not count as steal.
vm_baseline() {
  sleep "$1"
  read -r BASE_STEAL BASE_BUSY <<<"$(vm_stats 0)"
  if [[ "$BASE_BUSY" != - ]]; then
    printf '   %s\n' "baseline before measuring: ${BASE_BUSY}% CPU busy, ${BASE_STEAL}% steal" >&2
    if awk -v b="$BASE_BUSY" 'BEGIN { exit !(b > 10) }'; then
      printf '   %s\n' "WARNING: the machine is not idle (other processes use ${BASE_BUSY}% CPU): results will be noisy" >&2
    fi
  fi
}
