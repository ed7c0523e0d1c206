#!/usr/bin/env bash
# Builds the solution in Release when a source is newer than the binaries (restoring NuGet packages the
# first time). Build output goes to stderr: the CLI's and the daemon's stdout carry only their results.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stamp="$root/src/CnnInterpret.Cli/bin/Release/net10.0/cnn-interpret.dll"
daemon="$root/src/CnnInterpret.Daemon/bin/Release/net10.0/cnn-interpret-daemon.dll"
if [[ -f "$stamp" && -f "$daemon" ]] && [[ -z "$(find "$root/src" "$root/build" "$root"/Directory.*.props "$root"/Directory.Build.targets \
      -newer "$stamp" -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' \) -print -quit)" ]]; then
  exit 0
fi
if ! command -v dotnet >/dev/null; then
  echo "error: the .NET SDK (dotnet) is not installed. Install .NET 10 SDK: https://dotnet.microsoft.com/download" >&2
  exit 1
fi
echo "Building CNN Interpret (Release)…" >&2
dotnet build "$root/CnnInterpret.sln" -c Release --nologo -v q -clp:ErrorsOnly 1>&2
