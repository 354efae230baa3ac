#!/usr/bin/env bash
# The paged KV cache end to end: a long prompt under a small host budget with a disk spill file (output equal to
# the all-host run, budget respected), q8_0 KV, session save → load (no prefill, same output), a refused snapshot,
# kv-bench --json, bench-context with the issue's option names. The 131072-token run is documented in docs/kv_cache.md (it takes minutes on 2 cores).
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
PY=/usr/bin/python3
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
D=$SRC/tests/data/models/stories260K

"$CLI" make-model --arch qwen2 --layers 2 --embd 64 --heads 2 --kv-heads 1 --ff 128 --tokenizer "$D/tok512.bin" \
  --rope-scaling yarn --rope-factor 4 --rope-orig-ctx 32768 --ctx-train 131072 --out "$tmp/m.gguf" >/dev/null
check "make-model exits 0" '[ $? -eq 0 ]'
$PY -c "
import random; random.seed(1)
w='the cat sat on a mat and dog ran far away when sun was high Lily Tim played with ball'.split()
open('$tmp/p.txt','w').write(' '.join(random.choice(w) for _ in range(3000)))"
G=("$CLI" generate --model "$tmp/m.gguf" --prompt-file "$tmp/p.txt" -n 24 --temp 0 --ctx 8192 --threads 2)
"${G[@]}" --stats-json "$tmp/host.json" > "$tmp/host.txt"
check "all-host run exits 0" '[ $? -eq 0 ]'
"${G[@]}" --kv-host-mb 1 --kv-disk "$tmp/spill" --stats-json "$tmp/disk.json" > "$tmp/disk.txt"
check "tiered run exits 0" '[ $? -eq 0 ]'
check "host+disk output equals all-host output" 'cmp -s "$tmp/host.txt" "$tmp/disk.txt" && [ -s "$tmp/host.txt" ]'
check "host budget respected, blocks spilled and read back" '$PY -c "
import json,sys; k=json.load(open(sys.argv[1]))[\"kv\"]
assert k[\"host_budget\"]==1<<20 and 0<k[\"host_peak\"]<=k[\"host_budget\"] and k[\"demoted\"]>0 and k[\"disk_reads\"]>0, k" "$tmp/disk.json"'
check "spill file removed" '[ ! -e "$tmp/spill" ]'
"${G[@]}" --kv-type q8_0 > "$tmp/q8.txt"
check "q8_0 KV runs" '[ $? -eq 0 ] && [ -s "$tmp/q8.txt" ]'

"${G[@]}" --save-session "$tmp/s.kv" > "$tmp/s1.txt"
check "save-session writes a file" '[ -s "$tmp/s.kv" ]'
"${G[@]}" --load-session "$tmp/s.kv" --stats-json "$tmp/load.json" > "$tmp/s2.txt" 2>/dev/null
check "load-session exits 0" '[ $? -eq 0 ]'
check "restored session continues identically" 'cmp -s "$tmp/s1.txt" "$tmp/s2.txt"'
check "restored session skips the prefill" '$PY -c "
import json,sys; j=json.load(open(sys.argv[1])); assert j[\"reused_tokens\"]>1000 and j[\"prompt_tokens\"]==1, j" "$tmp/load.json"'
"${G[@]}" --load-session "$tmp/s.kv" --kv-type q8_0 > /dev/null 2> "$tmp/err.txt"
check "a mismatched snapshot is refused" '[ $? -ne 0 ] && grep -q "KV type f16" "$tmp/err.txt"'
head -c 1000 "$tmp/s.kv" > "$tmp/cut.kv"
"${G[@]}" --load-session "$tmp/cut.kv" > /dev/null 2> "$tmp/err2.txt"
check "a truncated snapshot is refused" '[ $? -ne 0 ] && grep -q "truncated" "$tmp/err2.txt"'

"$CLI" kv-bench --model "$tmp/m.gguf" --prompt 4096 --edit 256 --threads 2 --json > "$tmp/b.json"
check "kv-bench reuses the unedited prefix" '$PY -c "
import json,sys; j=json.load(open(sys.argv[1])); assert j[\"reused_tokens\"]==3840 and j[\"cpu_ratio\"]<0.5, j" "$tmp/b.json"'

# The issue's spelling: bench-context with --ctx/--prompt-tokens/--edit-tail, a host budget and a spill folder.
"$CLI" bench-context --model "$tmp/m.gguf" --ctx 4200 --prompt-tokens 4096 --edit-tail 256 --host-kv-mb 1 \
  --kv-dir "$tmp/kvd" --threads 2 --json > "$tmp/bc.json"
check "bench-context reports reuse and bytes per tier" '$PY -c "
import json,sys; j=json.load(open(sys.argv[1])); t=j[\"bytes_per_tier\"]
assert j[\"reused_tokens\"]==3840 and j[\"ctx\"]==4200 and j[\"cold_ttft_ms\"]>j[\"warm_ttft_ms\"]>0, j
assert t[\"device\"]==0 and 0<t[\"host\"]<=1<<20 and t[\"disk\"]>0, t" "$tmp/bc.json"'
"${G[@]}" --host-kv-mb 1 --kv-dir "$tmp/kvd2" > "$tmp/dir.txt"
check "generate --host-kv-mb --kv-dir equals the all-host output" 'cmp -s "$tmp/host.txt" "$tmp/dir.txt"'
"${G[@]}" --device-kv-mb 64 > /dev/null 2> "$tmp/err3.txt"
check "--device-kv-mb on the CPU path is refused, not ignored" '[ $? -ne 0 ] && grep -q "CUDA backend" "$tmp/err3.txt"'
"$CLI" bench-context --model "$tmp/m.gguf" --ctx 100 --prompt-tokens 4096 > /dev/null 2> "$tmp/err4.txt"
check "bench-context refuses a context smaller than the prompt" '[ $? -ne 0 ] && grep -q "ctx must hold" "$tmp/err4.txt"'

[ $fails -eq 0 ] && echo "kv_cli: all passed"
exit $fails
