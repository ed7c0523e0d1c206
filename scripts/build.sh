#!/usr/bin/env bash
# Builds the solution in Release when a source is newer than the binaries (restoring NuGet packages the
# first time). Build output goes to stderr: the CLI's and the daemon's stdout carry only their results.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The time of the last successful build (MSBuild leaves a binary untouched when nothing it depends on changed).
stamp="$root/out/build-release.stamp"
cli="$root/src/CnnInterpret.Cli/bin/Release/net10.0/cnn-interpret.dll"
daemon="$root/src/CnnInterpret.Daemon/bin/Release/net10.0/cnn-interpret-daemon.dll"
bench="$root/src/CnnInterpret.Bench/bin/Release/net10.0/cnn-interpret-bench.dll"
tests="$root/tests/CnnInterpret.Tests/bin/Release/net10.0/CnnInterpret.Tests.dll"
# The tests' sources count too, and .editorconfig (it sets the analyzers' severities): `npm test` runs them with --no-build, so a stale test binary would test old code.
if [[ -f "$stamp" && -f "$cli" && -f "$daemon" && -f "$bench" && -f "$tests" ]] && [[ -z "$(find "$root/src" "$root/build" "$root/tests" "$root"/Directory.*.props "$root"/Directory.Build.targets "$root/CnnInterpret.sln" "$root/.editorconfig" \
      -newer "$stamp" -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.sln' -o -name .editorconfig \) -not -path '*/bin/*' -not -path '*/obj/*' -print -quit)" ]]; then
  exit 0
fi
if ! command -v dotnet >/dev/null; then
  echo "error: the .NET SDK (dotnet) is not installed. Install .NET 10 SDK: https://dotnet.microsoft.com/download" >&2
  exit 1
fi
echo "Building CNN Interpret (Release)…" >&2
mkdir -p "$root/out"
touch "$stamp.next" # sources saved during the build make the next run build again
dotnet build "$root/CnnInterpret.sln" -c Release --nologo -v q -clp:ErrorsOnly 1>&2
mv "$stamp.next" "$stamp"
