#!/usr/bin/env bash
# End-to-end checks of the engine's subcommands: make-model, convert-llama2c, generate (stats JSON, -n, --chat),
# perplexity (llama.cpp protocol; last line PPL = x) and bench --json.
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
PY=/usr/bin/python3
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
D=$SRC/tests/data/models/stories260K

# llama2.c import and the expected greedy text (run.c prints the text and a newline).
"$CLI" convert-llama2c --model "$D/stories260K.bin" --tokenizer "$D/tok512.bin" --out "$tmp/s.gguf" 2>/dev/null
check "convert-llama2c exits 0" '[ $? -eq 0 ]'
printf '' > "$tmp/empty.txt"
"$CLI" generate --model "$tmp/s.gguf" --prompt-file "$tmp/empty.txt" -n 256 --temp 0 --threads 2 \
  --stats-json "$tmp/stats.json" > "$tmp/out.txt"
check "generate exits 0" '[ $? -eq 0 ]'
check "stories260K greedy text matches run.c" 'cmp -s "$tmp/out.txt" "$D/expected_greedy_t0_n256.txt"'
check "stats json has the fields" '$PY -c "import json,sys; j=json.load(open(sys.argv[1])); assert j[\"gen_tokens\"]==256 and j[\"prompt_tokens\"]==1 and all(k in j for k in (\"ttft_ms\",\"prefill_tok_s\",\"decode_tok_s\"))" "$tmp/stats.json"'
"$CLI" generate --model "$tmp/s.gguf" --prompt "Once upon a time" -n 20 --temp 0.8 --seed 5 > "$tmp/a.txt"
"$CLI" generate --model "$tmp/s.gguf" --prompt "Once upon a time" -n 20 --temp 0.8 --seed 5 > "$tmp/b.txt"
check "seeded sampling is reproducible" 'cmp -s "$tmp/a.txt" "$tmp/b.txt" && [ -s "$tmp/a.txt" ]'

# Perplexity of the model on its own greedy text is low; the protocol needs 2 chunks' worth of tokens.
for i in 1 2 3 4; do cat "$D/expected_greedy_t0_n256.txt"; done > "$tmp/ppl.txt"
out=$("$CLI" perplexity --model "$tmp/s.gguf" --file "$tmp/ppl.txt" --ctx 128 --threads 2 2>/dev/null)
check "perplexity exits 0" '[ $? -eq 0 ]'
last=$(printf '%s\n' "$out" | tail -n 1)
check "perplexity last line is PPL = x ($last)" 'printf "%s" "$last" | grep -Eq "^PPL = [0-9]+\.[0-9]+$"'
check "perplexity of its own text is small ($last)" '$PY -c "import sys; assert 1.0 < float(sys.argv[1]) < 3.0" "${last#PPL = }"'
"$CLI" perplexity --model "$tmp/s.gguf" --file "$D/stories260K.md" --ctx 4096 >/dev/null 2>&1
check "perplexity with too few tokens fails" '[ $? -eq 1 ]'

# make-model with an embedded tokenizer, generate --chat, bench --json.
"$CLI" make-model --arch qwen3 --layers 2 --embd 64 --heads 4 --kv-heads 2 --ff 128 --head-dim 32 --type q8_0 \
  --tokenizer "$SRC/samples/tokenizer/qwen3/tokenizer.json" --seed 3 --out "$tmp/q.gguf" 2>/dev/null
check "make-model exits 0" '[ $? -eq 0 ]'
"$CLI" generate --model "$tmp/q.gguf" --prompt "你好" --chat -n 8 --temp 0 --stats-json "$tmp/q.json" >/dev/null
check "generate --chat on a random qwen3 model" '[ $? -eq 0 ] && $PY -c "import json,sys; j=json.load(open(sys.argv[1])); assert j[\"prompt_tokens\"] > 5" "$tmp/q.json"'
js=$("$CLI" bench --model "$tmp/q.gguf" --threads 2 --prompt 16 --gen 8 --repeats 2 --json)
check "bench --json fields" '$PY -c "import json,sys; j=json.loads(sys.argv[1]); assert j[\"prefill_tok_s\"] > 0 and j[\"decode_tok_s\"] > 0 and j[\"bytes_per_token\"] > 0 and \"bandwidth_gbs\" in j and \"bandwidth_utilization\" in j" "$js"'
"$CLI" make-model --arch gpt9 --out "$tmp/x.gguf" >/dev/null 2>&1
check "make-model rejects an unknown arch" '[ $? -eq 1 ]'
"$CLI" generate --model "$tmp/nonexistent.gguf" --prompt x >/dev/null 2>&1
check "generate with a missing model exits 1" '[ $? -eq 1 ]'

echo "engine_cli: $fails failed"
[ $fails -eq 0 ]
