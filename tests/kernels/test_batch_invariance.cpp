// The kernel invariant behind reproducible prefix caching and batched decode: a row's output bits do not depend on
// how many activation rows are in the call, which kernel path ran (matvec, small batch, tiled prefill, grouped,
// prepared rows) or the thread count. A prompt tail prefilled after a cached prefix, a decode step of 8 sequences
// and a whole prefill must all give the bits of the row computed alone.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/cpu/quant.h"
#include "engine/cpu/quant_kernels.h"
#include "engine/cpu/thread_pool.h"
#include "tests/kernels/kernel_test_util.h"

namespace cj {
namespace {

using cj::testing::kAllTypes;

// First index where a and b differ bitwise, or -1.
int64_t first_diff(const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (std::memcmp(a + i, b + i, 4) != 0) return i;
  return -1;
}

void check_isa(kern::Isa isa) {
  if (!kern::isa_supported(isa)) GTEST_SKIP() << kern::isa_name(isa) << " not supported on this CPU";
  ThreadPool pool2(2);
  int checked = 0;
  for (DType t : kAllTypes) {
    kern::TypeKernels k;
    if (!kern::get_kernels(t, isa, &k)) continue;
    const int64_t block = dtype_traits(t).block_elems;
    // Odd block counts for the kernels that pair or group blocks (288 = 9 x 32, 928 = 29 x 32), the model widths.
    std::vector<int64_t> col_choices = block == 1 ? std::vector<int64_t>{100, 896}
                                       : block == 32 ? std::vector<int64_t>{288, 928, 896}
                                                     : std::vector<int64_t>{256, 768};
    for (int64_t cols : col_choices) {
      const int64_t rows = 37;  // full tiles and leftover rows of every kernel's row tile
      const auto w = cj::testing::random_matrix(t, rows, cols, static_cast<uint32_t>(cols) + 5u);
      const int64_t kN = 64;
      const auto X = cj::testing::random_vec(static_cast<size_t>(kN * cols), static_cast<uint32_t>(cols) + 9u);
      // Each row alone.
      std::vector<float> alone(static_cast<size_t>(kN * rows));
      for (int64_t i = 0; i < kN; ++i)
        kern::matmul_isa(isa, t, w.data(), rows, cols, X.data() + i * cols, 1, alone.data() + i * rows, nullptr);
      // All 64 at once (the prefill kernels), two threads.
      std::vector<float> all(alone.size(), -1e30f);
      kern::matmul_isa(isa, t, w.data(), rows, cols, X.data(), kN, all.data(), &pool2);
      const std::string what = std::string(kern::isa_name(isa)) + " " + dtype_traits(t).name + " cols " +
                               std::to_string(cols);
      EXPECT_EQ(first_diff(all.data(), alone.data(), kN * rows), -1) << what << " n 64 vs alone";
      // Every batch size 1..20, rows starting at several offsets, 1 and 2 threads.
      for (int64_t n = 1; n <= 20; ++n) {
        const int64_t off = n % 3;
        std::vector<float> got(static_cast<size_t>(n * rows), -1e30f);
        kern::matmul_isa(isa, t, w.data(), rows, cols, X.data() + off * cols, n, got.data(), n % 2 ? &pool2 : nullptr);
        const int64_t d = first_diff(got.data(), alone.data() + off * rows, n * rows);
        EXPECT_EQ(d, -1) << what << " n " << n << ": row " << (d < 0 ? 0 : d / rows) << " output "
                         << (d < 0 ? 0 : d % rows);
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(KernelInvariance, ScalarRowBitsIndependentOfBatch) { check_isa(kern::Isa::Scalar); }
TEST(KernelInvariance, Avx2RowBitsIndependentOfBatch) { check_isa(kern::Isa::Avx2); }
TEST(KernelInvariance, Avx512RowBitsIndependentOfBatch) { check_isa(kern::Isa::Avx512); }

// The other entry points of the active set: matvec, matvec_prepare + matvec_rows (fused decode) and matmul_grouped
// (experts, fused q/k/v; input rows gathered by index) give the bits matmul gives for the same rows.
TEST(KernelInvariance, EntryPointsAgreeBitForBit) {
  ThreadPool pool2(2);
  for (DType t : kAllTypes) {
    const int64_t cols = dtype_traits(t).block_elems == 256 ? 512 : 896, rows = 70, n = 11;
    const auto w = cj::testing::random_matrix(t, rows, cols, 31);
    const auto X = cj::testing::random_vec(static_cast<size_t>(n * cols), 32);
    std::vector<float> ref(static_cast<size_t>(n * rows));
    matmul(t, w.data(), rows, cols, X.data(), n, ref.data(), &pool2);
    const std::string name = dtype_traits(t).name;
    for (int64_t i = 0; i < n; ++i) {
      std::vector<float> v(rows, -1e30f), p(rows, -1e30f);
      matvec(t, w.data(), rows, cols, X.data() + i * cols, v.data(), &pool2);
      EXPECT_EQ(first_diff(v.data(), ref.data() + i * rows, rows), -1) << name << " matvec row " << i;
      std::vector<uint8_t> buf(matvec_prep_bytes(t, cols) + 64);
      void* aligned = buf.data() + (64 - reinterpret_cast<uintptr_t>(buf.data()) % 64) % 64;
      matvec_prepare(t, X.data() + i * cols, cols, aligned);
      matvec_rows(t, w.data(), rows, cols, aligned, p.data());
      EXPECT_EQ(first_diff(p.data(), ref.data() + i * rows, rows), -1) << name << " matvec_rows row " << i;
    }
    // Grouped: rows 10, 3, 7 (by index) and the first 5 rows (plain), as two jobs in one dispatch.
    const int32_t idx[3] = {10, 3, 7};
    std::vector<float> g1(3 * rows, -1e30f), g2(5 * rows, -1e30f);
    GemmJob jobs[2];
    jobs[0] = GemmJob{t, w.data(), rows, cols, X.data(), size_t(cols), idx, 3, g1.data(), size_t(rows)};
    jobs[1] = GemmJob{t, w.data(), rows, cols, X.data(), size_t(cols), nullptr, 5, g2.data(), size_t(rows)};
    matmul_grouped(jobs, 2, &pool2);
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(first_diff(g1.data() + j * rows, ref.data() + idx[j] * rows, rows), -1) << name << " grouped idx " << j;
    EXPECT_EQ(first_diff(g2.data(), ref.data(), 5 * rows), -1) << name << " grouped plain";
  }
}

}  // namespace
}  // namespace cj
