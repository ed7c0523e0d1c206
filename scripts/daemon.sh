#!/usr/bin/env bash
# `npm run --silent daemon`: the JSON-RPC daemon on stdin/stdout (what the extension launches).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/build.sh" </dev/null
exec dotnet "$root/src/CnnInterpret.Daemon/bin/Release/net10.0/cnn-interpret-daemon.dll" "$@"
