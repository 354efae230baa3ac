#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the embedded sample.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
CLI=build/bin/changjuan-cli
OUT=${CJ_DEMO_DIR:-build/demo}
mkdir -p "$OUT"
"$CLI" info
echo "== segmenting the opening of 红楼梦 with the sample lexicon"
head -c 1200 samples/book/hongloumeng-1-20.txt > "$OUT/opening.txt"
"$CLI" segment --lexicon samples/book/lexicon.txt --file "$OUT/opening.txt" | head -n 12
