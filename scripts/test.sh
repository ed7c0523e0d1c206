#!/usr/bin/env bash
# `npm test`: every test. Installs test dependencies, builds (the .NET analyzers run in the build, warnings as
# errors), runs the .NET tests (unit, model, daemon process and CLI tests), then the extension's lint (ESLint), unit
# and end-to-end tests, and prints one summary line each.
#
# With CI=true every cache the tests would otherwise reuse between runs (NuGet and npm packages, NuGet's
# HTTP cache, the test fixtures, Node 24 and code-server, the daemon's cache folder) starts empty, in a
# folder of its own that is deleted afterwards: CI proves the cold path every time. That folder is under
# out/, inside the checkout, because CI machines often mount /tmp noexec and the cached tools must run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=timing.sh
source "$root/scripts/timing.sh"
if [[ "${CI:-}" == true ]]; then
  cold="$root/out/ci-cold-cache"
  rm -rf "$cold"
  mkdir -p "$cold"/{xdg,nuget,nuget-http,npm,dotnet-home}
  trap 'rm -rf "$cold"' EXIT
  export XDG_CACHE_HOME="$cold/xdg" NUGET_PACKAGES="$cold/nuget" NUGET_HTTP_CACHE_PATH="$cold/nuget-http" \
         npm_config_cache="$cold/npm" DOTNET_CLI_HOME="$cold/dotnet-home" CNN_INTERPRET_CACHE="$cold/xdg/cnn-interpret"
  unset CNN_INTERPRET_TEST_FIXTURES CNN_INTERPRET_E2E_CACHE
  echo "CI=true: every cache starts empty under $cold (deleted at the end)." >&2
  # Build outputs of an earlier run would skip the restore; a clean checkout has none, a developer's may.
  rm -rf src/*/bin src/*/obj tests/*/bin tests/*/obj out/package extension/node_modules extension/daemon
fi
timed "set-up: test dependencies (apt, photos, fixtures)" bash scripts/test-deps.sh
timed "set-up: restore and build (.NET)" bash scripts/build.sh
log="$(mktemp)"
set +e
timed "tests: .NET" dotnet test CnnInterpret.sln -c Release --no-build --nologo -v q --logger "console;verbosity=normal" 2>&1 | tee "$log" | grep -vE '^\s+Passed '
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
