// AVX2 + FMA + F16C kernels (compiled with -mavx2 -mfma -mf16c; called only when the CPU has them). They use the
// reference activation preparation (signed 8-bit quants in natural order) and the tiling of quant_tiling.h:
//  - q8_0 / q4_0: signed x signed via the sign trick (|w| as the unsigned operand of VPMADDUBSW, x with w's sign),
//    then VPMADDWD with ones to 32 bits; one float scale per block.
//  - q4_K / q6_K: unsigned weights (nibbles, 6-bit values) x signed x with VPMADDUBSW, sub-block scales applied
//    in integers with VPMADDWD, one float scale per super-block.
#include <immintrin.h>

#include <cstring>

#include "engine/cpu/quant_kernels.h"
#include "engine/cpu/quant_tiling.h"

namespace cj::kern {

namespace {

using namespace cj::q;

inline float f16(uint16_t h) { return _cvtsh_ss(h); }
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

template <bool kQ4>
struct KQ8_0 {
  static constexpr int kNR = 4;
  static constexpr size_t kBlock = kQ4 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
  static inline __m256i load_w(const uint8_t* row, int64_t b, float* dw) {
    const uint8_t* blk = row + b * kBlock;
    uint16_t h;
    std::memcpy(&h, blk, 2);
    *dw = f16(h);
    if constexpr (kQ4) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
      const __m128i m = _mm_set1_epi8(0x0F);
      const __m256i w = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(v, m)),
                                                _mm_and_si128(_mm_srli_epi16(v, 4), m), 1);
      return _mm256_sub_epi8(w, _mm256_set1_epi8(8));
    } else {
      return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    }
  }
  template <int NR, int NX>
  static void tile(const uint8_t* W, size_t ws, const uint8_t* A, size_t as, int64_t cols, float* Y, int64_t ldy) {
    __m256 acc[NR][NX];
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < NX; ++i) acc[r][i] = _mm256_setzero_ps();
    const float* xd[NX];
    for (int i = 0; i < NX; ++i) xd[i] = q8a_view(A + i * as, cols).d;
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < cols / kQK; ++b) {
      __m256i w[NR], aw[NR];
      __m256 dw[NR];
      for (int r = 0; r < NR; ++r) {
        float d;
        w[r] = load_w(W + r * ws, b, &d);
        aw[r] = _mm256_sign_epi8(w[r], w[r]);  // |w|
        dw[r] = _mm256_set1_ps(d);
      }
      for (int i = 0; i < NX; ++i) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A + i * as + b * kQK));
        const __m256 dx = _mm256_set1_ps(xd[i][b]);
        for (int r = 0; r < NR; ++r) {
          const __m256i p16 = _mm256_maddubs_epi16(aw[r], _mm256_sign_epi8(xv, w[r]));
          const __m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
          acc[r][i] = _mm256_fmadd_ps(_mm256_mul_ps(p, dx), dw[r], acc[r][i]);
        }
      }
    }
    for (int i = 0; i < NX; ++i)
      for (int r = 0; r < NR; ++r) Y[i * ldy + r] = hsum(acc[r][i]);
  }
};

inline void q4k_unpack(const BlockQ4_K* blk, uint8_t sc[8], uint8_t m[8]) {
  uint32_t s[3];
  std::memcpy(s, blk->scales, 12);
  const uint32_t v[4] = {s[0] & 0x3F3F3F3Fu, (s[2] & 0x0F0F0F0Fu) | ((s[0] >> 2) & 0x30303030u),
                         s[1] & 0x3F3F3F3Fu, ((s[2] >> 4) & 0x0F0F0F0Fu) | ((s[1] >> 2) & 0x30303030u)};
  std::memcpy(sc, v, 8);
  std::memcpy(m, v + 2, 8);
}

