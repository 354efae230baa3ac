#!/usr/bin/env bash
# scripts/gpu-check.sh's plumbing without a GPU: it stops at once with a one-line reason and exit code 2 (the
# GPU run itself is for a machine with one). On a machine with a GPU this test says so and checks nothing more.
set -u
BIN=$1; SRC=$2
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check: a GPU is present; run scripts/gpu-check.sh OUTDIR itself"
  exit 0
fi
start=$(date +%s)
bash "$SRC/scripts/gpu-check.sh" "$tmp/out" > "$tmp/stdout" 2> "$tmp/stderr"
rc=$?
check "exit code 2 without a GPU (got $rc)" '[ $rc -eq 2 ]'
check "one line on stderr naming the reason" '[ "$(wc -l < "$tmp/stderr")" -eq 1 ] && grep -q "^gpu-check: no NVIDIA GPU" "$tmp/stderr"'
check "the reason is in the log too" 'grep -q "no NVIDIA GPU" "$tmp/out/gpu-check.log"'
check "it stops at once" '[ $(( $(date +%s) - start )) -lt 10 ]'
check "no build was started" '[ ! -d "$SRC/build-gpu" ] || [ "$(find "$SRC/build-gpu" -newer "$tmp/stdout" | wc -l)" -eq 0 ]'
bash "$SRC/scripts/gpu-check.sh" > /dev/null 2> "$tmp/usage"
check "no OUTDIR: usage" '[ $? -ne 0 ] && grep -q "usage" "$tmp/usage"'
[ $fails -eq 0 ] && echo "gpu_check: all passed"
exit $fails
