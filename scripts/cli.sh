#!/usr/bin/env bash
# `npm run --silent cli -- <command>`: builds when needed, then runs the cnn-interpret command.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/build.sh"
exec dotnet "$root/src/CnnInterpret.Cli/bin/Release/net10.0/cnn-interpret.dll" "$@"
