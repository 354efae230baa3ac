// Tensor element types: the type table, and the reference (scalar) dequantization and quantization of every
// type. Backend-neutral: the CPU kernels (engine/cpu/quant.h) and any other backend read the same definitions.
#include "engine/format/dtype.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "engine/base/result.h"
#include "engine/format/quant_blocks.h"

namespace cj {

using namespace cj::q;

namespace {
const TypeTraits kF32{"f32", 1, 4};
const TypeTraits kF16{"f16", 1, 2};
const TypeTraits kBF16{"bf16", 1, 2};
const TypeTraits kQ8_0{"q8_0", 32, sizeof(BlockQ8_0)};
const TypeTraits kQ4_0{"q4_0", 32, sizeof(BlockQ4_0)};
const TypeTraits kQ4_K{"q4_k", 256, sizeof(BlockQ4_K)};
const TypeTraits kQ6_K{"q6_k", 256, sizeof(BlockQ6_K)};
constexpr DType kAll[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K};
}  // namespace

bool dtype_known(uint32_t ggml_type) {
  for (DType t : kAll) {
    if (static_cast<uint32_t>(t) == ggml_type) return true;
  }
  return false;
}

const TypeTraits& dtype_traits(DType t) {
  switch (t) {
    case DType::F32: return kF32;
    case DType::F16: return kF16;
    case DType::BF16: return kBF16;
    case DType::Q8_0: return kQ8_0;
    case DType::Q4_0: return kQ4_0;
    case DType::Q4_K: return kQ4_K;
    case DType::Q6_K: return kQ6_K;
  }
  CJ_ASSERT(false && "unknown dtype");
  return kF32;
}

bool dtype_from_name(std::string_view name, DType* out) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (DType t : kAll) {
    if (lower == dtype_traits(t).name) {
      *out = t;
      return true;
    }
  }
  return false;
}

size_t row_bytes(DType t, int64_t n) {
  const TypeTraits& tr = dtype_traits(t);
  CJ_ASSERT(n % tr.block_elems == 0);
  return static_cast<size_t>(n / tr.block_elems) * tr.block_bytes;
}

// ---------------------------------------------------------------------------------------------- dequantize

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  CJ_ASSERT(n % dtype_traits(t).block_elems == 0);
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
      return;
    }
    case DType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    case DType::Q8_0: {
      const auto* b = static_cast<const BlockQ8_0*>(src);
      for (int64_t k = 0; k < n / kQK; ++k) {
        const float d = f16_to_f32(b[k].d);
        for (int i = 0; i < kQK; ++i) dst[k * kQK + i] = d * b[k].qs[i];
      }
      return;
    }
    case DType::Q4_0: {
      const auto* b = static_cast<const BlockQ4_0*>(src);
      for (int64_t k = 0; k < n / kQK; ++k) {
        const float d = f16_to_f32(b[k].d);
        for (int j = 0; j < 16; ++j) {
          dst[k * kQK + j] = d * static_cast<float>((b[k].qs[j] & 0xF) - 8);
          dst[k * kQK + j + 16] = d * static_cast<float>((b[k].qs[j] >> 4) - 8);
        }
      }
      return;
    }
    case DType::Q4_K: {
      const auto* b = static_cast<const BlockQ4_K*>(src);
      for (int64_t k = 0; k < n / kQKK; ++k) {
        const float d = f16_to_f32(b[k].d), dmin = f16_to_f32(b[k].dmin);
        uint8_t sc[8], m[8];
        unpack_q4k_scales(b[k].scales, sc, m);
        float* y = dst + k * kQKK;
        for (int g = 0; g < 4; ++g) {
          const float d1 = d * sc[2 * g], m1 = dmin * m[2 * g];
          const float d2 = d * sc[2 * g + 1], m2 = dmin * m[2 * g + 1];
          for (int l = 0; l < 32; ++l) {
            y[64 * g + l] = d1 * static_cast<float>(b[k].qs[32 * g + l] & 0xF) - m1;
            y[64 * g + 32 + l] = d2 * static_cast<float>(b[k].qs[32 * g + l] >> 4) - m2;
          }
        }
      }
      return;
    }
    case DType::Q6_K: {
      const auto* b = static_cast<const BlockQ6_K*>(src);
      for (int64_t k = 0; k < n / kQKK; ++k) {
        const float d = f16_to_f32(b[k].d);
        for (int h = 0; h < 2; ++h) {
          const uint8_t* ql = b[k].ql + 64 * h;
          const uint8_t* qh = b[k].qh + 32 * h;
          const int8_t* sc = b[k].scales + 8 * h;
          float* y = dst + k * kQKK + 128 * h;
          for (int l = 0; l < 32; ++l) {
            const int q1 = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[l / 16] * static_cast<float>(q1);
            y[l + 32] = d * sc[2 + l / 16] * static_cast<float>(q2);
            y[l + 64] = d * sc[4 + l / 16] * static_cast<float>(q3);
            y[l + 96] = d * sc[6 + l / 16] * static_cast<float>(q4);
          }
        }
      }
      return;
    }
  }
  CJ_ASSERT(false && "unknown dtype");
}

