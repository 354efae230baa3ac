// One element of a weight or KV row of any supported type, decoded by host and device alike (CJ_HD): the CUDA
// kernels read rows through it, and the CPU tests check it against the reference dequantisation bit for bit, so
// the decoding of every block layout is tested without a GPU. Type codes: 0 f32, 1 f16, 2 q8_0 (the values of
// KVType), 3 bf16, 4 q4_0, 5 q4_K, 6 q6_K. Plain C++17 (nvcc compiles it).
#pragma once
#include <cstdint>
#include <cstring>

#include "engine/format/dtype.h"

#if defined(__CUDACC__)
#define CJ_HD_ELEM __host__ __device__ __forceinline__
#else
#define CJ_HD_ELEM inline
#endif

namespace cj::cuda {

enum ElemCode : int { kF32 = 0, kF16 = 1, kQ8_0 = 2, kBF16 = 3, kQ4_0 = 4, kQ4_K = 5, kQ6_K = 6 };

inline int elem_code(DType t) {
  switch (t) {
    case DType::F32: return kF32;
    case DType::F16: return kF16;
    case DType::Q8_0: return kQ8_0;
    case DType::BF16: return kBF16;
    case DType::Q4_0: return kQ4_0;
    case DType::Q4_K: return kQ4_K;
    case DType::Q6_K: return kQ6_K;
  }
  return -1;
}

CJ_HD_ELEM float elem_bits_to_f32(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}
CJ_HD_ELEM uint16_t elem_u16(const uint8_t* p) { return uint16_t(p[0] | (uint16_t(p[1]) << 8)); }
// IEEE half to float, exact (subnormals, inf, nan).
CJ_HD_ELEM float elem_f16(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  if (exp == 0x1F) return elem_bits_to_f32(sign | 0x7F800000u | (mant << 13));
  if (exp == 0) {
    const float v = float(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  return elem_bits_to_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

// Element c of a row of type `code`.
CJ_HD_ELEM float elem(int code, const uint8_t* row, int c) {
  switch (code) {
    case kF32: return elem_bits_to_f32(uint32_t(row[4 * c]) | (uint32_t(row[4 * c + 1]) << 8) |
                                       (uint32_t(row[4 * c + 2]) << 16) | (uint32_t(row[4 * c + 3]) << 24));
    case kF16: return elem_f16(elem_u16(row + 2 * c));
    case kBF16: return elem_bits_to_f32(uint32_t(elem_u16(row + 2 * c)) << 16);
    case kQ8_0: {
      const uint8_t* b = row + (c / 32) * 34;
      return elem_f16(elem_u16(b)) * float(int8_t(b[2 + c % 32]));
    }
    case kQ4_0: {
      const uint8_t* b = row + (c / 32) * 18;
      const int j = c % 32;
      const int nib = j < 16 ? (b[2 + j] & 0xF) : (b[2 + j - 16] >> 4);
      return elem_f16(elem_u16(b)) * float(nib - 8);
    }
    case kQ4_K: {
      const uint8_t* b = row + (c / 256) * 144;
      const uint8_t* s = b + 4;
      const int e = c % 256, g = e / 64, w = e % 64, sub = 2 * g + (w >= 32 ? 1 : 0), l = w % 32;
      int sc, m;
      if (sub < 4) {
        sc = s[sub] & 63;
        m = s[sub + 4] & 63;
      } else {
        sc = (s[sub + 4] & 0xF) | ((s[sub - 4] >> 6) << 4);
        m = (s[sub + 4] >> 4) | ((s[sub] >> 6) << 4);
      }
      const uint8_t qb = b[16 + 32 * g + l];
      const int q = w < 32 ? (qb & 0xF) : (qb >> 4);
      const float d1 = elem_f16(elem_u16(b)) * float(sc), m1 = elem_f16(elem_u16(b + 2)) * float(m);
      return d1 * float(q) - m1;
    }
    case kQ6_K: {
      const uint8_t* b = row + (c / 256) * 210;
      const int e = c % 256, h = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
      const uint8_t* ql = b + 64 * h;
      const uint8_t* qh = b + 128 + 32 * h;
      const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192) + 8 * h;
      const uint8_t lo = quarter & 1 ? ql[l + 32] : ql[l];
      const int low = quarter < 2 ? (lo & 0xF) : (lo >> 4);
      const int q = (low | (((qh[l] >> (2 * quarter)) & 3) << 4)) - 32;
      return elem_f16(elem_u16(b + 208)) * float(sc[2 * quarter + l / 16]) * float(q);
    }
    default: return 0.0f;
  }
}

}  // namespace cj::cuda
