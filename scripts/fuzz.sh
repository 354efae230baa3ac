#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz/README.md) one after the other, each for SECONDS (default 60), under nice.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: gguf safetensors tokenizer_json llama2c text_import http_request
# Builds them with clang + ASan + UBSan + libFuzzer in build-fuzz/ (installs clang from Debian when missing).
# Each run starts from a copy of tests/fuzz/corpus/<target>/ plus tests/fuzz/regressions/<target>/ in
# build-fuzz/fuzz-out/<target>/ (the repository's corpus is not touched). Prints the executions per target;
# exits 1 when a target crashed, leaked, timed out or ran out of memory (the input is saved there: copy it to
# tests/fuzz/regressions/<target>/ and fix the bug).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
ALL=(gguf safetensors tokenizer_json llama2c text_import http_request)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
BUILD=${CJ_FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${CJ_JOBS:-$(nproc)}

# clang and its libFuzzer runtime (Debian: clang + libclang-rt-dev).
if ! command -v clang++ >/dev/null || [ ! -f "$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true)" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "fuzz: installing clang and libclang-rt-dev" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >/dev/null
fi

# The project's other dependencies (scripts/setup.sh), then the fuzz build: no GUI, no CUDA, only the targets.
bash scripts/setup.sh
LAUNCHER=()
if command -v ccache >/dev/null; then LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHANGJUAN_FUZZ=ON \
  -DCHANGJUAN_UI=OFF -DCHANGJUAN_CUDA=OFF "${LAUNCHER[@]}" >/dev/null
for t in "${TARGETS[@]}"; do
  [ -f "tests/fuzz/fuzz_$t.cpp" ] || { echo "fuzz: no target '$t' (have: ${ALL[*]})" >&2; exit 2; }
done
cmake --build "$BUILD" -j "$JOBS" --target $(printf 'fuzz_%s ' "${TARGETS[@]}")

OUT="$BUILD/fuzz-out"
status=0
summary=()
for t in "${TARGETS[@]}"; do
  work="$OUT/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/crashes"
  cp tests/fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null || true
  find tests/fuzz/regressions/"$t" -type f ! -name '.*' -exec cp {} "$work/corpus/" \; 2>/dev/null || true
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s" >&2
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    nice -n 10 "$BUILD/bin/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/crashes/" \
    "$work/corpus" >"$work/log.txt" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log.txt" | grep -o '[0-9]*$' | tail -1)
  corpus=$(find "$work/corpus" -type f | wc -l)
  found=$(find "$work/crashes" -type f | wc -l)
  line="$t: ${execs:-?} executions in ${SECONDS_PER_TARGET}s, corpus $corpus files, $found new crash(es)"
  if [ $rc -ne 0 ] || [ "$found" -gt 0 ]; then
    status=1
    line="$line — FAILED (rc $rc; see $work/log.txt and $work/crashes/)"
  fi
  summary+=("$line")
  echo "$line" >&2
done
echo "---"
printf '%s\n' "${summary[@]}"
exit $status
