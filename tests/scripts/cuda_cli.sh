#!/usr/bin/env bash
# --backend cuda on the commands that take it (generate, bench, bench-context): where it cannot run (no nvcc at
# build time, or no usable GPU) each exits non-zero at once with one line naming why; --device-kv-mb and
# --gpu-layers are refused on the CPU; a bad --backend is refused. On a machine where cuda runs, the GPU run itself
# is scripts/gpu-check.sh's, and this test checks only the refusals on the CPU.
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$CLI" make-model --arch qwen2 --layers 1 --embd 64 --heads 2 --ff 128 --tokenizer "$SRC/tests/data/models/stories260K/tok512.bin" \
  --out "$tmp/m.gguf" > /dev/null
check "make-model exits 0" '[ $? -eq 0 ]'
runs_cuda=0
"$CLI" info --json | python3 -c 'import json,sys; sys.exit(0 if "cuda" in json.load(sys.stdin)["backends"] else 1)' && runs_cuda=1
if [ $runs_cuda -eq 0 ]; then
  for cmd in "generate --prompt x -n 2" "bench --prompt 8 --gen 2 --repeats 1" "bench-context --ctx 600 --prompt-tokens 512 --edit-tail 8"; do
    start=$(date +%s)
    $CLI $cmd --model "$tmp/m.gguf" --backend cuda > "$tmp/out" 2> "$tmp/err"
    rc=$?
    check "$cmd --backend cuda fails (rc $rc)" '[ $rc -ne 0 ]'
    check "$cmd --backend cuda: one line naming why" '[ "$(grep -c . "$tmp/err")" -eq 1 ] && grep -q "backend cuda" "$tmp/err" || { cat "$tmp/err"; false; }'
    check "$cmd --backend cuda stops at once" '[ $(( $(date +%s) - start )) -lt 20 ]'
  done
  start=$(date +%s)
  timeout 30 "$CLI" serve --model "$tmp/m.gguf" --backend cuda --port 0 > "$tmp/out" 2> "$tmp/err"
  rc=$?
  check "serve --backend cuda fails at once (rc $rc)" '[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $(( $(date +%s) - start )) -lt 20 ]'
  check "serve --backend cuda: one line naming why" 'grep -q "backend cuda" "$tmp/err" || { cat "$tmp/err"; false; }'
else
  echo "cuda_cli: cuda runs here; the refusals without a device are not reachable"
fi
"$CLI" generate --model "$tmp/m.gguf" --prompt x -n 2 --gpu-layers 1 > /dev/null 2> "$tmp/err2"
check "--gpu-layers on the CPU is refused" '[ $? -ne 0 ] && grep -q "CUDA backend" "$tmp/err2"'
"$CLI" generate --model "$tmp/m.gguf" --prompt x -n 2 --backend tpu > /dev/null 2> "$tmp/err3"
check "--backend tpu is refused" '[ $? -ne 0 ] && grep -q "cpu or cuda" "$tmp/err3"'
[ $fails -eq 0 ] && echo "cuda_cli: all passed"
exit $fails
