#!/usr/bin/env bash
# scripts/gpu-check.sh OUTDIR — everything of the CUDA backend that needs a GPU, in one run (issue 22):
#   1. configures and builds for the local GPU's architecture (build-gpu/, Release, no GUI),
#   2. runs the CUDA tests (kernels against the CPU, attention with pages off the device, whole forward of tiny
#      models of each architecture and type, the backend-parameterised batch tests) and the host-side device tests,
#   3. benchmarks a random-weight Qwen2.5-7B-shaped model (make-model) in Q8_0 and Q4_K (element-by-element GEMV
#      today) with the device bandwidth measured in the same run; 8 batched
#      sequences vs one; 4k tokens with a 2k-token device KV budget (pages attended on the CPU) vs all on the device,
#   4. prints a short table last; the full log is OUTDIR/gpu-check.log, JSON results OUTDIR/*.json.
# Sized for an H100/H200 (under 8 minutes with the build). Needs nvcc, cmake and the project's libraries (ICU,
# SQLite, GTest, Google Benchmark, nlohmann-json, libcurl headers): a machine without them can take Debian
# packages carried in .gpu-deps/ (git-ignored; made on a Debian 12 machine with `scripts/gpu-check.sh --fetch-deps`,
# named in the device tool's `carry`), unpacked under /tmp.
# Without a GPU it stops at once with a one-line reason (exit 2).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS_PKGS=(libicu-dev libicu72 icu-devtools libsqlite3-dev libsqlite3-0 libgtest-dev libgmock-dev googletest
           libbenchmark-dev libbenchmark1debian nlohmann-json3-dev libcurl4-openssl-dev libcurl4 pkgconf pkgconf-bin
           libpkgconf3)

