// quantize -> dequantize error bounds per type, exact cases, and the scalar matvec against dot products of
// dequantized rows.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/cpu/quant.h"
#include "engine/cpu/quant_kernels.h"
#include "engine/cpu/thread_pool.h"
#include "tests/kernels/kernel_test_util.h"

namespace cj {
namespace {

using cj::testing::kAllTypes;

double roundtrip_error(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(t, static_cast<int64_t>(x.size())));
  quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  std::vector<float> back(x.size());
  dequantize_row(t, q.data(), back.data(), static_cast<int64_t>(x.size()));
  return cj::testing::relative_rms_error(back.data(), x.data(), x.size());
}

// Relative RMS error of a Gaussian row; bounds sit above what each format's step size gives
// (q8_0: ~0.4%, q6_K: ~1.8%, q4_0: ~9%, q4_K: ~7%).
double bound(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 5e-4;
    case DType::BF16: return 4e-3;
    case DType::Q8_0: return 0.008;
    case DType::Q6_K: return 0.03;
    case DType::Q4_0: return 0.12;
    case DType::Q4_K: return 0.10;
  }
  return 0;
}

TEST(QuantRoundTrip, GaussianRowsWithinBounds) {
  for (DType t : kAllTypes) {
    for (uint32_t seed = 1; seed <= 4; ++seed) {
      const auto x = cj::testing::random_vec(4096, seed, seed == 4 ? 1e-3f : 1.5f);
      const double e = roundtrip_error(t, x);
      EXPECT_LE(e, bound(t)) << dtype_traits(t).name << " seed " << seed;
      if (t != DType::F32) {
        EXPECT_GT(e, 0) << dtype_traits(t).name;  // a lossy type that loses nothing is suspicious
      }
    }
  }
}

TEST(QuantRoundTrip, OutliersAndZeros) {
  for (DType t : kAllTypes) {
    auto x = cj::testing::random_vec(1024, 9, 1.0f);
    for (size_t i = 0; i < 256; ++i) x[i] = 0;  // an all-zero k-quant super-block
    x[300] = 40.0f;                              // an outlier
    x[700] = -40.0f;
    std::vector<uint8_t> q(row_bytes(t, 1024));
    quantize_row(t, x.data(), q.data(), 1024);
    std::vector<float> back(1024);
    dequantize_row(t, q.data(), back.data(), 1024);
    for (size_t i = 0; i < 256; ++i) ASSERT_EQ(back[i], 0.0f) << dtype_traits(t).name << " " << i;
    EXPECT_NEAR(back[300], 40.0f, 40.0f * 0.07) << dtype_traits(t).name;
    EXPECT_NEAR(back[700], -40.0f, 40.0f * 0.07) << dtype_traits(t).name;
    for (float v : back) ASSERT_TRUE(std::isfinite(v));
  }
}

TEST(QuantRoundTrip, ExactlyRepresentableValuesSurvive) {
  // Multiples of a power of two that fit the 8-bit grid come back exactly from q8_0; integers in [-8, 7] from q4_0.
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[static_cast<size_t>(i)] = 0.25f * static_cast<float>((i * 37) % 255 - 127);
  x[5] = 0.25f * 127;  // the block maximum defines d = 0.25
  x[40] = -0.25f * 127;
  EXPECT_EQ(roundtrip_error(DType::Q8_0, x), 0.0);
  std::vector<float> y(32);
  for (int i = 0; i < 32; ++i) y[static_cast<size_t>(i)] = static_cast<float>(i % 16 - 8);
  EXPECT_EQ(roundtrip_error(DType::Q4_0, y), 0.0);
  EXPECT_EQ(roundtrip_error(DType::F16, y), 0.0);
  EXPECT_EQ(roundtrip_error(DType::BF16, y), 0.0);
}

// The product must equal the dot products of the dequantized rows with x, up to the 8-bit quantization of x
// for quantized weights (normalized by |W_r| |x|).
void check_against_dequantized(kern::Isa isa, DType t, int64_t rows, int64_t cols, int64_t n, ThreadPool* pool) {
  const auto w = cj::testing::random_matrix(t, rows, cols, 3);
  const auto wf = cj::testing::dequantize_matrix(t, w, rows, cols);
  const auto X = cj::testing::random_vec(static_cast<size_t>(n * cols), 11, 1.0f);
  std::vector<float> Y(static_cast<size_t>(n * rows), NAN);
  kern::matmul_isa(isa, t, w.data(), rows, cols, X.data(), n, Y.data(), pool);
  const bool float_act = t == DType::F32 || t == DType::F16 || t == DType::BF16;
  const double tol = float_act ? 1e-5 : 1.5e-2;
  for (int64_t i = 0; i < n; ++i) {
    double xn = 0;
    for (int64_t c = 0; c < cols; ++c) xn += static_cast<double>(X[static_cast<size_t>(i * cols + c)]) * X[static_cast<size_t>(i * cols + c)];
    for (int64_t r = 0; r < rows; ++r) {
      double dot = 0, wn = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const double wv = wf[static_cast<size_t>(r * cols + c)];
        dot += wv * X[static_cast<size_t>(i * cols + c)];
        wn += wv * wv;
      }
      const double err = std::fabs(Y[static_cast<size_t>(i * rows + r)] - dot) / std::sqrt(wn * xn);
      ASSERT_LE(err, tol) << dtype_traits(t).name << " " << kern::isa_name(isa) << " row " << r << " x " << i;
    }
  }
}

TEST(QuantMatvec, ScalarMatchesDequantizedDot) {
  ThreadPool pool(2);
  for (DType t : kAllTypes) {
    check_against_dequantized(kern::Isa::Scalar, t, 37, 512, 1, nullptr);
    check_against_dequantized(kern::Isa::Scalar, t, 40, 768, 3, &pool);
  }
}

TEST(QuantMatvec, PublicApiMatchesDequantizedDot) {
  ThreadPool pool(3);
  for (DType t : kAllTypes) {
    const int64_t rows = 53, cols = 512;
    const auto w = cj::testing::random_matrix(t, rows, cols, 5);
    const auto wf = cj::testing::dequantize_matrix(t, w, rows, cols);
    const auto x = cj::testing::random_vec(cols, 6, 1.0f);
    std::vector<float> y(rows), yf(rows);
    matvec(t, w.data(), rows, cols, x.data(), y.data(), &pool);
    matvec(DType::F32, wf.data(), rows, cols, x.data(), yf.data(), nullptr);
    const bool float_act = t == DType::F32 || t == DType::F16 || t == DType::BF16;
    EXPECT_LE(cj::testing::relative_rms_error(y.data(), yf.data(), rows), float_act ? 1e-5 : 2e-2)
        << dtype_traits(t).name << " on " << kernel_isa_name();
  }
}

}  // namespace
}  // namespace cj