struct KQ4_K {
  static constexpr int kNR = 2;
  template <int NR, int NX>
  static void tile(const uint8_t* W, size_t ws, const uint8_t* A, size_t as, int64_t cols, float* Y, int64_t ldy) {
    __m256 acc[NR][NX];
    float macc[NR][NX] = {};
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < NX; ++i) acc[r][i] = _mm256_setzero_ps();
    Q8KAView xv[NX];
    for (int i = 0; i < NX; ++i) xv[i] = q8ka_view(A + i * as, cols);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int64_t b = 0; b < cols / kQKK; ++b) {
      __m256i lo[NR][4], hi[NR][4], slo[NR][4], shi[NR][4];
      uint8_t m[NR][8];
      float d[NR], dmin[NR];
      for (int r = 0; r < NR; ++r) {
        const auto* blk = reinterpret_cast<const BlockQ4_K*>(W + r * ws) + b;
        d[r] = f16(blk->d);
        dmin[r] = f16(blk->dmin);
        uint8_t sc[8];
        q4k_unpack(blk, sc, m[r]);
        for (int g = 0; g < 4; ++g) {
          const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk->qs + 32 * g));
          lo[r][g] = _mm256_and_si256(v, m4);
          hi[r][g] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
          slo[r][g] = _mm256_set1_epi16(sc[2 * g]);
          shi[r][g] = _mm256_set1_epi16(sc[2 * g + 1]);
        }
      }
      for (int i = 0; i < NX; ++i) {
        const int8_t* xq = xv[i].qs + b * kQKK;
        const int16_t* bs = xv[i].bsum + b * 16;
        const float dx = xv[i].d[b];
        for (int r = 0; r < NR; ++r) {
          __m256i s = _mm256_setzero_si256();
          for (int g = 0; g < 4; ++g) {
            const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * g));
            const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * g + 32));
            s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(lo[r][g], x0), slo[r][g]));
            s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(hi[r][g], x1), shi[r][g]));
          }
          acc[r][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d[r] * dx), acc[r][i]);
          int ms = 0;
          for (int j = 0; j < 8; ++j) ms += m[r][j] * (bs[2 * j] + bs[2 * j + 1]);
          macc[r][i] += dmin[r] * dx * static_cast<float>(ms);
        }
      }
    }
    for (int i = 0; i < NX; ++i)
      for (int r = 0; r < NR; ++r) Y[i * ldy + r] = hsum(acc[r][i]) - macc[r][i];
  }
};

struct KQ6_K {
  static constexpr int kNR = 2;
  template <int NR, int NX>
  static void tile(const uint8_t* W, size_t ws, const uint8_t* A, size_t as, int64_t cols, float* Y, int64_t ldy) {
    __m256 acc[NR][NX];
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < NX; ++i) acc[r][i] = _mm256_setzero_ps();
    Q8KAView xv[NX];
    for (int i = 0; i < NX; ++i) xv[i] = q8ka_view(A + i * as, cols);
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    for (int64_t b = 0; b < cols / kQKK; ++b) {
      // q[r][k]: 32 consecutive 6-bit weights (elements 32k .. 32k+31), sc[r][k]: their two sub-block scales.
      __m256i q[NR][8], sc[NR][8];
      __m256i sc16[NR];
      float d[NR];
      for (int r = 0; r < NR; ++r) {
        const auto* blk = reinterpret_cast<const BlockQ6_K*>(W + r * ws) + b;
        d[r] = f16(blk->d);
        sc16[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk->scales)));
        for (int k = 0; k < 8; ++k) {
          sc[r][k] = _mm256_set_m128i(_mm_set1_epi16(blk->scales[2 * k + 1]), _mm_set1_epi16(blk->scales[2 * k]));
        }
        for (int h = 0; h < 2; ++h) {
          const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk->ql + 64 * h));
          const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk->ql + 64 * h + 32));
          const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk->qh + 32 * h));
          auto hb = [&](int shift) { return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), m2), 4); };
          q[r][4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4), hb(0));
          q[r][4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4), hb(2));
          q[r][4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), hb(4));
          q[r][4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), hb(6));
        }
      }
      for (int i = 0; i < NX; ++i) {
        const int8_t* xq = xv[i].qs + b * kQKK;
        const __m256i bsum = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv[i].bsum + b * 16));
        const float dx = xv[i].d[b];
        for (int r = 0; r < NR; ++r) {
          __m256i s = _mm256_setzero_si256();
          for (int k = 0; k < 8; ++k) {
            const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32 * k));
            s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(q[r][k], x), sc[r][k]));
          }
          s = _mm256_sub_epi32(s, _mm256_slli_epi32(_mm256_madd_epi16(bsum, sc16[r]), 5));  // 32 * sum(sc * bsum)
          acc[r][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d[r] * dx), acc[r][i]);
        }
      }
    }
    for (int i = 0; i < NX; ++i)
      for (int r = 0; r < NR; ++r) Y[i * ldy + r] = hsum(acc[r][i]);
  }
};