if [ "${1:-}" = "--fetch-deps" ]; then
  # All of them are 24 MB (ICU alone 20): with the 48 MB tracked tree that exceeds the device tool's 64 MiB, so
  # name only the packages the device image lacks: scripts/gpu-check.sh --fetch-deps libgtest-dev libgmock-dev …
  [ $# -gt 1 ] && { shift; DEPS_PKGS=("$@"); }
  mkdir -p "$ROOT/.gpu-deps" && cd "$ROOT/.gpu-deps" || exit 1
  apt-get download "${DEPS_PKGS[@]}" || { echo "gpu-check: apt-get download failed" >&2; exit 1; }
  ls -1 "$ROOT/.gpu-deps"
  exit 0
fi

OUT=${1:?usage: scripts/gpu-check.sh OUTDIR (or --fetch-deps)}
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
LOG=$OUT/gpu-check.log
: > "$LOG"
say() { echo "$*" | tee -a "$LOG"; }
die() { echo "gpu-check: $*" | tee -a "$LOG" >&2; exit 2; }

# 0. A GPU and nvcc, or a clear stop.
command -v nvidia-smi >/dev/null 2>&1 || die "no NVIDIA GPU here (nvidia-smi not found)"
CAP=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
[ -n "$CAP" ] || die "no NVIDIA GPU here (nvidia-smi lists no device)"
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
[ -x "$NVCC" ] || die "nvcc not found (PATH or /usr/local/cuda/bin)"
nvidia-smi -L | tee -a "$LOG"
say "compute capability sm_$CAP; $("$NVCC" --version | tail -1)"

# Carried Debian packages, if any: headers and libraries under /tmp/cj-deps.
if compgen -G "$ROOT/.gpu-deps/*.deb" >/dev/null; then
  P=/tmp/cj-deps
  mkdir -p $P
  for f in "$ROOT"/.gpu-deps/*.deb; do dpkg -x "$f" $P; done
  export CMAKE_PREFIX_PATH=$P/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export PKG_CONFIG_PATH=$P/usr/lib/x86_64-linux-gnu/pkgconfig:$P/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
  export LD_LIBRARY_PATH=$P/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export CPATH=$P/usr/include${CPATH:+:$CPATH}
  export PATH=$PATH:$P/usr/bin
  say "using the carried packages in .gpu-deps ($(ls "$ROOT"/.gpu-deps/*.deb | wc -l) files)"
fi

# 1. Build for this GPU.
B=$ROOT/build-gpu
GEN=(); command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
T0=$(date +%s)
cmake -S "$ROOT" -B "$B" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCHANGJUAN_UI=OFF -DCMAKE_CUDA_COMPILER="$NVCC" \
  -DCMAKE_CUDA_ARCHITECTURES="$CAP" >> "$LOG" 2>&1 || die "configure failed (missing libraries? see $LOG; carry them with --fetch-deps)"
grep -q "CUDA backend ON" "$LOG" || die "CMake did not enable the CUDA backend (see $LOG)"
cmake --build "$B" -j"$(nproc)" --target test_engine changjuan-cli >> "$LOG" 2>&1 || die "build failed (see $LOG)"
say "build: $(( $(date +%s) - T0 )) s"
BIN=$B/bin

# 2. Tests.
T0=$(date +%s)
"$BIN/test_engine" --gtest_filter='Cuda*:*/CudaTypes.*:*/CudaAttention.*:*/CudaForward.*:Engine/Backends.*:DevicePlan.*:*/PageSplit.*' \
  --gtest_output=json:"$OUT/tests.json" >> "$LOG" 2>&1
TEST_RC=$?
PASSED=$(grep -c '^\[       OK \]' "$LOG"); FAILED=$(grep -c '^\[  FAILED  \].*(' "$LOG"); SKIPPED=$(grep -c '^\[  SKIPPED \]' "$LOG")
say "tests: rc $TEST_RC, $PASSED passed, $FAILED failed, $SKIPPED skipped ($(( $(date +%s) - T0 )) s)"

# 3. Benchmarks on a random-weight Qwen2.5-7B shape (28 layers, 3584 embd, 28/4 heads, 18944 ff, 152064 vocab).
M=/tmp/cj-gpu-models
mkdir -p $M
CJ=$BIN/changjuan-cli
shape=(--arch qwen2 --layers 28 --embd 3584 --heads 28 --kv-heads 4 --ff 18944 --vocab 152064 --untied)
for t in q8_0 q4_k; do
  [ -f $M/q7b_$t.gguf ] || "$CJ" make-model "${shape[@]}" --type $t --out $M/q7b_$t.gguf >> "$LOG" 2>&1 ||
    say "make-model $t failed"
done
bench() {  # name, args...
  local name=$1; shift
  say "== $name: changjuan bench $*"
  timeout 150 "$CJ" bench "$@" --json > "$OUT/$name.json" 2>> "$LOG"
  local rc=$?
  [ $rc -eq 0 ] || say "   rc $rc: $(tail -1 "$LOG")"
  cat "$OUT/$name.json" >> "$LOG" 2>/dev/null
}
bench decode_q8_0 --model $M/q7b_q8_0.gguf --backend cuda --prompt 512 --gen 64 --repeats 3 --threads 8
bench decode_q4_k --model $M/q7b_q4_k.gguf --backend cuda --prompt 512 --gen 64 --repeats 1 --threads 8
bench batch8_q8_0 --model $M/q7b_q8_0.gguf --backend cuda --prompt 512 --gen 32 --repeats 1 --sequences 8 --threads 8
# A long context with the device KV budget far below it: the oldest pages move to host RAM and the CPU attends
# them (exact: nothing is dropped; 16 threads), against everything on the device. (131,072 tokens with a 16k budget
# is the issue's figure; 4k tokens with a 2k budget keeps this run inside its 8 minutes: today's prefill runs the
# decode kernels per token, and every prefill token past the budget has its host part attended on the CPU.)
PAGE_MB=$(( 28 * 4 * 2 * 128 * 256 * 2 / 1048576 ))  # MiB of one 256-token block of all 28 layers, f16 KV (14)
bench long_devkv_2k --model $M/q7b_q8_0.gguf --backend cuda --prompt 4000 --gen 32 --repeats 1 --threads 16 \
  --device-kv-mb $(( PAGE_MB * 8 ))
bench long_all_device --model $M/q7b_q8_0.gguf --backend cuda --prompt 4000 --gen 32 --repeats 1 --threads 16

# 4. The table.
py() { python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
print(f"{'run':<18}{'prefill tok/s':>14}{'decode tok/s':>14}{'aggregate':>12}{'GB/s dev':>10}{'util':>7}")
for n in ["decode_q8_0", "decode_q4_k", "batch8_q8_0", "long_devkv_2k", "long_all_device"]:
    p = os.path.join(out, n + ".json")
    try:
        j = json.load(open(p))
    except Exception:
        print(f"{n:<18}  (no result: see gpu-check.log)")
        continue
    u = j.get("bandwidth_utilization")
    print(f"{n:<18}{j.get('prefill_tok_s', 0):>14.1f}{j.get('decode_tok_s', 0):>14.2f}{j.get('aggregate_decode_tok_s', 0):>12.2f}"
          f"{(j.get('bandwidth_gbs') or 0):>10.0f}{(u or 0):>7.2f}")
PY
}
py | tee -a "$LOG"
say "tests: $PASSED passed, $FAILED failed, $SKIPPED skipped; log $LOG"
[ $TEST_RC -eq 0 ]
