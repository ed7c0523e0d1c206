#!/usr/bin/env bash
# `npm run package [-- --target T]`: the VS Code extension as platform-specific .vsix files that need nothing
# else installed. T is linux-x64 (the default), win32-x64, darwin-arm64, win32-arm64, or all. For each target:
#  1. Publishes the daemon self-contained for the target's .NET runtime (the .NET runtime inside: users need no
#     .NET) and trimmed (see Directory.Build.props), building in its own artifacts folder (out/package/) so it
#     never touches the bin/ and obj/ folders of a developer build. win32-arm64's is framework-dependent
#     (cnn-interpret-daemon.dll, run with the user's .NET 10): the NuGet feed we build from serves no .NET
#     runtime or apphost pack for win-arm64.
#  2. Drops the native libraries TorchSharp never loads (libtorch_python, the *_test libraries, mobile and
#     ahead-of-time backends, SkiaSharp) and libtorch_cpu.so's symbol table (92 MB unpacked, 9 MB packed);
#     on macOS points libtorch_cpu.dylib at the OpenMP library shipped beside it instead of Homebrew's (and
#     re-hashes its ad-hoc signature); copies models/ beside the daemon.
#  3. Checks the folder: linux-x64 is run (extension/scripts/daemon-smoke.mjs: loads the models, predicts,
#     explains); every target is checked statically (extension/scripts/natives.ts: each native binary is for
#     the target, macOS code signatures are valid, libraries resolve inside the folder).
#  4. Packs it with `vsce package --target` (Node 24 from scripts/e2e-setup.sh) and refuses a .vsix over 200 MB.
# Prints each .vsix path on stdout, one a line; progress and timings go to stderr.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ext="$root/extension"
stage="$root/out/package"
all_targets=(linux-x64 win32-x64 darwin-arm64 win32-arm64)
max_mb=200

usage() { echo "usage: npm run package -- [--target linux-x64|win32-x64|darwin-arm64|win32-arm64|all]" >&2; }
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --target) [[ $# -ge 2 ]] || { usage; exit 64; }; targets+=("$2"); shift 2 ;;
    --target=*) targets+=("${1#--target=}"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'." >&2; usage; exit 64 ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=(linux-x64)
if [[ " ${targets[*]} " == *" all "* ]]; then targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "error: unknown target '$t'." >&2; usage; exit 64; }
done

rid_of() {
  case "$1" in
    linux-x64) echo linux-x64 ;; win32-x64) echo win-x64 ;; darwin-arm64) echo osx-arm64 ;; win32-arm64) echo win-arm64 ;;
  esac
}

if [[ "$(uname -s)" != Linux ]]; then
  echo "error: packaging runs on Linux (it runs the linux-x64 daemon to check it, and its tools are Linux's); this is $(uname -s)." >&2
  exit 1
fi
command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK (dotnet) is needed to publish the daemon." >&2; exit 1; }
if [[ " ${targets[*]} " == *" linux-x64 "* ]] && ! command -v strip >/dev/null; then
  echo "error: 'strip' (Debian's binutils) is needed to keep the linux-x64 .vsix under $max_mb MB: apt-get install binutils." >&2
  exit 1
fi

# shellcheck disable=SC1090
source "$(bash "$root/scripts/e2e-setup.sh" node)" # NODE24
node24() { PATH="$(dirname "$NODE24"):$PATH" "$NODE24" "$@"; }
mkdir -p "$stage"

if [[ ! -d "$ext/node_modules" || "$ext/package-lock.json" -nt "$ext/node_modules/.package-lock.json" ]]; then
  echo "Installing the extension's npm packages…" >&2
  (cd "$ext" && PATH="$(dirname "$NODE24"):$PATH" npm ci --no-audit --no-fund --loglevel=error >&2)
fi
(
  cd "$ext"
  PATH="$(dirname "$NODE24"):$PATH" npm run --silent typecheck >&2
  node24 esbuild.mjs >&2 # out/scripts/natives.js
)
version="$(node24 -p 'require(process.argv[1]).version' "$ext/package.json")"
# The README's relative links and images, as the Marketplace will show them: in the repository's extension/
# folder (vsce ignores repository.directory).
repo_url="$(node24 -p 'const r = require(process.argv[1]).repository; (r.url || r).replace(/\.git$/, "")' "$ext/package.json")"
links=(--baseContentUrl "$repo_url/blob/HEAD/extension" --baseImagesUrl "$repo_url/raw/HEAD/extension")

