#!/usr/bin/env bash
# `npm run package`: the VS Code extension as a .vsix that needs nothing else installed.
#  1. Publishes the daemon self-contained for linux-x64 (the .NET runtime inside: users of the extension
#     need no .NET) into extension/daemon/, building in its own artifacts folder (out/package/) so it never
#     touches the bin/ and obj/ folders of a developer build.
#  2. Drops the native libraries TorchSharp never loads (libtorch_python.so, the *_test.so, backends for
#     mobile and ahead-of-time compiled models), copies models/ beside the daemon, and checks that the
#     trimmed daemon still answers (extension/scripts/daemon-smoke.mjs).
#  3. Bundles the extension with esbuild and packs it with @vscode/vsce (Node 24 from scripts/e2e-setup.sh).
# Prints the .vsix path on stdout; progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ext="$root/extension"
stage="$root/out/package"
rid=linux-x64

if [[ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]]; then
  echo "error: packaging builds the linux-x64 daemon and runs it to check it; run it on Linux x64." >&2
  exit 1
fi
command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK (dotnet) is needed to publish the daemon." >&2; exit 1; }

# shellcheck disable=SC1090
source "$(bash "$root/scripts/e2e-setup.sh" node)" # NODE24
mkdir -p "$stage"

if [[ ! -d "$ext/node_modules" || "$ext/package-lock.json" -nt "$ext/node_modules/.package-lock.json" ]]; then
  echo "Installing the extension's npm packages…" >&2
  (cd "$ext" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

echo "Publishing the daemon (self-contained, $rid)…" >&2
rm -rf "$stage/daemon"
dotnet publish "$root/src/CnnInterpret.Daemon/CnnInterpret.Daemon.csproj" -c Release -r "$rid" --self-contained true \
  --artifacts-path "$stage/artifacts" -o "$stage/daemon" -p:DebugType=none -p:DebugSymbols=false \
  --nologo -v q -clp:ErrorsOnly 1>&2

# Native libraries libLibTorchSharp.so never loads (ldd: it needs libtorch, libc10, libtorch_cpu, libgomp).
unused=(libtorch_python.so libjitbackend_test.so libtorchbind_test.so libbackend_with_compiler.so
        libaoti_custom_ops.so libnnapi_backend.so libshm.so)
for f in "${unused[@]}"; do rm -f "$stage/daemon/$f"; done
rm -f "$stage/daemon"/*.pdb "$stage/daemon"/*.xml

# The built-in models beside the daemon (ModelRegistry looks for models/ next to its binaries). Scripts
# stay in the repository; weights fetched later (hundreds of MB) are not bundled.
mkdir -p "$stage/daemon/models"
(cd "$root/models" && find . -type f ! -path './scripts/*' -size -100M -print0 | xargs -0 -I{} cp --parents {} "$stage/daemon/models/")

(cd "$ext" && "$NODE24" scripts/daemon-smoke.mjs "$stage/daemon/cnn-interpret-daemon" "$root/models/samples/ankle-boot-0.png")

rm -rf "$ext/daemon"
mv "$stage/daemon" "$ext/daemon"

echo "Packing the extension…" >&2
version="$("$NODE24" -p 'require(process.argv[1]).version' "$ext/package.json")"
vsix="$ext/cnn-interpret-$version.vsix"
rm -f "$vsix"
(
  cd "$ext"
  PATH="$(dirname "$NODE24"):$PATH" npm run --silent typecheck >&2
  PATH="$(dirname "$NODE24"):$PATH" "$NODE24" node_modules/@vscode/vsce/vsce package --no-dependencies --target linux-x64 \
    --allow-missing-repository --out "$vsix" >&2
)
echo "$(du -h "$vsix" | cut -f1) $vsix" >&2
echo "$vsix"
