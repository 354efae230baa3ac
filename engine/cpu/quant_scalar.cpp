// The scalar reference kernels: activation preparation and products for every type. SIMD sets must match these
// (up to float summation order).
#include <cmath>
#include <cstring>

#include "engine/cpu/quant_kernels.h"

namespace cj::kern {

using namespace cj::q;

namespace {

inline int8_t round_i8(float v) { return static_cast<int8_t>(std::lrintf(v)); }

}  // namespace

void prep_q8a(const float* x, void* dst, int64_t cols) {
  auto* qs = static_cast<int8_t*>(dst);
  Q8AView v = q8a_view(dst, cols);
  auto* d = const_cast<float*>(v.d);
  auto* s = const_cast<float*>(v.s);
  for (int64_t b = 0; b < cols / kQK; ++b) {
    const float* xb = x + b * kQK;
    float amax = 0;
    for (int i = 0; i < kQK; ++i) amax = std::fmax(amax, std::fabs(xb[i]));
    const float db = amax / 127.0f;
    const float id = db != 0 ? 1.0f / db : 0.0f;
    int sum = 0;
    for (int i = 0; i < kQK; ++i) {
      const int8_t qv = round_i8(xb[i] * id);
      qs[b * kQK + i] = qv;
      sum += qv;
    }
    d[b] = db;
    s[b] = db * static_cast<float>(sum);
  }
}

void prep_q8ka(const float* x, void* dst, int64_t cols) {
  auto* qs = static_cast<int8_t*>(dst);
  Q8KAView v = q8ka_view(dst, cols);
  auto* d = const_cast<float*>(v.d);
  auto* bs = const_cast<int16_t*>(v.bsum);
  for (int64_t b = 0; b < cols / kQKK; ++b) {
    const float* xb = x + b * kQKK;
    float amax = 0;
    for (int i = 0; i < kQKK; ++i) amax = std::fmax(amax, std::fabs(xb[i]));
    const float db = amax / 127.0f;
    const float id = db != 0 ? 1.0f / db : 0.0f;
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) {
        const int8_t qv = round_i8(xb[g * 16 + i] * id);
        qs[b * kQKK + g * 16 + i] = qv;
        sum += qv;
      }
      bs[b * 16 + g] = static_cast<int16_t>(sum);
    }
    d[b] = db;
  }
}

