#!/usr/bin/env bash
# `npm run bench [-- --only SECTIONS] [--json] …`: builds when needed, then runs the benchmarks (src/CnnInterpret.Bench;
# `cnn-interpret bench` runs the same program). Figures go to stdout, progress to stderr.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/build.sh"
exec dotnet "$root/src/CnnInterpret.Bench/bin/Release/net10.0/cnn-interpret-bench.dll" "$@"
