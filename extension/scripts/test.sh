#!/usr/bin/env bash
# The extension's tests, run by the repository's `npm test` once the daemon is built:
#   extension unit  type-check, then node --test: the client against the real daemon, the tree model, the
#                   webview's messages, the panel's webview itself in a DOM (happy-dom)
#   extension vsix  `npm run package -- --target all` (CNN_INTERPRET_PACKAGE_TARGETS to pack fewer), then every
#                   platform's .vsix opened and checked statically (test/vsix: manifest target, entry point,
#                   natives of that platform only, macOS signatures, models/)
#   extension e2e   the linux-x64 .vsix installed into code-server and driven by Playwright with Debian's
#                   Chromium (scripts/e2e-setup.sh caches those outside the repository)
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
unit_log="$(mktemp)"; vsix_log="$(mktemp)"; e2e_log="$(mktemp)"

# Unit tests: a failed type-check counts as one failure.
typecheck_failed=0
npm run --silent typecheck || { typecheck_failed=1; status=1; }
node esbuild.mjs --tests || status=1
timed "tests: extension unit" node --test --test-reporter=spec out/test/unit/ out/test/webview/ 2>&1 | tee "$unit_log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

# Every platform's .vsix, checked statically; then end to end on the one this machine runs. A failed packaging
# counts as one failure of each suite it leaves without a .vsix.
package_failed=0; e2e_missing=0
targets="${CNN_INTERPRET_PACKAGE_TARGETS:-all}"
if timed "set-up: end-to-end tools (Node 24, code-server, Chromium)" bash "$root/scripts/e2e-setup.sh" all >/dev/null; then
  # shellcheck disable=SC2086
  vsixes="$(timed "set-up: npm run package -- --target ${targets// / --target }" bash "$root/scripts/package.sh" $(printf -- '--target %s ' $targets))" || package_failed=1
else
  vsixes=""; package_failed=1
fi
if [[ -n "$vsixes" ]]; then
  timed "tests: extension vsix" node --test --test-reporter=spec out/test/vsix/ 2>&1 | tee "$vsix_log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
fi
vsix="$(grep -E -- '-linux-x64-[^/]*\.vsix$' <<<"$vsixes" | head -1 || true)"
if [[ -n "$vsix" ]]; then
  CNN_INTERPRET_VSIX="$vsix" timed "tests: extension e2e" node --test --test-reporter=spec --test-timeout=1200000 out/test/e2e/ 2>&1 | tee "$e2e_log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  echo "screenshots and logs: $root/out/e2e/"
else
  e2e_missing=1
fi
[[ $package_failed -eq 0 && $e2e_missing -eq 0 ]] || status=1

echo "extension unit: $(count pass "$unit_log") passed, $(( $(count fail "$unit_log") + typecheck_failed )) failed"
echo "extension vsix: $(count pass "$vsix_log") passed, $(( $(count fail "$vsix_log") + package_failed )) failed"
echo "extension e2e: $(count pass "$e2e_log") passed, $(( $(count fail "$e2e_log") + e2e_missing )) failed"
rm -f "$unit_log" "$vsix_log" "$e2e_log"
exit "$status"