# Native libraries libLibTorchSharp never loads (ldd, objdump -p, the Mach-O load commands: it needs libtorch,
# libc10, libtorch_cpu and their OpenMP), and SkiaSharp's (TorchSharp's image helpers; the daemon decodes images
# with ImageSharp, and the linux-x64 daemon, which has no SkiaSharp, passes every test).
unused_linux=(libtorch_python.so libjitbackend_test.so libtorchbind_test.so libbackend_with_compiler.so
              libaoti_custom_ops.so libnnapi_backend.so libshm.so)
unused_darwin=(libtorch_python.dylib libshm.dylib libSkiaSharp.dylib)
unused_win32=(libSkiaSharp.dll)

package_one() {
  local target="$1" rid os daemon start=$SECONDS
  rid="$(rid_of "$target")"
  os="${target%%-*}"
  daemon="$stage/$target/daemon"
  echo "[$target] Publishing the daemon ($rid)…" >&2
  rm -rf "$stage/$target"
  mkdir -p "$stage/$target"
  local mode=(--self-contained true -p:PublishTrimmed=true)
  [[ "$target" != win32-arm64 ]] || mode=(--self-contained false -p:UseAppHost=false)
  dotnet publish "$root/src/CnnInterpret.Daemon/CnnInterpret.Daemon.csproj" -c Release -r "$rid" "${mode[@]}" \
    --artifacts-path "$stage/artifacts" -o "$daemon" -p:DebugType=none -p:DebugSymbols=false -p:DisableTransitiveFrameworkReferenceDownloads=true \
    --nologo -v q -clp:ErrorsOnly 1>&2
  echo "[time] $target: publish $((SECONDS - start)) s" >&2

  local unused_var="unused_$os[@]"
  for f in "${!unused_var}"; do rm -f "$daemon/$f"; done
  rm -f "$daemon"/*.pdb "$daemon"/*.xml "$daemon"/*.dbg
  case "$os" in
    linux) strip --strip-unneeded "$daemon/libtorch_cpu.so" ;; # symbols stay in .dynsym; only the static table goes
    darwin) node24 "$ext/out/scripts/natives.js" fix-darwin "$daemon" ;;
  esac

  # The built-in models beside the daemon (ModelRegistry looks for models/ next to its binaries). Scripts
  # stay in the repository; weights fetched later (hundreds of MB) are not bundled.
  mkdir -p "$daemon/models"
  (cd "$root/models" && find . -type f ! -path './scripts/*' -size -100M -print0 | xargs -0 -I{} cp --parents {} "$daemon/models/")

  node24 "$ext/out/scripts/natives.js" check "$daemon" "$target"
  if [[ "$target" == linux-x64 && "$(uname -m)" == x86_64 ]]; then
    (cd "$ext" && node24 scripts/daemon-smoke.mjs "$daemon/cnn-interpret-daemon" "$root/models/samples/ankle-boot-0.png")
  else
    echo "[$target] not run here (built on $(uname -s) $(uname -m)): checked statically only." >&2
  fi

  echo "[$target] Packing the extension…" >&2
  local vsix="$ext/cnn-interpret-$target-$version.vsix"
  rm -rf "$ext/daemon" "$vsix"
  mv "$daemon" "$ext/daemon"
  local packed=0
  (cd "$ext" && node24 node_modules/@vscode/vsce/vsce package --no-dependencies --target "$target" "${links[@]}" --out "$vsix" >&2) || packed=$?
  mv "$ext/daemon" "$daemon" # the next target's daemon goes there; nothing else may see this one
  [[ $packed -eq 0 ]] || return "$packed"
  local bytes; bytes=$(stat -c %s "$vsix")
  echo "[time] $target: $((SECONDS - start)) s in all; $((bytes / 1000000)) MB: $vsix" >&2
  if (( bytes > max_mb * 1000000 )); then
    echo "error: $vsix is $((bytes / 1000000)) MB, over the $max_mb MB a Marketplace or Open VSX upload may have." >&2
    return 1
  fi
  echo "$vsix"
}

for target in "${targets[@]}"; do package_one "$target"; done
