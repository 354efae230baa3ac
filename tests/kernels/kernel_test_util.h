// Helpers shared by the kernel tests: random data, quantized matrices, normalized errors.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/cpu/quant.h"

namespace cj::testing {

inline std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// rows x cols matrix in type t from random f32 values (rows carry different magnitudes).
inline std::vector<uint8_t> random_matrix(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  std::vector<uint8_t> w(row_bytes(t, cols) * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    auto v = random_vec(static_cast<size_t>(cols), seed * 7919u + static_cast<uint32_t>(r), 0.02f * (1 + r % 5));
    quantize_row(t, v.data(), w.data() + row_bytes(t, cols) * static_cast<size_t>(r), cols);
  }
  return w;
}

inline std::vector<float> dequantize_matrix(DType t, const std::vector<uint8_t>& w, int64_t rows, int64_t cols) {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(t, w.data() + row_bytes(t, cols) * static_cast<size_t>(r), out.data() + r * cols, cols);
  }
  return out;
}

// max |a - b| / rms(b)
inline double normalized_max_error(const std::vector<float>& a, const std::vector<float>& b) {
  double ss = 0, mx = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    ss += static_cast<double>(b[i]) * b[i];
    mx = std::max(mx, std::fabs(static_cast<double>(a[i]) - b[i]));
  }
  const double rms = std::sqrt(ss / static_cast<double>(b.size()));
  return rms > 0 ? mx / rms : mx;
}

inline double relative_rms_error(const float* a, const float* b, size_t n) {
  double se = 0, ss = 0;
  for (size_t i = 0; i < n; ++i) {
    se += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    ss += static_cast<double>(b[i]) * b[i];
  }
  return ss > 0 ? std::sqrt(se / ss) : std::sqrt(se);
}

inline const DType kAllTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0,
                                  DType::Q4_0, DType::Q4_K, DType::Q6_K};

}  // namespace cj::testing
