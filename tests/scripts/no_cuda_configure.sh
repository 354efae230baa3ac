#!/usr/bin/env bash
# A machine without nvcc: configuring with the CUDA compiler hidden (-DCMAKE_CUDA_COMPILER=/nonexistent) succeeds
# with the CUDA backend OFF, and stays OFF when CMake runs again in that build folder. (The build and the suite
# without CUDA are checked by hand; see docs/cuda.md.)
set -u
BIN=$1; SRC=$2
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cmake -S "$SRC" -B "$tmp/b" -DCMAKE_CUDA_COMPILER=/nonexistent -DCHANGJUAN_UI=OFF > "$tmp/log" 2>&1
check "configure succeeds (see the log below)" '[ $? -eq 0 ] || { tail -20 "$tmp/log"; false; }'
check "the CUDA backend is OFF" 'grep -q "CUDA backend OFF" "$tmp/log"'
cmake "$tmp/b" > "$tmp/log2" 2>&1
check "a second configure keeps it OFF" '[ $? -eq 0 ] && grep -q "CUDA backend OFF" "$tmp/log2"'
[ $fails -eq 0 ] && echo "no_cuda_configure: all passed"
exit $fails
