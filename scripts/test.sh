#!/usr/bin/env bash
# `npm test`: every test. Installs test dependencies, builds, runs the .NET tests (unit, model, daemon
# process and CLI tests) and prints one summary line.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/test-deps.sh
bash scripts/build.sh
log="$(mktemp)"
set +e
dotnet test CnnInterpret.sln -c Release --no-build --nologo -v q --logger "console;verbosity=normal" 2>&1 | tee "$log" | grep -vE '^\s+Passed ' 
status=${PIPESTATUS[0]}
set -e
count() { { grep -oE "$1: +[0-9]+" "$log" || true; } | awk '{ n += $NF } END { print n + 0 }'; } # no match (no "Passed:" line when some fail) is 0, not an exit under set -e
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
[[ $passed -gt 0 || $failed -eq 0 ]] || passed=$(( $(count "Total tests") - failed - skipped )) # a failed run prints no "Passed:"
rm -f "$log"
echo "dotnet: $passed passed, $failed failed, $skipped skipped"
# The VS Code extension: unit tests, then its .vsix end to end in code-server (prints its suites' lines).
bash extension/scripts/test.sh || { [[ $status -ne 0 ]] || status=1; }
exit "$status"
