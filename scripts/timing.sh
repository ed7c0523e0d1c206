# Sourced by the test scripts: `timed LABEL COMMAND...` runs COMMAND and prints how long it took to stderr,
# so a CI log shows what each set-up step cost (cold caches make some of them minutes long).
timed() {
  local label="$1" start=$SECONDS rc=0
  shift
  "$@" || rc=$?
  echo "[time] $label: $((SECONDS - start)) s$([[ $rc -eq 0 ]] || echo " (failed, exit $rc)")" >&2
  return "$rc"
}
