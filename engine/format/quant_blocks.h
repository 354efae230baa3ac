// The ggml block structs (byte-exact GGUF layouts), half/bfloat16 conversions, and the 8-bit activation formats
// the quantized dot products consume. Internal to the kernels and their tests; the forward pass uses quant.h.
#pragma once
#include <cstdint>
#include <cstring>

namespace cj::q {

constexpr int kQK = 32;    // elements per block of q4_0 / q8_0
constexpr int kQKK = 256;  // elements per super-block of the k-quants

// q8_0: x = d * qs[i].
struct BlockQ8_0 {
  uint16_t d;      // f16 scale
  int8_t qs[32];   // [32] quants
};
// q4_0: x[i] = (nibble - 8) * d; qs[j] low nibble = element j, high nibble = element j + 16 (j < 16).
struct BlockQ4_0 {
  uint16_t d;       // f16 scale
  uint8_t qs[16];   // [16] two 4-bit quants per byte
};
// q4_K: 8 sub-blocks of 32; x = d * sc[j] * q - dmin * m[j] with 6-bit sc/m packed in `scales` (see
// unpack_q4k_scales). qs holds 4 groups of 32 bytes: group g's low nibbles are sub-block 2g, high nibbles 2g+1.
struct BlockQ4_K {
  uint16_t d;           // f16 super-scale of the sub-block scales
  uint16_t dmin;        // f16 super-scale of the sub-block mins
  uint8_t scales[12];   // [8] 6-bit scales and [8] 6-bit mins, packed
  uint8_t qs[128];      // [256] 4-bit quants
};
// q6_K: 16 sub-blocks of 16; x = d * scales[s] * (q - 32) with 6-bit q = low 4 bits from ql, high 2 from qh.
// Per half (128 elements, h = 0/1): ql+64h, qh+32h, scales+8h. For l < 32: element l uses ql[l] low nibble and
// qh[l] bits 0-1; element l+32: ql[l+32] low, qh bits 2-3; l+64: ql[l] high, qh bits 4-5; l+96: ql[l+32] high,
// qh bits 6-7. Element e of the half has scale index e / 16.
struct BlockQ6_K {
  uint8_t ql[128];     // [256] low 4 bits
  uint8_t qh[64];      // [256] high 2 bits
  int8_t scales[16];   // [16] 8-bit sub-block scales
  uint16_t d;          // f16 super-scale
};
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ6_K) == 210);

// Unpacks q4_K's 12 scale bytes: sub-blocks 0-3 use the low 6 bits of bytes 0-3 (scales) and 4-7 (mins);
// sub-blocks 4-7 take their low 4 bits from bytes 8-11 (scale: low nibble, min: high nibble) and their high 2 bits
// from the top 2 bits of bytes 0-3 (scales) and 4-7 (mins).
inline void unpack_q4k_scales(const uint8_t* s, uint8_t sc[8], uint8_t m[8]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    m[j] = s[j + 4] & 63;
    sc[j + 4] = static_cast<uint8_t>((s[j + 8] & 0xF) | ((s[j] >> 6) << 4));
    m[j + 4] = static_cast<uint8_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
  }
}
inline void pack_q4k_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t s[12]) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
  }
}

inline float bits_to_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t f32_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// IEEE half -> float, exact for every input (subnormals, inf, nan).
inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  uint32_t mant = h & 0x3FF;
  if (exp == 0x1F) return bits_to_f32(sign | 0x7F800000u | (mant << 13));
  if (exp == 0) {
    if (mant == 0) return bits_to_f32(sign);
    // subnormal: value = mant * 2^-24
    const float v = static_cast<float>(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  return bits_to_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

// float -> IEEE half, round to nearest even; overflow gives inf, nan stays nan.
inline uint16_t f32_to_f16(float f) {
  const uint32_t x = f32_to_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t ax = x & 0x7FFFFFFF;
  if (ax >= 0x7F800000) return static_cast<uint16_t>(sign | 0x7C00 | (ax > 0x7F800000 ? 0x200 : 0));
  if (ax >= 0x477FF000) return static_cast<uint16_t>(sign | 0x7C00);  // rounds to >= 65520: inf
  if (ax < 0x38800000) {                                              // below the smallest normal half 2^-14
    // subnormal half: round(|f| * 2^24) in units of 2^-24, ties to even via float arithmetic
    const float a = bits_to_f32(ax) * 16777216.0f;
    const uint32_t r = static_cast<uint32_t>(__builtin_rintf(a));
    return static_cast<uint16_t>(sign | r);
  }
  // normal: rebias exponent, round mantissa from 23 to 10 bits, ties to even
  uint32_t h = ((ax >> 13) - (112u << 10));
  const uint32_t rem = ax & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;
  return static_cast<uint16_t>(sign | h);
}

inline float bf16_to_f32(uint16_t b) { return bits_to_f32(static_cast<uint32_t>(b) << 16); }
// float -> bfloat16, round to nearest even; nan stays nan.
inline uint16_t f32_to_bf16(float f) {
  const uint32_t x = f32_to_bits(f);
  if ((x & 0x7FFFFFFF) > 0x7F800000) return static_cast<uint16_t>((x >> 16) | 0x40);
  return static_cast<uint16_t>((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
}

// ---- 8-bit activation formats (x quantized once per matvec; layouts private to this engine) ----
// A prepared activation row is one buffer: int8 qs[cols] then per-block metadata (64-byte aligned parts).
// Q8A ("per 32", consumed by q8_0 / q4_0 weights): float d[cols/32] (x ~= d * q), float s[cols/32] = d * sum(q).
// Q8KA ("per 256", consumed by q4_K / q6_K weights): float d[cols/256], int16 bsum[cols/16] (sums of 16 quants).
enum class ActFormat { F32, Q8A, Q8KA };

inline size_t align64(size_t n) { return (n + 63) & ~static_cast<size_t>(63); }
// Bytes of one prepared activation row of cols elements (a multiple of 64, so rows stay aligned).
inline size_t act_row_bytes(ActFormat f, int64_t cols) {
  const size_t n = static_cast<size_t>(cols);
  switch (f) {
    case ActFormat::F32: return align64(n * 4);
    case ActFormat::Q8A: return align64(n) + align64(n / 32 * 4) * 2;
    case ActFormat::Q8KA: return align64(n) + align64(n / 256 * 4) + align64(n / 16 * 2);
  }
  return 0;
}
struct Q8AView {
  const int8_t* qs;  // [cols]
  const float* d;    // [cols/32]
  const float* s;    // [cols/32]
};
inline Q8AView q8a_view(const void* row, int64_t cols) {
  const auto* b = static_cast<const uint8_t*>(row);
  const size_t n = static_cast<size_t>(cols);
  return {reinterpret_cast<const int8_t*>(b), reinterpret_cast<const float*>(b + align64(n)),
          reinterpret_cast<const float*>(b + align64(n) + align64(n / 32 * 4))};
}
struct Q8KAView {
  const int8_t* qs;     // [cols]
  const float* d;       // [cols/256]
  const int16_t* bsum;  // [cols/16]
};
inline Q8KAView q8ka_view(const void* row, int64_t cols) {
  const auto* b = static_cast<const uint8_t*>(row);
  const size_t n = static_cast<size_t>(cols);
  return {reinterpret_cast<const int8_t*>(b), reinterpret_cast<const float*>(b + align64(n)),
          reinterpret_cast<const int16_t*>(b + align64(n) + align64(n / 256 * 4))};
}

}  // namespace cj::q