template <DType T>
struct KFloat {
  static constexpr int kNR = 4;
  static inline __m256 load_w(const uint8_t* row, int64_t c) {
    if constexpr (T == DType::F32) {
      return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + c);
    } else if constexpr (T == DType::F16) {
      return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + c)));
    } else {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + c));
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
    }
  }
  static inline float scalar_w(const uint8_t* row, int64_t c) {
    if constexpr (T == DType::F32) {
      return reinterpret_cast<const float*>(row)[c];
    } else if constexpr (T == DType::F16) {
      return f16(reinterpret_cast<const uint16_t*>(row)[c]);
    } else {
      return bf16_to_f32(reinterpret_cast<const uint16_t*>(row)[c]);
    }
  }
  template <int NR, int NX>
  static void tile(const uint8_t* W, size_t ws, const uint8_t* A, size_t as, int64_t cols, float* Y, int64_t ldy) {
    __m256 acc[NR][NX];
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < NX; ++i) acc[r][i] = _mm256_setzero_ps();
    const int64_t c8 = cols / 8 * 8;
    for (int64_t c = 0; c < c8; c += 8) {
      __m256 w[NR];
      for (int r = 0; r < NR; ++r) w[r] = load_w(W + r * ws, c);
      for (int i = 0; i < NX; ++i) {
        const __m256 x = _mm256_loadu_ps(reinterpret_cast<const float*>(A + i * as) + c);
        for (int r = 0; r < NR; ++r) acc[r][i] = _mm256_fmadd_ps(w[r], x, acc[r][i]);
      }
    }
    for (int i = 0; i < NX; ++i) {
      for (int r = 0; r < NR; ++r) {
        float s = hsum(acc[r][i]);
        for (int64_t c = c8; c < cols; ++c) s += scalar_w(W + r * ws, c) * reinterpret_cast<const float*>(A + i * as)[c];
        Y[i * ldy + r] = s;
      }
    }
  }
};

}  // namespace

bool get_kernels_avx2(DType t, TypeKernels* out) {
  switch (t) {
    case DType::F32: *out = {ActFormat::F32, nullptr, tiled_gemm<KFloat<DType::F32>>}; return true;
    case DType::F16: *out = {ActFormat::F32, nullptr, tiled_gemm<KFloat<DType::F16>>}; return true;
    case DType::BF16: *out = {ActFormat::F32, nullptr, tiled_gemm<KFloat<DType::BF16>>}; return true;
    case DType::Q8_0: *out = {ActFormat::Q8A, prep_q8a, tiled_gemm<KQ8_0<false>>}; return true;
    case DType::Q4_0: *out = {ActFormat::Q8A, prep_q8a, tiled_gemm<KQ8_0<true>>}; return true;
    case DType::Q4_K: *out = {ActFormat::Q8KA, prep_q8ka, tiled_gemm<KQ4_K>}; return true;
    case DType::Q6_K: *out = {ActFormat::Q8KA, prep_q8ka, tiled_gemm<KQ6_K>}; return true;
  }
  return false;
}

}  // namespace cj::kern
