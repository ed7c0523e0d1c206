#!/usr/bin/env bash
# Fuzzes one parser for a set time with SharpFuzz + AFL++ (not part of CI):
#   bash scripts/fuzz.sh image|checkpoint|safetensors|onnx [SECONDS=300]
# Seeds come from the repository's corpora; findings land in out/fuzz/TARGET/default/crashes. Turn each crash into a
# regression test (copy it into tests/corpus/ and extend the corpus tests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:?usage: scripts/fuzz.sh image|checkpoint|safetensors|onnx [SECONDS]}"
seconds="${2:-300}"
command -v afl-fuzz >/dev/null || { echo "Installing AFL++ (Debian's afl++)…" >&2; apt-get install -y -qq afl++ >&2; }
tools="${XDG_CACHE_HOME:-$HOME/.cache}/cnn-interpret/tools"
[[ -x "$tools/sharpfuzz" ]] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >&2

out="$root/out/fuzz/$target"
build="$out/bin"
dotnet publish "$root/tests/CnnInterpret.Fuzz" -c Release -o "$build" --nologo -v q >&2
for dll in CnnInterpret.Core.dll SixLabors.ImageSharp.dll; do "$tools/sharpfuzz" "$build/$dll" >&2 || true; done

seeds="$out/seeds"
rm -rf "$seeds" && mkdir -p "$seeds"
case "$target" in
  image) find "$root/tests/corpus/images" -type f -size -64k -exec cp {} "$seeds/" \; ;;
  checkpoint) cp "$root"/tests/CnnInterpret.Tests/Checkpoints/fixtures/*.pth "$root"/tests/corpus/models/*.pth "$seeds/" ;;
  safetensors) cp "$root"/tests/corpus/models/empty.safetensors "$seeds/"; head -c 4096 "$root/models/fashion-vgg.safetensors" > "$seeds/head.safetensors" ;;
  onnx) cp "$root"/tests/corpus/models/*.onnx "$seeds/" ;;
esac
find "$seeds" -size 0 -delete

# A new run starts fresh; the previous one's findings are kept beside it.
[[ -d "$out/default" ]] && mv "$out/default" "$out/previous-$(date +%Y%m%d-%H%M%S)"
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
started=$(date +%s)
timeout --preserve-status "$seconds" afl-fuzz -i "$seeds" -o "$out" -t 10000 -m none -- dotnet "$build/CnnInterpret.Fuzz.dll" "$target" >&2 || true
stats="$out/default/fuzzer_stats"
if [[ ! -f "$stats" ]] || (( $(awk -F': *' '/^start_time/ { print $2 }' "$stats") < started )); then
  echo "error: afl-fuzz did not run (see its output above; is another fuzzer using $out?)." >&2
  exit 1
fi
echo "$(grep -E '^(execs_done|saved_crashes|saved_hangs)' "$stats" | tr -s ' ' | paste -sd ' ')" >&2
crashes=$(find "$out/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
hangs=$(find "$out/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
echo "fuzzed $target for $seconds s: $crashes crash(es), $hangs hang(s); findings in $out/default"
