#!/usr/bin/env bash
# The extension's tests, run by the repository's `npm test` once the daemon is built:
#   extension unit  type-check, then node --test: the client against the real daemon, the tree model, the
#                   webview's messages
#   extension e2e   `npm run package`, then the .vsix installed into code-server and driven by Playwright with
#                   Debian's Chromium (scripts/e2e-setup.sh caches those outside the repository)
# Ends with one "<suite>: N passed, N failed" line per suite; screenshots and logs go to out/e2e/.
set -uo pipefail
ext="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(dirname "$ext")"
cd "$ext"
# shellcheck source=../../scripts/timing.sh
source "$root/scripts/timing.sh"
status=0
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  timed "set-up: the extension's npm packages" npm ci --no-audit --no-fund --loglevel=error || exit 1
fi

count() { grep -oE "^ℹ $1 [0-9]+" "$2" | awk '{ n += $3 } END { print n + 0 }'; }
unit_log="$(mktemp)"; e2e_log="$(mktemp)"

# Unit tests: a failed type-check counts as one failure.
typecheck_failed=0
npm run --silent typecheck || { typecheck_failed=1; status=1; }
node esbuild.mjs --tests || status=1
timed "tests: extension unit" node --test --test-reporter=spec out/test/unit/ 2>&1 | tee "$unit_log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

# End to end: on the .vsix a user would install. A failed packaging counts as one failure.
package_failed=0
if timed "set-up: end-to-end tools (Node 24, code-server, Chromium)" bash "$root/scripts/e2e-setup.sh" all >/dev/null &&
   vsix="$(timed "set-up: npm run package (linux-x64)" bash "$root/scripts/package.sh")"; then
  CNN_INTERPRET_VSIX="$vsix" timed "tests: extension e2e" node --test --test-reporter=spec --test-timeout=1200000 out/test/e2e/ 2>&1 | tee "$e2e_log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  echo "screenshots and logs: $root/out/e2e/"
else
  package_failed=1; status=1
fi

echo "extension unit: $(count pass "$unit_log") passed, $(( $(count fail "$unit_log") + typecheck_failed )) failed"
echo "extension e2e: $(count pass "$e2e_log") passed, $(( $(count fail "$e2e_log") + package_failed )) failed"
rm -f "$unit_log" "$e2e_log"
exit "$status"
