#!/bin/bash
# Decode/prefill of MoE models side by side with llama-bench, alternating, 2 threads.
# usage: scripts/moe_bench_vs_llamacpp.sh [--llama-passive] CHANGJUAN_BIN_DIR LLAMA_CPP_BIN_DIR ROUNDS MODEL.gguf...
# llama-bench runs with llama.cpp's DEFAULT thread policy (its OpenMP threads spin at barriers, as our pool does):
# the fair comparison on a quiet machine. --llama-passive runs it with OMP_WAIT_POLICY=PASSIVE instead: on a machine
# oversubscribed by other work the spinning threads lose their time slices and llama.cpp decodes several times
# slower (docs/engine.md), but on a quiet machine PASSIVE handicaps llama.cpp.
set -uo pipefail
LLAMA_ENV=()
if [ "${1:-}" = "--llama-passive" ]; then
  LLAMA_ENV=(OMP_WAIT_POLICY=PASSIVE)
  shift
fi
CJ=$1/changjuan-cli
LB=$2/llama-bench
ROUNDS=$3
shift 3
echo "load: $(uptime)"
for m in "$@"; do
  for r in $(seq "$ROUNDS"); do
    "$CJ" bench --model "$m" --threads 2 --prompt 128 --gen 32 --repeats 1 --no-bandwidth --json 2>/dev/null |
      python3 -c "import json,sys; j=json.load(sys.stdin); print('changjuan %s round %s prefill %.2f decode %.2f bytes/token %d' % (sys.argv[1], sys.argv[2], j['prefill_tok_s'], j['decode_tok_s'], j['bytes_per_token']))" "$(basename "$m")" "$r"
    env "${LLAMA_ENV[@]}" "$LB" -m "$m" -t 2 -p 128 -n 32 -r 1 -o json 2>/dev/null |
      python3 -c "
import json,sys
for t in json.load(sys.stdin):
    kind = 'prefill' if t['n_prompt'] > 0 else 'decode'
    print('llama.cpp%s %s round %s %s %.2f' % (sys.argv[3], sys.argv[1], sys.argv[2], kind, t['avg_ts']))" "$(basename "$m")" "$r" "${LLAMA_ENV:+ (passive)}"
  done
done
echo "load: $(uptime)"
