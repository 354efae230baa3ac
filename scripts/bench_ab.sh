#!/bin/bash
# Two builds side by side: `changjuan-cli bench` of build A and build B in alternating pairs (A first in odd pairs, B
# first in even ones), and the ratio B / A of decode and prefill per pair, then their medians. Ratios from pairs
# taken a few seconds apart are what a shared, noisy machine can tell.
# usage: scripts/bench_ab.sh CLI_A CLI_B PAIRS MODEL [bench options...]   (default options: --threads 2 --prompt 128
#        --gen 64)
set -euo pipefail
A=$1 B=$2 N=$3 M=$4
shift 4
OPTS=("$@")
[ ${#OPTS[@]} -eq 0 ] && OPTS=(--threads 2 --prompt 128 --gen 64)
run() {
  "$1" bench --model "$M" "${OPTS[@]}" --repeats 1 --no-bandwidth --json 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["decode_tok_s"], d["prefill_tok_s"] or 0)'
}
dec=() pre=()
for i in $(seq "$N"); do
  if (( i % 2 )); then a=$(run "$A"); b=$(run "$B"); else b=$(run "$B"); a=$(run "$A"); fi
  read -r ad ap <<< "$a"
  read -r bd bp <<< "$b"
  r=$(python3 -c "import sys; a,b,c,d=map(float,sys.argv[1:]); print('%.3f %.3f' % (c/a, d/b if b else 0))" "$ad" "$ap" "$bd" "$bp")
  read -r rd rp <<< "$r"
  echo "pair $i: A decode $ad prefill $ap | B decode $bd prefill $bp | B/A decode $rd prefill $rp"
  dec+=("$rd") pre+=("$rp")
done
python3 -c "import statistics,sys; n=int(sys.argv[1]); d=sys.argv[2:2+n]; p=sys.argv[2+n:]; print('median B/A: decode %.3f prefill %.3f' % (statistics.median(map(float,d)), statistics.median(map(float,p))))" "$N" "${dec[@]}" "${pre[@]}"