// ------------------------------------------------------------------------------------------------ quantize

namespace {

// Round to nearest (ties to even) for |v| < 2^22 without a libm call: adding 1.5 * 2^23 leaves the rounded integer
// in the low mantissa bits.
inline int nearest_int(float v) {
  const float f = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &f, 4);
  return (i & 0x007FFFFF) - 0x00400000;
}

void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t k = 0; k < n / kQK; ++k) {
    const float* xb = x + k * kQK;
    float amax = 0;
    for (int i = 0; i < kQK; ++i) amax = std::fmax(amax, std::fabs(xb[i]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[k].d = f32_to_f16(d);
    for (int i = 0; i < kQK; ++i) y[k].qs[i] = static_cast<int8_t>(std::clamp(nearest_int(xb[i] * id), -127, 127));
  }
}

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t k = 0; k < n / kQK; ++k) {
    const float* xb = x + k * kQK;
    // The value of largest magnitude maps to -8 exactly, so the full range [-8, 7] is used on its side.
    float vmax = 0;
    for (int i = 0; i < kQK; ++i) {
      if (std::fabs(xb[i]) > std::fabs(vmax)) vmax = xb[i];
    }
    const float d = vmax / -8.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[k].d = f32_to_f16(d);
    for (int j = 0; j < 16; ++j) {
      const int a = std::clamp(nearest_int(xb[j] * id) + 8, 0, 15);
      const int b = std::clamp(nearest_int(xb[j + 16] * id) + 8, 0, 15);
      y[k].qs[j] = static_cast<uint8_t>(a | (b << 4));
    }
  }
}

// Best (scale, min) for 32 values with q in [0, 15]: x ~= scale * q - min, min >= 0. Tries a few candidate ranges
// around [min(x), max(x)] and keeps the one with the lowest squared error.
void fit_scale_min_4bit(const float* x, float* scale, float* min) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < 32; ++i) {
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  if (lo > 0) lo = 0;
  if (hi <= lo) {
    *scale = 0;
    *min = -lo;
    return;
  }
  float best_err = INFINITY, best_s = (hi - lo) / 15, best_m = -lo;
  for (int step = 0; step <= 4; ++step) {  // 15 candidates: fast enough for 7B-sized model writing
    const float s = (hi - lo) / (14.0f + 0.5f * static_cast<float>(step));
    const float inv = 1.0f / s;
    for (int shift = -1; shift <= 1; ++shift) {
      const float m = std::fmax(0.0f, -lo + 0.25f * static_cast<float>(shift) * s);
      float err = 0;
      for (int i = 0; i < 32; ++i) {
        const int q = std::clamp(nearest_int((x[i] + m) * inv), 0, 15);
        const float e = s * static_cast<float>(q) - m - x[i];
        err += e * e;
      }
      if (err < best_err) {
        best_err = err;
        best_s = s;
        best_m = m;
      }
    }
  }
  *scale = best_s;
  *min = best_m;
}

