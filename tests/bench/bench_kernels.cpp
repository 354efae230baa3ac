// Kernel throughput: matvec per type at Qwen2.5-0.5B and Qwen2.5-7B shapes (bytes of weights read per second,
// to compare with the measured memory bandwidth, reported as the counter membw_GBps), and matmul (prefill)
// GFLOP/s. Threads: CJ_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "engine/cpu/membw.h"
#include "engine/cpu/quant.h"
#include "engine/format/quant_blocks.h"
#include "engine/cpu/quant_kernels.h"
#include "engine/cpu/thread_pool.h"

namespace {

using cj::DType;

int bench_threads() {
  const char* e = std::getenv("CJ_BENCH_THREADS");
  return e ? std::max(1, std::atoi(e)) : 2;
}
cj::ThreadPool& pool() {
  static cj::ThreadPool p(bench_threads());
  return p;
}
double membw() {
  static const double bw = cj::measure_read_bandwidth_gbs(&pool());
  return bw;
}

constexpr DType kTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K};

// A rows x cols matrix of valid random blocks (random quants, small fixed scales), made without the slow
// reference quantizers. Only one matrix is kept alive at a time.
const std::vector<uint8_t>& weights(DType t, int64_t rows, int64_t cols) {
  static std::vector<uint8_t> w;
  static DType wt;
  static int64_t wr = -1, wc = -1;
  if (wt == t && wr == rows && wc == cols) return w;
  w.clear();
  w.shrink_to_fit();
  const size_t rb = cj::row_bytes(t, cols), total = rb * static_cast<size_t>(rows);
  w.resize(total);
  std::mt19937_64 rng(1);
  for (size_t i = 0; i + 8 <= total; i += 8) {
    const uint64_t v = rng();
    std::memcpy(w.data() + i, &v, 8);
  }
  const auto& tr = cj::dtype_traits(t);
  const size_t blocks = total / tr.block_bytes;
  const uint16_t h = cj::q::f32_to_f16(0.01f);
  for (size_t b = 0; b < blocks; ++b) {
    uint8_t* p = w.data() + b * tr.block_bytes;
    switch (t) {
      case DType::F32: {
        const float f = static_cast<float>(static_cast<int>(b % 200) - 100) * 0.001f;
        std::memcpy(p, &f, 4);
        break;
      }
      case DType::F16: std::memcpy(p, &h, 2); break;
      case DType::BF16: {
        const uint16_t bf = cj::q::f32_to_bf16(0.01f * static_cast<float>(b % 7));
        std::memcpy(p, &bf, 2);
        break;
      }
      case DType::Q8_0:
      case DType::Q4_0: std::memcpy(p, &h, 2); break;
      case DType::Q4_K: std::memcpy(p, &h, 2); std::memcpy(p + 2, &h, 2); break;
      case DType::Q6_K: std::memcpy(p + 208, &h, 2); break;
    }
  }
  wt = t;
  wr = rows;
  wc = cols;
  return w;
}

void BM_matvec(benchmark::State& state) {
  const DType t = kTypes[state.range(0)];
  const int64_t rows = state.range(1), cols = state.range(2);
  const auto& w = weights(t, rows, cols);
  std::vector<float> x(static_cast<size_t>(cols)), y(static_cast<size_t>(rows));
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  for (auto& v : x) v = nd(rng);
  const double bw = membw();
  for (auto _ : state) {
    cj::matvec(t, w.data(), rows, cols, x.data(), y.data(), &pool());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
  state.counters["membw_GBps"] = bw;
  state.counters["util"] = benchmark::Counter(static_cast<double>(w.size()) / 1e9 / bw,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(cj::dtype_traits(t).name) + " " + cj::kernel_isa_name() + " threads=" +
                 std::to_string(pool().size()));
}

void BM_matmul(benchmark::State& state) {
  const DType t = kTypes[state.range(0)];
  const int64_t rows = state.range(1), cols = state.range(2), n = state.range(3);
  const auto& w = weights(t, rows, cols);
  std::vector<float> X(static_cast<size_t>(n * cols)), Y(static_cast<size_t>(n * rows));
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  for (auto& v : X) v = nd(rng);
  for (auto _ : state) {
    cj::matmul(t, w.data(), rows, cols, X.data(), n, Y.data(), &pool());
    benchmark::DoNotOptimize(Y.data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * static_cast<double>(rows * cols * n) / 1e9,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(cj::dtype_traits(t).name) + " " + cj::kernel_isa_name() + " threads=" +
                 std::to_string(pool().size()));
}

void matvec_args(benchmark::internal::Benchmark* b) {
  const int64_t shapes[][2] = {{896, 896}, {4864, 896}, {896, 4864}, {151936, 896}, {3584, 3584}, {18944, 3584}};
  // k-quants need cols % 256 == 0 (896 is not: such tensors fall back to q8_0 / q4_0 in a k-quant model).
  for (int t = 0; t < 7; ++t)
    for (const auto& s : shapes)
      if (s[1] % cj::dtype_traits(kTypes[t]).block_elems == 0) b->Args({t, s[0], s[1]});
}
void matmul_args(benchmark::internal::Benchmark* b) {
  for (int t : {3, 4, 1})  // q8_0, q4_0, f16 at the 0.5B shapes
    for (int64_t n : {64, 128, 512}) {
      b->Args({t, 896, 896, n});
      b->Args({t, 4864, 896, n});
    }
  for (int t : {3, 4})  // q8_0, q4_0: small batches, as a decode step of several sequences multiplies
    for (int64_t n : {1, 2, 4, 8, 16}) b->Args({t, 4864, 896, n});
  for (int t : {3, 5, 6})  // q8_0, q4_K, q6_K: the ffn_down shape (cols 4864)
    for (int64_t n : {64, 512}) b->Args({t, 896, 4864, n});
}

BENCHMARK(BM_matvec)->Apply(matvec_args)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK(BM_matmul)->Apply(matmul_args)->UseRealTime()->Unit(benchmark::kMillisecond);

// A decode step of several sequences: the gemms' small-batch paths against their general ones, in one run (arg 4 =
// 1 small-batch on, 0 off: cj::kern::set_small_batch; the bits are the same either way). Compare the CPU-time
// column when the machine is shared.
void BM_matmul_ab(benchmark::State& state) {
  cj::kern::set_small_batch(state.range(4) != 0);
  BM_matmul(state);
  cj::kern::set_small_batch(true);
  state.SetLabel(std::string(cj::dtype_traits(kTypes[state.range(0)]).name) + " " + cj::kernel_isa_name() +
                 " threads=" + std::to_string(pool().size()) + (state.range(4) ? " small" : " general"));
}
void matmul_ab_args(benchmark::internal::Benchmark* b) {
  for (int t : {3, 5})  // q8_0, q4_K at the ffn_down shape (cols 4864: k-quant blocks fit) and ffn_up (q8_0)
    for (int64_t n : {2, 4, 8, 16})
      for (int v : {0, 1}) {
        b->Args({t, 896, 4864, n, v});
        if (t == 3) b->Args({t, 4864, 896, n, v});
      }
}
BENCHMARK(BM_matmul_ab)->Apply(matmul_ab_args)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_membw(benchmark::State& state) {
  double bw = 0;
  for (auto _ : state) bw = cj::measure_read_bandwidth_gbs(&pool(), size_t{1} << 30, 2);
  state.counters["GBps"] = bw;
}
BENCHMARK(BM_membw)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
