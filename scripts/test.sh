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
count() { grep -oE "$1: +[0-9]+" "$log" | awk '{ n += $2 } END { print n + 0 }'; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
rm -f "$log"
echo "dotnet: $passed passed, $failed failed, $skipped skipped"
exit "$status"