namespace {

float dot_f32(const void* w, const void* a, int64_t cols) {
  const auto* wr = static_cast<const float*>(w);
  const auto* x = static_cast<const float*>(a);
  double acc = 0;
  for (int64_t i = 0; i < cols; ++i) acc += static_cast<double>(wr[i]) * x[i];
  return static_cast<float>(acc);
}
float dot_f16(const void* w, const void* a, int64_t cols) {
  const auto* wr = static_cast<const uint16_t*>(w);
  const auto* x = static_cast<const float*>(a);
  double acc = 0;
  for (int64_t i = 0; i < cols; ++i) acc += static_cast<double>(f16_to_f32(wr[i])) * x[i];
  return static_cast<float>(acc);
}
float dot_bf16(const void* w, const void* a, int64_t cols) {
  const auto* wr = static_cast<const uint16_t*>(w);
  const auto* x = static_cast<const float*>(a);
  double acc = 0;
  for (int64_t i = 0; i < cols; ++i) acc += static_cast<double>(bf16_to_f32(wr[i])) * x[i];
  return static_cast<float>(acc);
}
float dot_q8_0(const void* w, const void* a, int64_t cols) {
  const auto* wb = static_cast<const BlockQ8_0*>(w);
  const Q8AView x = q8a_view(a, cols);
  double acc = 0;
  for (int64_t b = 0; b < cols / kQK; ++b) {
    int isum = 0;
    for (int i = 0; i < kQK; ++i) isum += wb[b].qs[i] * x.qs[b * kQK + i];
    acc += static_cast<double>(f16_to_f32(wb[b].d)) * x.d[b] * isum;
  }
  return static_cast<float>(acc);
}
float dot_q4_0(const void* w, const void* a, int64_t cols) {
  const auto* wb = static_cast<const BlockQ4_0*>(w);
  const Q8AView x = q8a_view(a, cols);
  double acc = 0;
  for (int64_t b = 0; b < cols / kQK; ++b) {
    const int8_t* xq = x.qs + b * kQK;
    int isum = 0;  // sum of nibble * xq (nibbles unsigned 0..15)
    for (int j = 0; j < 16; ++j) isum += (wb[b].qs[j] & 0xF) * xq[j] + (wb[b].qs[j] >> 4) * xq[j + 16];
    acc += static_cast<double>(f16_to_f32(wb[b].d)) * (x.d[b] * isum - 8.0f * x.s[b]);
  }
  return static_cast<float>(acc);
}
float dot_q4_K(const void* w, const void* a, int64_t cols) {
  const auto* wb = static_cast<const BlockQ4_K*>(w);
  const Q8KAView x = q8ka_view(a, cols);
  double acc = 0;
  for (int64_t b = 0; b < cols / kQKK; ++b) {
    uint8_t sc[8], m[8];
    unpack_q4k_scales(wb[b].scales, sc, m);
    const int8_t* xq = x.qs + b * kQKK;
    int sum_sc = 0, sum_m = 0;
    for (int g = 0; g < 4; ++g) {
      int lo = 0, hi = 0;
      for (int l = 0; l < 32; ++l) {
        lo += (wb[b].qs[32 * g + l] & 0xF) * xq[64 * g + l];
        hi += (wb[b].qs[32 * g + l] >> 4) * xq[64 * g + 32 + l];
      }
      sum_sc += sc[2 * g] * lo + sc[2 * g + 1] * hi;
    }
    for (int j = 0; j < 8; ++j) sum_m += m[j] * (x.bsum[b * 16 + 2 * j] + x.bsum[b * 16 + 2 * j + 1]);
    acc += static_cast<double>(x.d[b]) *
           (f16_to_f32(wb[b].d) * static_cast<float>(sum_sc) - f16_to_f32(wb[b].dmin) * static_cast<float>(sum_m));
  }
  return static_cast<float>(acc);
}
float dot_q6_K(const void* w, const void* a, int64_t cols) {
  const auto* wb = static_cast<const BlockQ6_K*>(w);
  const Q8KAView x = q8ka_view(a, cols);
  double acc = 0;
  for (int64_t b = 0; b < cols / kQKK; ++b) {
    const int8_t* xq = x.qs + b * kQKK;
    int sums[16] = {};  // per 16-element sub-block: sum of q * xq with q unsigned 0..63
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = wb[b].ql + 64 * h;
      const uint8_t* qh = wb[b].qh + 32 * h;
      const int8_t* xh = xq + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int q1 = (ql[l] & 0xF) | ((qh[l] & 3) << 4);
        const int q2 = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4);
        const int q3 = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
        const int q4 = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
        sums[8 * h + (l) / 16] += q1 * xh[l];
        sums[8 * h + (l + 32) / 16] += q2 * xh[l + 32];
        sums[8 * h + (l + 64) / 16] += q3 * xh[l + 64];
        sums[8 * h + (l + 96) / 16] += q4 * xh[l + 96];
      }
    }
    int isum = 0;
    for (int s = 0; s < 16; ++s) isum += wb[b].scales[s] * (sums[s] - 32 * x.bsum[b * 16 + s]);
    acc += static_cast<double>(x.d[b]) * f16_to_f32(wb[b].d) * isum;
  }
  return static_cast<float>(acc);
}

template <float (*Dot)(const void*, const void*, int64_t)>
void gemm_rows(const void* W, size_t w_stride, int64_t r0, int64_t r1, int64_t cols, const void* A, size_t a_stride,
               int64_t n, float* Y, int64_t ldy) {
  for (int64_t r = r0; r < r1; ++r) {
    const void* wr = static_cast<const uint8_t*>(W) + static_cast<size_t>(r) * w_stride;
    for (int64_t i = 0; i < n; ++i) {
      Y[i * ldy + r] = Dot(wr, static_cast<const uint8_t*>(A) + static_cast<size_t>(i) * a_stride, cols);
    }
  }
}

}  // namespace

bool get_kernels_scalar(DType t, TypeKernels* out) {
  switch (t) {
    case DType::F32: *out = {ActFormat::F32, nullptr, gemm_rows<dot_f32>}; return true;
    case DType::F16: *out = {ActFormat::F32, nullptr, gemm_rows<dot_f16>}; return true;
    case DType::BF16: *out = {ActFormat::F32, nullptr, gemm_rows<dot_bf16>}; return true;
    case DType::Q8_0: *out = {ActFormat::Q8A, prep_q8a, gemm_rows<dot_q8_0>}; return true;
    case DType::Q4_0: *out = {ActFormat::Q8A, prep_q8a, gemm_rows<dot_q4_0>}; return true;
    case DType::Q4_K: *out = {ActFormat::Q8KA, prep_q8ka, gemm_rows<dot_q4_K>}; return true;
    case DType::Q6_K: *out = {ActFormat::Q8KA, prep_q8ka, gemm_rows<dot_q6_K>}; return true;
  }
  return false;
}

}  // namespace cj::kern
