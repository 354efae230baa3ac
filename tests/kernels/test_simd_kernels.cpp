// Every SIMD kernel set against the scalar reference on random inputs: odd row counts, several activation rows,
// float tails, thread counts 1..3.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "engine/cpu/quant.h"
#include "engine/format/quant_blocks.h"
#include "engine/cpu/quant_kernels.h"
#include "engine/cpu/thread_pool.h"
#include "tests/kernels/kernel_test_util.h"

namespace cj {
namespace {

using cj::testing::kAllTypes;

void compare_isa(kern::Isa isa) {
  if (!kern::isa_supported(isa)) GTEST_SKIP() << kern::isa_name(isa) << " not supported on this CPU";
  std::unique_ptr<ThreadPool> pools[4];
  for (int t = 1; t <= 3; ++t) pools[t] = std::make_unique<ThreadPool>(t);
  int checked = 0;
  for (DType t : kAllTypes) {
    kern::TypeKernels k;
    if (!kern::get_kernels(t, isa, &k)) continue;
    const int64_t block = dtype_traits(t).block_elems;
    // 288 = 9 blocks of 32: an odd block count (the AVX-512 q8_0/q4_0 kernels pair blocks).
    const int64_t col_choices[] = {256, 768, block == 1 ? 100 : block == 32 ? 288 : 1024};
    const int64_t row_choices[] = {1, 7, 37, 70};
    int variant = 0;
    for (int64_t cols : col_choices) {
      for (int64_t rows : row_choices) {
        const int64_t n = 1 + variant % 6;  // 1..6 activation rows
        const int threads = 1 + variant % 3;
        ++variant;
        const auto w = cj::testing::random_matrix(t, rows, cols, static_cast<uint32_t>(variant));
        const auto X = cj::testing::random_vec(static_cast<size_t>(n * cols), 100u + static_cast<uint32_t>(variant));
        std::vector<float> ref(static_cast<size_t>(n * rows)), got(static_cast<size_t>(n * rows), -1e30f);
        kern::matmul_isa(kern::Isa::Scalar, t, w.data(), rows, cols, X.data(), n, ref.data(), nullptr);
        kern::matmul_isa(isa, t, w.data(), rows, cols, X.data(), n, got.data(), pools[threads].get());
        EXPECT_LE(cj::testing::normalized_max_error(got, ref), 1e-4)
            << kern::isa_name(isa) << " " << dtype_traits(t).name << " rows " << rows << " cols " << cols << " n " << n
            << " threads " << threads;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0) << "no kernels in the " << kern::isa_name(isa) << " set";
}

TEST(SimdKernels, Avx2MatchesScalar) { compare_isa(kern::Isa::Avx2); }
TEST(SimdKernels, Avx512MatchesScalar) { compare_isa(kern::Isa::Avx512); }

TEST(SimdKernels, LargeMatmulMatchesScalar) {
  // A prefill-like product: many activation rows, rows not a multiple of the tile.
  for (kern::Isa isa : {kern::Isa::Avx2, kern::Isa::Avx512}) {
    if (!kern::isa_supported(isa)) continue;
    ThreadPool pool(2);
    for (DType t : {DType::Q8_0, DType::Q4_K, DType::Q6_K, DType::F16}) {
      kern::TypeKernels k;
      if (!kern::get_kernels(t, isa, &k)) continue;
      const int64_t rows = 83, cols = 512, n = 150;  // n > 128: more than one activation chunk
      const auto w = cj::testing::random_matrix(t, rows, cols, 77);
      const auto X = cj::testing::random_vec(static_cast<size_t>(n * cols), 78);
      std::vector<float> ref(static_cast<size_t>(n * rows)), got(static_cast<size_t>(n * rows));
      kern::matmul_isa(kern::Isa::Scalar, t, w.data(), rows, cols, X.data(), n, ref.data(), nullptr);
      kern::matmul_isa(isa, t, w.data(), rows, cols, X.data(), n, got.data(), &pool);
      EXPECT_LE(cj::testing::normalized_max_error(got, ref), 1e-4) << kern::isa_name(isa) << " " << dtype_traits(t).name;
    }
  }
}

// The decode and small-batch paths (one activation row, 2..kSmallBatchMaxRows rows) against the scalar reference:
// full row tiles and leftover rows, pair / group leftovers (9 and 29 blocks of 32), the model widths, 1..3, 8 and 11
// activation rows, 1 and 2 threads, and the general paths (set_small_batch(false)) on the same data. Weights are raw random
// bytes (so q8_0 quants include -128, which the quantizer never writes, and q4_K has every 6-bit scale and min)
// with small f16 scales.
TEST(SimdKernels, MatvecKernelsMatchScalar) {
  ThreadPool pool2(2);
  int checked = 0;
  for (kern::Isa isa : {kern::Isa::Avx2, kern::Isa::Avx512}) {
    if (!kern::isa_supported(isa)) continue;
    for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K}) {
      kern::TypeKernels k;
      if (!kern::get_kernels(t, isa, &k)) continue;
      for (int64_t cols : {32, 64, 288, 928, 896, 256, 768, 4864}) {
        if (cols % dtype_traits(t).block_elems != 0) continue;
        for (int64_t rows : {4, 13, 70}) {
          const size_t rb = row_bytes(t, cols), bb = dtype_traits(t).block_bytes;
          std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
          std::mt19937 rng(static_cast<uint32_t>(cols * 131 + rows));
          for (auto& b : w) b = static_cast<uint8_t>(rng());
          for (size_t off = 0; off < w.size(); off += bb) {
            const uint16_t h = q::f32_to_f16(0.001f * static_cast<float>(1 + off / bb % 7));
            std::memcpy(w.data() + off, &h, 2);                            // d (q8_0, q4_0, q4_K)
            if (t == DType::Q4_K) std::memcpy(w.data() + off + 2, &h, 2);  // dmin
          }
          for (int64_t n : {1, 2, 3, 8, 11}) {
            const auto X = cj::testing::random_vec(static_cast<size_t>(n * cols), static_cast<uint32_t>(cols + n));
            std::vector<float> ref(static_cast<size_t>(n * rows)), got(ref.size(), -1e30f), old(ref.size(), -1e30f);
            kern::matmul_isa(kern::Isa::Scalar, t, w.data(), rows, cols, X.data(), n, ref.data(), nullptr);
            ThreadPool* pool = n == 2 ? &pool2 : nullptr;
            kern::matmul_isa(isa, t, w.data(), rows, cols, X.data(), n, got.data(), pool);
            kern::set_small_batch(false);
            kern::matmul_isa(isa, t, w.data(), rows, cols, X.data(), n, old.data(), pool);
            kern::set_small_batch(true);
            EXPECT_LE(cj::testing::normalized_max_error(got, ref), 1e-4)
                << kern::isa_name(isa) << " " << dtype_traits(t).name << " rows " << rows << " cols " << cols << " n "
                << n;
            EXPECT_LE(cj::testing::normalized_max_error(old, ref), 1e-4);
            EXPECT_EQ(std::memcmp(got.data(), old.data(), got.size() * 4), 0) << "small-batch path changed bits";
            ++checked;
          }
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no SIMD kernel set on this CPU";
}

// matvec_prepare + matvec_rows (the fused decode dispatch: one prepared input, row slices of several matrices)
// give what matvec gives, for every type, with the small-batch paths on and off, on slices that start inside a tile.
TEST(QuantMatvec, PreparedRowsMatchMatvec) {
  for (bool small : {true, false}) {
    kern::set_small_batch(small);
    for (DType t : kAllTypes) {
      const int64_t cols = dtype_traits(t).block_elems == 256 ? 512 : 896, rows = 70;
      const auto w = cj::testing::random_matrix(t, rows, cols, 91);
      const auto x = cj::testing::random_vec(static_cast<size_t>(cols), 92);
      std::vector<float> ref(rows), got(rows, -1e30f);
      matvec(t, w.data(), rows, cols, x.data(), ref.data(), nullptr);
      std::vector<uint8_t> buf(matvec_prep_bytes(t, cols));
      ASSERT_GT(buf.size(), 0u);
      matvec_prepare(t, x.data(), cols, buf.data());
      const size_t rb = row_bytes(t, cols);
      for (int64_t r0 : {0, 5, 37}) {  // slices [0, 5), [5, 37), [37, 70)
        const int64_t r1 = r0 == 0 ? 5 : r0 == 5 ? 37 : rows;
        matvec_rows(t, w.data() + rb * static_cast<size_t>(r0), r1 - r0, cols, buf.data(), got.data() + r0);
      }
      EXPECT_LE(cj::testing::normalized_max_error(got, ref), 1e-6) << dtype_traits(t).name << " small batch " << small;
    }
  }
  kern::set_small_batch(true);
}

}  // namespace
}  // namespace cj