void quantize_q4_K(const float* x, BlockQ4_K* y, int64_t n) {
  for (int64_t k = 0; k < n / kQKK; ++k) {
    const float* xb = x + k * kQKK;
    float scales[8], mins[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
      fit_scale_min_4bit(xb + 32 * j, &scales[j], &mins[j]);
      max_scale = std::fmax(max_scale, scales[j]);
      max_min = std::fmax(max_min, mins[j]);
    }
    const float d = max_scale / 63.0f, dmin = max_min / 63.0f;
    y[k].d = f32_to_f16(d);
    y[k].dmin = f32_to_f16(dmin);
    const float dq = f16_to_f32(y[k].d), dminq = f16_to_f32(y[k].dmin);
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; ++j) {
      sc[j] = static_cast<uint8_t>(dq > 0 ? std::clamp(nearest_int(scales[j] / dq), 0, 63) : 0);
      m[j] = static_cast<uint8_t>(dminq > 0 ? std::clamp(nearest_int(mins[j] / dminq), 0, 63) : 0);
    }
    pack_q4k_scales(sc, m, y[k].scales);
    uint8_t q[kQKK];
    for (int j = 0; j < 8; ++j) {
      const float s = dq * sc[j], mm = dminq * m[j];
      for (int i = 0; i < 32; ++i) {
        q[32 * j + i] = static_cast<uint8_t>(s > 0 ? std::clamp(nearest_int((xb[32 * j + i] + mm) / s), 0, 15) : 0);
      }
    }
    for (int g = 0; g < 4; ++g) {
      for (int l = 0; l < 32; ++l) y[k].qs[32 * g + l] = static_cast<uint8_t>(q[64 * g + l] | (q[64 * g + 32 + l] << 4));
    }
  }
}

void quantize_q6_K(const float* x, BlockQ6_K* y, int64_t n) {
  for (int64_t k = 0; k < n / kQKK; ++k) {
    const float* xb = x + k * kQKK;
    // Per 16 values: the value of largest magnitude maps to -32 (its sub-block scale is signed).
    float sub[16];
    float max_abs_sub = 0, max_sub = 0;
    for (int s = 0; s < 16; ++s) {
      float vmax = 0;
      for (int i = 0; i < 16; ++i) {
        if (std::fabs(xb[16 * s + i]) > std::fabs(vmax)) vmax = xb[16 * s + i];
      }
      sub[s] = vmax / -32.0f;
      if (std::fabs(sub[s]) > max_abs_sub) {
        max_abs_sub = std::fabs(sub[s]);
        max_sub = sub[s];
      }
    }
    float d = max_sub / -128.0f;  // the largest sub-scale becomes -128 (or 127 on the other side, clamped)
    y[k].d = f32_to_f16(d);
    d = f16_to_f32(y[k].d);
    uint8_t q[kQKK];
    for (int s = 0; s < 16; ++s) {
      const int sc = d != 0 ? std::clamp(nearest_int(sub[s] / d), -128, 127) : 0;
      y[k].scales[s] = static_cast<int8_t>(sc);
      const float ds = d * static_cast<float>(sc);
      for (int i = 0; i < 16; ++i) {
        const int qv = ds != 0 ? std::clamp(nearest_int(xb[16 * s + i] / ds), -32, 31) : 0;
        q[16 * s + i] = static_cast<uint8_t>(qv + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* qq = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        y[k].ql[64 * h + l] = static_cast<uint8_t>((qq[l] & 0xF) | ((qq[l + 64] & 0xF) << 4));
        y[k].ql[64 * h + l + 32] = static_cast<uint8_t>((qq[l + 32] & 0xF) | ((qq[l + 96] & 0xF) << 4));
        y[k].qh[32 * h + l] = static_cast<uint8_t>((qq[l] >> 4) | ((qq[l + 32] >> 4) << 2) | ((qq[l + 64] >> 4) << 4) |
                                                   ((qq[l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  CJ_ASSERT(n % dtype_traits(t).block_elems == 0);
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    case DType::Q8_0: quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), n); return;
    case DType::Q4_0: quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), n); return;
    case DType::Q4_K: quantize_q4_K(src, static_cast<BlockQ4_K*>(dst), n); return;
    case DType::Q6_K: quantize_q6_K(src, static_cast<BlockQ6_K*>(dst), n); return;
  }
  CJ_ASSERT(false && "unknown dtype");
}

}  // namespace cj
