#!/bin/bash
# Perplexity of synthetic qwen3moe and deepseek2 models (written by make-model, with the stories260K SentencePiece
# tokenizer embedded so both tools tokenize the same text into the same ids) computed by changjuan-cli and by
# llama.cpp's llama-perplexity side by side, same chunking (ctx 128, 20 chunks), f16 KV cache in both.
# llama-perplexity runs with OMP_WAIT_POLICY=PASSIVE (on a loaded machine its spinning threads crawl otherwise).
# usage: scripts/moe_ppl_vs_llamacpp.sh CHANGJUAN_BIN_DIR LLAMA_CPP_BIN_DIR [WORK_DIR]
# Prints, per model: both PPLs and |Δ ln PPL|.
set -euo pipefail
CJ=$1/changjuan-cli
LP=$2/llama-perplexity
W=${3:-$(mktemp -d)}
SRC=$(cd "$(dirname "$0")/.." && pwd)
TOK=$SRC/tests/data/models/stories260K/tok512.bin
mkdir -p "$W"
# Text: 700 lines of words drawn (fixed seed) from the committed stories260K sample.
python3 - "$SRC/tests/data/models/stories260K/expected_greedy_t0_n256.txt" "$W/text.txt" <<'PY'
import random, sys
w = open(sys.argv[1]).read().split()
r = random.Random(5)
open(sys.argv[2], 'w').write('\n'.join(' '.join(r.choice(w) for _ in range(r.randint(5, 14))) for _ in range(700)) + '\n')
PY
Q3M="--arch qwen3moe --layers 4 --embd 256 --heads 4 --kv-heads 2 --head-dim 64 --experts 16 --experts-used 4 --expert-ff 256 --seed 3"
DS2="--arch deepseek2 --layers 4 --dense-lead 1 --ff 512 --embd 256 --heads 4 --q-lora 128 --kv-lora 64 --qk-nope 32 --qk-rope 32 --v-head 32 --experts 16 --experts-used 4 --expert-ff 256 --shared-experts 1 --seed 4"
DS2S="$DS2 --sigmoid --expert-norm --expert-scale 2.5 --shared-experts 2"
run() {  # name, make-model args
  local m=$W/$1.gguf
  "$CJ" make-model $2 --tokenizer "$TOK" --out "$m" 2>/dev/null
  local a b
  for try in 1 2 3; do  # llama-perplexity has been seen to stop early (exit 0, no estimate) on the loaded machine
    a=$(OMP_WAIT_POLICY=PASSIVE "$LP" -m "$m" -f "$W/text.txt" -c 128 -b 128 -t 2 --chunks 20 2>&1 | sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p' || true)
    [ -n "$a" ] && break
  done
  b=$("$CJ" perplexity --model "$m" --file "$W/text.txt" --ctx 128 --threads 2 --chunks 20 2>&1 | sed -n 's/^PPL = \([0-9.]*\).*/\1/p')
  python3 -c "import math,sys; a,b=float(sys.argv[2]),float(sys.argv[3]); print('%-22s llama.cpp %10.4f  changjuan %10.4f  |d ln PPL| %.2e' % (sys.argv[1], a, b, abs(math.log(a/b))))" "$1" "$a" "$b"
}
for t in ${TYPES:-f32 f16 q8_0 q4_k}; do
  run "qwen3moe_$t" "$Q3M --type $t"
  run "deepseek2_$t" "$DS2 --type $t"
done
[ -n "${TYPES:-}" ] || run "deepseek2_sigmoid_f32" "$DS2S --type f32"
[ -n "${TYPES:-}" ] || run "deepseek2_yarn_f32" "$DS2 --type f32 --rope-scaling yarn --rope-factor 4 --rope-orig-ctx 64"
