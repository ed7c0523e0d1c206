#!/usr/bin/env bash
# `npm run explain -- IMAGE [--model M]`: the main job on a fresh machine. Restores and builds, explains
# the image with the embedded model, writes an HTML report and prints its path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -eq 0 ]]; then
  echo "usage: npm run explain -- IMAGE [--model M]   (try: npm run explain -- models/samples/ankle-boot-0.png)" >&2
  exit 64
fi
out="${CNN_INTERPRET_REPORT_DIR:-$root/out/report}"
# npm runs scripts from the repository root; relative paths were typed where the user stands (INIT_CWD).
cd "${INIT_CWD:-$PWD}"
bash "$root/scripts/cli.sh" report --out "$out" "$@"
