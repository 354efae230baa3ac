// AVX-512 (F/BW/VL/DQ + VNNI) kernels, compiled with the matching -m flags and called only when the CPU has them.
//
// Every product runs as tiles of NR weight rows x NX activation rows: the weight blocks of a tile are unpacked once
// and reused for NX activation rows (matmul), and NR rows stream in parallel (matvec). Quantized weights meet
// activations quantized to 8 bits by this file's own prep functions (same values as the scalar prep; only the
// byte order/offset of the stored quants differs):
//  - q8_0 / q4_0: x stored as u8 = q + 128 so VPDPBUSD takes x as its unsigned operand and the signed weights as
//    the other; the 128 * sum(w) bias is removed by starting each accumulator at -128 * sum(w) (per lane).
//  - q4_K: x reordered per 128 elements as [0..31, 64..95, 32..63, 96..127] so that a 64-byte load of qs gives,
//    by low and high nibbles, exactly the next two 64-element runs of x; products are u8 x s8 -> s16 (VPMADDUBSW)
//    then scaled by the 6-bit sub-block scales in s16 x s16 -> s32 (VPDPWSSD).
//  - q6_K: x in order; 6-bit weights rebuilt as u8 0..63, the -32 offset removed with the per-16 sums of x.
#include <immintrin.h>

// GCC 12 reports a false "used uninitialized" inside its own _mm512_reduce_*_ps headers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cstring>
#include <new>

#include "engine/cpu/cpu_features.h"
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

// ------------------------------------------------------------------------------------------------- prep

// 16 floats -> 16 int8 (round to nearest even, like lrintf in the scalar prep); returns them in an xmm and their
// sum via *sum.
inline __m128i quant16(const float* x, __m512 id, int* sum) {
  const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x), id));
  *sum = _mm512_reduce_add_epi32(q);
  return _mm512_cvtsepi32_epi8(q);
}

// q4_0 activations: signed quants; every full group of 4 blocks stored as [b0[0..15], b1[0..15], b2[0..15],
// b3[0..15], b0[16..31], .., b3[16..31]] so that one 64-byte load meets the low (or high) nibbles of 4 blocks.
// Blocks after the last full group stay in natural order.
void prep_q8a_q4(const float* x, void* dst, int64_t cols) {
  prep_q8a(x, dst, cols);  // natural order, same values as the reference
  auto* qs = static_cast<int8_t*>(dst);
  alignas(64) int8_t tmp[128];
  for (int64_t g = 0; g + 4 <= cols / kQK; g += 4) {
    int8_t* p = qs + g * kQK;
    for (int j = 0; j < 4; ++j) {
      std::memcpy(tmp + 16 * j, p + 32 * j, 16);
      std::memcpy(tmp + 64 + 16 * j, p + 32 * j + 16, 16);
    }
    std::memcpy(p, tmp, 128);
  }
}

template <bool kPermuteForQ4K>
void prep_q8ka(const float* x, void* dst, int64_t cols) {
  auto* qs = static_cast<int8_t*>(dst);
  Q8KAView v = q8ka_view(dst, cols);
  auto* d = const_cast<float*>(v.d);
  auto* bs = const_cast<int16_t*>(v.bsum);
  for (int64_t b = 0; b < cols / kQKK; ++b) {
    const float* xb = x + b * kQKK;
    __m512 m = _mm512_setzero_ps();
    for (int i = 0; i < kQKK; i += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(xb + i)));
    const float db = _mm512_reduce_max_ps(m) / 127.0f;
    const __m512 id = _mm512_set1_ps(db != 0 ? 1.0f / db : 0.0f);
    for (int c = 0; c < 16; ++c) {  // chunks of 16 elements
      int sum;
      const __m128i q = quant16(xb + 16 * c, id, &sum);
      int pos = c;
      if (kPermuteForQ4K) {
        const int in_half = c % 8;  // swap chunks {2,3} with {4,5} of every 128
        pos = c - in_half + (in_half == 2 || in_half == 3 ? in_half + 2 : in_half == 4 || in_half == 5 ? in_half - 2 : in_half);
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + b * kQKK + 16 * pos), q);
      bs[b * 16 + c] = static_cast<int16_t>(sum);
    }
    d[b] = db;
  }
}

// ------------------------------------------------------------------------------------- tiles (quant_tiling.h)

// q4_0: four blocks per step, one weight row at a time. Unsigned nibbles meet signed x (VPDPBUSD); the -8 offset
// is applied per block with the sum of x: dot = d_w * (d_x * sum(q * x) - 8 * s_x).
struct KQ4_0 {
  static constexpr int kNR = 2;
  template <int NR, int NX>
  static void tile(const uint8_t* W, size_t ws, const uint8_t* A, size_t as, int64_t cols, float* Y, int64_t ldy) {
    __m512 acc[NR][NX];
    __m128 corr[NR][NX];
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < NX; ++i) {
        acc[r][i] = _mm512_setzero_ps();
        corr[r][i] = _mm_setzero_ps();
      }
    Q8AView xv[NX];
    for (int i = 0; i < NX; ++i) xv[i] = q8a_view(A + i * as, cols);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i quad_idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    const int64_t nb = cols / kQK, nb4 = nb / 4 * 4;
    for (int r = 0; r < NR; ++r) {
      const auto* blk = reinterpret_cast<const BlockQ4_0*>(W + r * ws);
      for (int64_t b = 0; b < nb4; b += 4) {
        __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[b].qs)));
        v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[b + 1].qs)), 1);
        v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[b + 2].qs)), 2);
        v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[b + 3].qs)), 3);
        const __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        const __m128 dw4 = _mm_cvtph_ps(_mm_set_epi16(0, 0, 0, 0, static_cast<short>(blk[b + 3].d),
                                                      static_cast<short>(blk[b + 2].d), static_cast<short>(blk[b + 1].d),
                                                      static_cast<short>(blk[b].d)));
        const __m512 dw16 = _mm512_permutexvar_ps(quad_idx, _mm512_castps128_ps512(dw4));
        for (int i = 0; i < NX; ++i) {
          const int8_t* xq = xv[i].qs + b * kQK;
          __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(xq));
          p = _mm512_dpbusd_epi32(p, hi, _mm512_loadu_si512(xq + 64));
          const __m512 dx16 = _mm512_permutexvar_ps(quad_idx, _mm512_castps128_ps512(_mm_loadu_ps(xv[i].d + b)));
          acc[r][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw16, dx16), acc[r][i]);
          corr[r][i] = _mm_fmadd_ps(dw4, _mm_loadu_ps(xv[i].s + b), corr[r][i]);
        }
      }
      for (int64_t b = nb4; b < nb; ++b) {  // leftover blocks, natural order
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[b].qs));
        const __m128i m = _mm_set1_epi8(0x0F);
        const __m256i w = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(v, m)),
                                                  _mm_and_si128(_mm_srli_epi16(v, 4), m), 1);
        const float dw = f16(blk[b].d);
        for (int i = 0; i < NX; ++i) {
          const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv[i].qs + b * kQK));
          const __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, x);
          const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * xv[i].d[b]));
          acc[r][i] = _mm512_add_ps(acc[r][i], _mm512_zextps256_ps512(f));
          corr[r][i] = _mm_add_ss(corr[r][i], _mm_set_ss(dw * xv[i].s[b]));
        }
      }
    }
    for (int i = 0; i < NX; ++i)
      for (int r = 0; r < NR; ++r) {
        __m128 c = corr[r][i];
        c = _mm_add_ps(c, _mm_movehl_ps(c, c));
        c = _mm_add_ss(c, _mm_movehdup_ps(c));
        Y[i * ldy + r] = _mm512_reduce_add_ps(acc[r][i]) - 8.0f * _mm_cvtss_f32(c);
      }
  }
};

inline void q4k_unpack(const BlockQ4_K* blk, uint64_t* sc8, uint64_t* m8) {
  uint32_t s[3];
  std::memcpy(s, blk->scales, 12);
  const uint32_t sc_lo = s[0] & 0x3F3F3F3Fu, m_lo = s[1] & 0x3F3F3F3Fu;
  const uint32_t sc_hi = (s[2] & 0x0F0F0F0Fu) | ((s[0] >> 2) & 0x30303030u);
  const uint32_t m_hi = ((s[2] >> 4) & 0x0F0F0F0Fu) | ((s[1] >> 2) & 0x30303030u);
  *sc8 = sc_lo | (static_cast<uint64_t>(sc_hi) << 32);
  *m8 = m_lo | (static_cast<uint64_t>(m_hi) << 32);
}

// Permutation indices for VPERMW: 32 lanes, the first 16 take entry a, the last 16 entry b.
inline __m512i idx2(int a, int b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(static_cast<short>(a))),
                            _mm256_set1_epi16(static_cast<short>(b)), 1);
}
// VPSHUFB control over a broadcast of 8 bytes: words 0..15 take byte a (zero-extended), words 16..31 byte b.
inline __m512i bidx2(int a, int b) {
  alignas(64) uint8_t v[64];
  for (int w = 0; w < 32; ++w) {
    v[2 * w] = static_cast<uint8_t>(w < 16 ? a : b);
    v[2 * w + 1] = 0x80;
  }
  return _mm512_load_si512(v);
}
// Words 2j and 2j + 1 take byte j (the 16 lanes of one 256-bit half; the upper half repeats it).
inline __m512i bidx_pairs() {
  alignas(64) uint8_t v[64];
  for (int w = 0; w < 32; ++w) {
    v[2 * w] = static_cast<uint8_t>((w % 16) / 2);
    v[2 * w + 1] = 0x80;
  }
  return _mm512_load_si512(v);
}
// 32 lanes: lane l takes entry base + l / 8.
inline __m512i idx4(int base) {
  alignas(64) int16_t v[32];
  for (int l = 0; l < 32; ++l) v[l] = static_cast<int16_t>(base + l / 8);
  return _mm512_load_si512(v);
}

struct KQ4_K {
  static constexpr int kNR = 2;
  template <int NR, int NX>
  static void tile(const uint8_t* W, size_t ws, const uint8_t* A, size_t as, int64_t cols, float* Y, int64_t ldy) {
    __m512 acc[NR][NX];
    __m256 macc[NR][NX];
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < NX; ++i) {
        acc[r][i] = _mm512_setzero_ps();
        macc[r][i] = _mm256_setzero_ps();
      }
    Q8KAView xv[NX];
    for (int i = 0; i < NX; ++i) xv[i] = q8ka_view(A + i * as, cols);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i ilo0 = idx2(0, 2), ihi0 = idx2(1, 3), ilo1 = idx2(4, 6), ihi1 = idx2(5, 7);
    for (int64_t b = 0; b < cols / kQKK; ++b) {
      // One weight row at a time (its unpacked quants stay in registers), all activation rows inside.
      for (int r = 0; r < NR; ++r) {
        const auto* blk = reinterpret_cast<const BlockQ4_K*>(W + r * ws) + b;
        // Each row's stream a little ahead, on top of the tile prefetch (quant_tiling.h): the kernel does enough
        // work per byte that the hardware prefetcher alone leaves it waiting on DRAM.
        const char* ahead = reinterpret_cast<const char*>(blk) + kQ4KRowPrefetch;
        for (int l = 0; l < 3; ++l) _mm_prefetch(ahead + 64 * l, _MM_HINT_T0);
        const float d = f16(blk->d), dmin = f16(blk->dmin);
        uint64_t sc8, m8;
        q4k_unpack(blk, &sc8, &m8);
        const __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(sc8))));
        const __m128i mv = _mm_cvtsi64_si128(static_cast<long long>(m8));
        const __m256i mdup = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mv, mv));
        __m512i s[NX];
        for (int i = 0; i < NX; ++i) s[i] = _mm512_setzero_si512();
        for (int k = 0; k < 2; ++k) {
          const __m512i v = _mm512_loadu_si512(blk->qs + 64 * k);
          const __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
          const __m512i slo = _mm512_permutexvar_epi16(k ? ilo1 : ilo0, sc16);
          const __m512i shi = _mm512_permutexvar_epi16(k ? ihi1 : ihi0, sc16);
          for (int i = 0; i < NX; ++i) {
            const int8_t* xq = xv[i].qs + b * kQKK + 128 * k;
            s[i] = _mm512_dpwssd_epi32(s[i], _mm512_maddubs_epi16(lo, _mm512_loadu_si512(xq)), slo);
            s[i] = _mm512_dpwssd_epi32(s[i], _mm512_maddubs_epi16(hi, _mm512_loadu_si512(xq + 64)), shi);
          }
        }
        for (int i = 0; i < NX; ++i) {
          const float dx = xv[i].d[b];
          const __m256i bsum = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv[i].bsum + b * 16));
          acc[r][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[i]), _mm512_set1_ps(d * dx), acc[r][i]);
          macc[r][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(bsum, mdup)), _mm256_set1_ps(dmin * dx),
                                       macc[r][i]);
        }
      }
    }
    for (int i = 0; i < NX; ++i)
      for (int r = 0; r < NR; ++r) Y[i * ldy + r] = _mm512_reduce_add_ps(acc[r][i]) - hsum(macc[r][i]);
  }
};

struct KQ6_K {
  static constexpr int kNR = 2;
  template <int NR, int NX>
  static void tile(const uint8_t* W, size_t ws, const uint8_t* A, size_t as, int64_t cols, float* Y, int64_t ldy) {
    __m512 acc[NR][NX];
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < NX; ++i) acc[r][i] = _mm512_setzero_ps();
    Q8KAView xv[NX];
    for (int i = 0; i < NX; ++i) xv[i] = q8ka_view(A + i * as, cols);
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x03);
    const __m512i iA0 = idx4(0), iB0 = idx4(4), iA1 = idx4(8), iB1 = idx4(12);
    for (int64_t b = 0; b < cols / kQKK; ++b) {
      __m512i qa[NR][2], qb[NR][2], sa[NR][2], sb[NR][2];
      __m256i sc16[NR];
      float d[NR];
      for (int r = 0; r < NR; ++r) {
        const auto* blk = reinterpret_cast<const BlockQ6_K*>(W + r * ws) + b;
        d[r] = f16(blk->d);
        sc16[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk->scales)));
        const __m512i s512 = _mm512_castsi256_si512(sc16[r]);
        sa[r][0] = _mm512_permutexvar_epi16(iA0, s512);
        sb[r][0] = _mm512_permutexvar_epi16(iB0, s512);
        sa[r][1] = _mm512_permutexvar_epi16(iA1, s512);
        sb[r][1] = _mm512_permutexvar_epi16(iB1, s512);
        for (int h = 0; h < 2; ++h) {
          const __m512i ql = _mm512_loadu_si512(blk->ql + 64 * h);
          const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk->qh + 32 * h));
          const __m512i h01 = _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
          const __m512i h23 = _mm512_srli_epi16(h01, 4);
          qa[r][h] = _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_slli_epi16(_mm512_and_si512(h01, m2), 4));
          qb[r][h] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                     _mm512_slli_epi16(_mm512_and_si512(h23, m2), 4));
        }
      }
      for (int i = 0; i < NX; ++i) {
        const int8_t* xq = xv[i].qs + b * kQKK;
        const __m512i x0 = _mm512_loadu_si512(xq), x1 = _mm512_loadu_si512(xq + 64);
        const __m512i x2 = _mm512_loadu_si512(xq + 128), x3 = _mm512_loadu_si512(xq + 192);
        const __m256i bsum = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv[i].bsum + b * 16));
        const float dx = xv[i].d[b];
        for (int r = 0; r < NR; ++r) {
          __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(qa[r][0], x0), sa[r][0]);
          s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(qb[r][0], x1), sb[r][0]);
          s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(qa[r][1], x2), sa[r][1]);
          s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(qb[r][1], x3), sb[r][1]);
          const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(bsum, sc16[r]), 5);  // 32 * sum(sc * bsum)
          s = _mm512_sub_epi32(s, _mm512_zextsi256_si512(corr));
          acc[r][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(d[r] * dx), acc[r][i]);
        }
      }
    }
    for (int i = 0; i < NX; ++i)
      for (int r = 0; r < NR; ++r) Y[i * ldy + r] = _mm512_reduce_add_ps(acc[r][i]);
  }
};

// Float weights (f32 / f16 / bf16) against f32 activations, 16 columns at a time with a masked tail.
template <DType T>
struct KFloat {
  static constexpr int kNR = 4;
  static inline __m512 load_w(const uint8_t* row, int64_t c, __mmask16 m) {
    if constexpr (T == DType::F32) {
      return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + c);
    } else if constexpr (T == DType::F16) {
      return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + c));
    } else {
      const __m256i v = _mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + c);
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
    }
  }
  template <int NR, int NX>
  static void tile(const uint8_t* W, size_t ws, const uint8_t* A, size_t as, int64_t cols, float* Y, int64_t ldy) {
    __m512 acc[NR][NX];
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < NX; ++i) acc[r][i] = _mm512_setzero_ps();
    for (int64_t c = 0; c < cols; c += 16) {
      const __mmask16 m = cols - c >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (cols - c)) - 1);
      __m512 w[NR];
      for (int r = 0; r < NR; ++r) w[r] = load_w(W + r * ws, c, m);
      for (int i = 0; i < NX; ++i) {
        const __m512 x = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(A + i * as) + c);
        for (int r = 0; r < NR; ++r) acc[r][i] = _mm512_fmadd_ps(w[r], x, acc[r][i]);
      }
    }
    for (int i = 0; i < NX; ++i)
      for (int r = 0; r < NR; ++r) Y[i * ldy + r] = _mm512_reduce_add_ps(acc[r][i]);
  }
};

// ------------------------------------------------------------------------- matvec kernels (n < 4, decode)
//
// Decode streams every weight byte once, so these kernels minimise the work per weight byte rather than reuse
// unpacked tiles: NR = 4 rows share each activation load and everything derived from the activation, and the
// zero-point corrections become integers that start the VPDPBUSD accumulators:
//  - x is stored signed (natural order for q8_0, the q4_0 group order of prep_q8a_q4 for q4_0) and the s slot of
//    Q8A holds an int32 per block, c = -(offset / lanes per block) * sum(x quants), so that an accumulator that
//    starts at c in each of the block's lanes ends at the exact integer dot product of the block;
//  - q8_0: w + 128 (one XOR) is the unsigned operand, offset 128 over 8 lanes: c = -16 * sum;
//  - q4_0: the nibbles 0..15 are the unsigned operand, offset 8 over 4 lanes: c = -2 * sum;
//  - q4_0: the f16 scales of 4 blocks come out of a 64-byte load by one VPERMW, the 4 quant runs (16 bytes at
//    18-byte spacing) out of two overlapping loads by one VPERMT2B.

// Signed quants in natural order (same values as prep_q8a), d per block, and kMul * sum(quants) as int32 in s.
template <int kMul>
void prep_q8a_isum(const float* x, void* dst, int64_t cols) {
  auto* qs = static_cast<int8_t*>(dst);
  Q8AView v = q8a_view(dst, cols);
  auto* d = const_cast<float*>(v.d);
  auto* s = reinterpret_cast<int32_t*>(const_cast<float*>(v.s));
  for (int64_t b = 0; b < cols / kQK; ++b) {
    const float* xb = x + b * kQK;
    const __m512 a0 = _mm512_abs_ps(_mm512_loadu_ps(xb)), a1 = _mm512_abs_ps(_mm512_loadu_ps(xb + 16));
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(a0, a1));
    const float db = amax / 127.0f;
    const __m512 id = _mm512_set1_ps(db != 0 ? 1.0f / db : 0.0f);
    int s0, s1;
    const __m128i q0 = quant16(xb, id, &s0), q1 = quant16(xb + 16, id, &s1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + b * kQK), q0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + b * kQK + 16), q1);
    d[b] = db;
    s[b] = kMul * (s0 + s1);
  }
}

void prep_q8a_isum_q4(const float* x, void* dst, int64_t cols) {
  prep_q8a_isum<-2>(x, dst, cols);
  auto* qs = static_cast<int8_t*>(dst);
  alignas(64) int8_t tmp[128];
  for (int64_t g = 0; g + 4 <= cols / kQK; g += 4) {  // the group order of prep_q8a_q4
    int8_t* p = qs + g * kQK;
    for (int j = 0; j < 4; ++j) {
      std::memcpy(tmp + 16 * j, p + 32 * j, 16);
      std::memcpy(tmp + 64 + 16 * j, p + 32 * j + 16, 16);
    }
    std::memcpy(p, tmp, 128);
  }
}

// 32 word indices for VPERMW (only the first 16 matter).
inline __m512i widx(const int16_t (&v)[16]) {
  alignas(64) int16_t a[32] = {};
  for (int l = 0; l < 16; ++l) a[l] = v[l];
  return _mm512_load_si512(a);
}

// Needs AVX-512 VBMI (VPERMT2B) besides the set's baseline: only this function is compiled for it, and the kernel
// is offered only when the CPU has it.
struct KQ4_0v {
  static constexpr int kNR = 4;
  template <int NR, int NX>
  __attribute__((target("avx512vbmi"))) static void tile(const uint8_t* W, size_t ws, const uint8_t* A, size_t as,
                                                         int64_t cols, float* Y, int64_t ldy) {
    __m512 acc[NR][NX];
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < NX; ++i) acc[r][i] = _mm512_setzero_ps();
    Q8AView xv[NX];
    for (int i = 0; i < NX; ++i) xv[i] = q8a_view(A + i * as, cols);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i quad_idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    // Scales of a group of 4 blocks: words 0, 9, 18, 27 (bytes 0, 18, 36, 54), each to 4 lanes.
    const __m512i sidx = widx({0, 0, 0, 0, 9, 9, 9, 9, 18, 18, 18, 18, 27, 27, 27, 27});
    // Quants: block j's 16 bytes (at 18 j + 2) to bytes 16 j..16 j + 15; bytes below 64 from the load at the group
    // start, the last block (56..71) from the load at +8 (VPERMT2B indices 64.. select the second source).
    alignas(64) uint8_t qi[64];
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 16; ++k) {
        const int src = 18 * j + 2 + k;
        qi[16 * j + k] = static_cast<uint8_t>(j < 3 ? src : 64 + src - 8);
      }
    const __m512i qidx = _mm512_load_si512(qi);
    const int64_t nb = cols / kQK, nb4 = nb / 4 * 4;
    constexpr size_t kB = sizeof(BlockQ4_0);
    for (int64_t b = 0; b < nb4; b += 4) {
      __m512i xl[NX], xh[NX], c[NX];
      __m512 dx[NX];
      for (int i = 0; i < NX; ++i) {
        const int8_t* xq = xv[i].qs + b * kQK;
        xl[i] = _mm512_loadu_si512(xq);
        xh[i] = _mm512_loadu_si512(xq + 64);
        c[i] = _mm512_permutexvar_epi32(
            quad_idx, _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xv[i].s + b))));
        dx[i] = _mm512_permutexvar_ps(quad_idx, _mm512_castps128_ps512(_mm_loadu_ps(xv[i].d + b)));
      }
      for (int r = 0; r < NR; ++r) {
        const uint8_t* p = W + r * ws + b * kB;
        const __m512i l0 = _mm512_loadu_si512(p), l1 = _mm512_loadu_si512(p + 8);
        const __m512i v = _mm512_permutex2var_epi8(l0, qidx, l1);
        const __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(sidx, l0)));
        const __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        for (int i = 0; i < NX; ++i) {
          const __m512i q = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(c[i], lo, xl[i]), hi, xh[i]);
          acc[r][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q), _mm512_mul_ps(dw, dx[i]), acc[r][i]);
        }
      }
    }
    float tail[NR][NX] = {};
    for (int64_t b = nb4; b < nb; ++b) {  // leftover blocks, natural order
      for (int r = 0; r < NR; ++r) {
        const auto* blk = reinterpret_cast<const BlockQ4_0*>(W + r * ws) + b;
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk->qs));
        const __m128i m = _mm_set1_epi8(0x0F);
        const __m256i w = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(v, m)),
                                                  _mm_and_si128(_mm_srli_epi16(v, 4), m), 1);
        const float dw = f16(blk->d);
        for (int i = 0; i < NX; ++i) {
          const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv[i].qs + b * kQK));
          int32_t si;
          std::memcpy(&si, xv[i].s + b, 4);
          const __m256i q = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, x);
          const __m128i q4 = _mm_add_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
          const __m128i q2 = _mm_add_epi32(q4, _mm_unpackhi_epi64(q4, q4));
          const int dot = _mm_cvtsi128_si32(_mm_add_epi32(q2, _mm_srli_epi64(q2, 32))) + 4 * si;  // 4 * (-2 sum)
          tail[r][i] += dw * xv[i].d[b] * static_cast<float>(dot);
        }
      }
    }
    for (int i = 0; i < NX; ++i)
      for (int r = 0; r < NR; ++r) Y[i * ldy + r] = _mm512_reduce_add_ps(acc[r][i]) + tail[r][i];
  }
};

// q4_K matvec: as KQ4_K, but NR = 4 rows run side by side against activation loads shared by all of them (the
// four 64-byte runs of x of each 256-block, its per-16 sums and scale), and the scales of every row come from one
// 64-bit unpack.
struct KQ4_Kv {
  static constexpr int kNR = 4;
  template <int NR, int NX>
  static void tile(const uint8_t* W, size_t ws, const uint8_t* A, size_t as, int64_t cols, float* Y, int64_t ldy) {
    __m512 acc[NR][NX];
    __m256 macc[NR][NX];
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < NX; ++i) {
        acc[r][i] = _mm512_setzero_ps();
        macc[r][i] = _mm256_setzero_ps();
      }
    Q8KAView xv[NX];
    for (int i = 0; i < NX; ++i) xv[i] = q8ka_view(A + i * as, cols);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i bsh0 = bidx2(0, 2), bsh1 = bidx2(1, 3), bsh2 = bidx2(4, 6), bsh3 = bidx2(5, 7);
    const __m256i mdsh = _mm512_castsi512_si256(bidx_pairs());
    for (int64_t b = 0; b < cols / kQKK; ++b) {
      __m512i x[NX][4];
      __m256i bsum[NX];
      float dx[NX];
      for (int i = 0; i < NX; ++i) {
        const int8_t* xq = xv[i].qs + b * kQKK;
        for (int k = 0; k < 4; ++k) x[i][k] = _mm512_loadu_si512(xq + 64 * k);
        bsum[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv[i].bsum + b * 16));
        dx[i] = xv[i].d[b];
      }
      // Unrolled, so that the NR x NX accumulators stay in registers (rolled, GCC kept them on the stack: a load
      // and a store per FMA; unrolled, 0.28 -> 0.27 ms/token in cache and 9.2 -> 8.8 from DRAM for the experts of
      // the Qwen3-MoE bench shape, one thread; the same operations in the same order, so the same bits).
#pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        const auto* blk = reinterpret_cast<const BlockQ4_K*>(W + r * ws) + b;
        // Each row's stream a little ahead, on top of the tile prefetch (quant_tiling.h): the kernel does enough
        // work per byte that the hardware prefetcher alone leaves it waiting on DRAM.
        const char* ahead = reinterpret_cast<const char*>(blk) + kQ4KRowPrefetch;
        for (int l = 0; l < 3; ++l) _mm_prefetch(ahead + 64 * l, _MM_HINT_T0);
        const float d = f16(blk->d), dmin = f16(blk->dmin);
        uint64_t sc8, m8;
        q4k_unpack(blk, &sc8, &m8);
        // Scale words for VPDPWSSD and the min pairs for VPMADDWD, by VPSHUFB from one broadcast each (cheaper
        // than widening the bytes and permuting words across the register: 4 % in cache, one thread).
        const __m512i scb = _mm512_set1_epi64(static_cast<long long>(sc8));
        const __m512i slo0 = _mm512_shuffle_epi8(scb, bsh0), shi0 = _mm512_shuffle_epi8(scb, bsh1);
        const __m512i slo1 = _mm512_shuffle_epi8(scb, bsh2), shi1 = _mm512_shuffle_epi8(scb, bsh3);
        const __m256i mdup = _mm256_shuffle_epi8(_mm256_set1_epi64x(static_cast<long long>(m8)), mdsh);
        const __m512i v0 = _mm512_loadu_si512(blk->qs), v1 = _mm512_loadu_si512(blk->qs + 64);
        const __m512i lo0 = _mm512_and_si512(v0, m4), hi0 = _mm512_and_si512(_mm512_srli_epi16(v0, 4), m4);
        const __m512i lo1 = _mm512_and_si512(v1, m4), hi1 = _mm512_and_si512(_mm512_srli_epi16(v1, 4), m4);
        for (int i = 0; i < NX; ++i) {
          __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(lo0, x[i][0]), slo0);
          s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(hi0, x[i][1]), shi0);
          s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(lo1, x[i][2]), slo1);
          s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(hi1, x[i][3]), shi1);
          acc[r][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(d * dx[i]), acc[r][i]);
          macc[r][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(bsum[i], mdup)),
                                       _mm256_set1_ps(dmin * dx[i]), macc[r][i]);
        }
      }
    }
    for (int i = 0; i < NX; ++i)
      for (int r = 0; r < NR; ++r) Y[i * ldy + r] = _mm512_reduce_add_ps(acc[r][i]) - hsum(macc[r][i]);
  }
};

// q8_0, every n: 16-row tiles with the weights transposed. One 32-bit lane per weight row: for block b the 16 rows' quants are transposed into 8 registers T[k] (lane r =
// bytes 4k..4k+3 of row r, + 128), and VPDPBUSD against the activation's 4 bytes k broadcast (an embedded-broadcast
// memory operand) leaves in lane r, after the 8 k, the exact integer block dot + 128 * sum(x) (the accumulator
// starts at -128 * sum(x), 8 times the s slot of the activation, which holds -16 * sum(x) for q8_0_rows4's 8 lanes). Then per block one convert, one multiply (the 16 rows'
// scales by the activation's) and one FMA for 16 rows: y = sum over blocks, in order, of float(dot) * (d_w * d_x).
// The transposition (24 VPERMT2D) is shared by all activation rows of the call (packed once per tile for a prefill).
// Per 64 products of one weight row and one activation row that is 1 VPDPBUSD and 3/16 of a float operation, where
// the earlier kernels (one block pair of one row per register) spent 1 VPDPBUSD, 1 convert, 1 multiply and 1 FMA:
// at 8 activation rows the float work, not the weight bytes, was the limit. Every q8_0 path of this set (including
// q8_0_rows4 for one activation row) computes y[r] = sum over b in order of float(dot_b) * (d_w,b * d_x,b) in one
// float accumulator, from exact integer block dots, so a row's bits do not depend on the path.
struct Q8TIdx {
  __m512i s1[2], s2[2], s3[2];
  Q8TIdx() {
    alignas(64) int32_t v[16];
    for (int h = 0; h < 2; ++h) {
      for (int l = 0; l < 16; ++l) {  // lane (k - 4h) * 4 + rr
        const int k = 4 * h + l / 4, rr = l % 4;
        v[l] = rr < 2 ? rr * 8 + k : 16 + (rr - 2) * 8 + k;
      }
      s1[h] = _mm512_load_si512(v);
    }
    for (int g = 0; g < 2; ++g) {
      for (int l = 0; l < 16; ++l) {  // lane kk * 8 + rr8
        const int kk = l / 8, rr8 = l % 8;
        v[l] = rr8 < 4 ? (2 * g + kk) * 4 + rr8 : 16 + (2 * g + kk) * 4 + rr8 - 4;
      }
      s2[g] = _mm512_load_si512(v);
    }
    for (int kk = 0; kk < 2; ++kk) {
      for (int l = 0; l < 16; ++l) v[l] = l < 8 ? kk * 8 + l : 16 + kk * 8 + l - 8;
      s3[kk] = _mm512_load_si512(v);
    }
  }
};

// Block b of 16 rows (row pointers p[r]) into T[0..7] (+128 per byte) and the 16 scales.
inline void q8t_unpack(const uint8_t* const* p, int64_t b, const Q8TIdx& ix, __m512i* T, __m512* dw) {
  constexpr size_t kB = sizeof(BlockQ8_0);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i z[8];
  for (int j = 0; j < 8; ++j) {
    const __m512i lo = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[2 * j] + b * kB + 2)));
    const __m512i both = _mm512_mask_broadcast_i64x4(
        lo, 0xF0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[2 * j + 1] + b * kB + 2)));
    z[j] = _mm512_xor_si512(both, flip);
  }
  __m512i s1[4][2];
  for (int m = 0; m < 4; ++m)
    for (int h = 0; h < 2; ++h) s1[m][h] = _mm512_permutex2var_epi32(z[2 * m], ix.s1[h], z[2 * m + 1]);
  __m512i s2[2][2][2];
  for (int q = 0; q < 2; ++q)
    for (int h = 0; h < 2; ++h)
      for (int g = 0; g < 2; ++g) s2[q][h][g] = _mm512_permutex2var_epi32(s1[2 * q][h], ix.s2[g], s1[2 * q + 1][h]);
  for (int h = 0; h < 2; ++h)
    for (int g = 0; g < 2; ++g)
      for (int kk = 0; kk < 2; ++kk) T[4 * h + 2 * g + kk] = _mm512_permutex2var_epi32(s2[0][h][g], ix.s3[kk], s2[1][h][g]);
  alignas(32) uint16_t h[16];
  for (int r = 0; r < 16; ++r) std::memcpy(h + r, p[r] + b * kB, 2);
  *dw = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(h)));
}

// acc[i] += float(dot of block b) * (dw * d_x) for NX activation rows.
template <int NX>
inline void q8t_block(const __m512i* T, __m512 dw, const Q8AView* xv, int64_t b, __m512* acc) {
  for (int i = 0; i < NX; ++i) {
    const int32_t* xq = reinterpret_cast<const int32_t*>(xv[i].qs + b * kQK);
    int32_t si;
    std::memcpy(&si, xv[i].s + b, 4);
    __m512i a = _mm512_dpbusd_epi32(_mm512_set1_epi32(si * 8), T[0], _mm512_set1_epi32(xq[0]));
    __m512i c = _mm512_dpbusd_epi32(_mm512_setzero_si512(), T[1], _mm512_set1_epi32(xq[1]));
    a = _mm512_dpbusd_epi32(a, T[2], _mm512_set1_epi32(xq[2]));
    c = _mm512_dpbusd_epi32(c, T[3], _mm512_set1_epi32(xq[3]));
    a = _mm512_dpbusd_epi32(a, T[4], _mm512_set1_epi32(xq[4]));
    c = _mm512_dpbusd_epi32(c, T[5], _mm512_set1_epi32(xq[5]));
    a = _mm512_dpbusd_epi32(a, T[6], _mm512_set1_epi32(xq[6]));
    c = _mm512_dpbusd_epi32(c, T[7], _mm512_set1_epi32(xq[7]));
    const __m512 f = _mm512_cvtepi32_ps(_mm512_add_epi32(a, c));
    acc[i] = _mm512_fmadd_ps(f, _mm512_mul_ps(dw, _mm512_set1_ps(xv[i].d[b])), acc[i]);
  }
}

template <int NX>
void q8t_tile_direct(const uint8_t* const* p, int64_t nb, const uint8_t* A, size_t as,
                     int64_t cols, float* Y, int64_t ldy, __mmask16 m, const Q8TIdx& ix, size_t pfd) {
  Q8AView xv[NX];
  for (int i = 0; i < NX; ++i) xv[i] = q8a_view(A + i * as, cols);
  __m512 acc[NX];
  for (int i = 0; i < NX; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    if (pfd && (b & 1) == 0)
      for (int r = 0; r < 16; ++r) _mm_prefetch(reinterpret_cast<const char*>(p[r] + b * sizeof(BlockQ8_0) + pfd), _MM_HINT_T0);
    __m512i T[8];
    __m512 dw;
    q8t_unpack(p, b, ix, T, &dw);
    q8t_block<NX>(T, dw, xv, b, acc);
  }
  for (int i = 0; i < NX; ++i) _mm512_mask_storeu_ps(Y + i * ldy, m, acc[i]);
}

template <int NX>
void q8t_tile_packed(const __m512i* pk, int64_t nb, const uint8_t* A, size_t as, int64_t cols, float* Y, int64_t ldy,
                     __mmask16 m) {
  Q8AView xv[NX];
  for (int i = 0; i < NX; ++i) xv[i] = q8a_view(A + i * as, cols);
  __m512 acc[NX];
  for (int i = 0; i < NX; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const __m512i* t = pk + 9 * b;
    q8t_block<NX>(t, _mm512_castsi512_ps(t[8]), xv, b, acc);
  }
  for (int i = 0; i < NX; ++i) _mm512_mask_storeu_ps(Y + i * ldy, m, acc[i]);
}

// One activation row (decode) in the arithmetic of the 16-row tiles above, but streaming 4 weight rows side by side
// in their natural layout (as KQ8_0v: a 16-row tile interleaves 16 streams, which the prefetchers follow badly
// from DRAM). Per block pair, VPDPBUSD gives 8 lanes per row and block that start at -16 * sum(x) each, so their sum
// is the exact block dot; the 4 rows' lanes are summed by unpacks into one 128-bit vector per block (lane = row),
// and the float steps are the tiles' (float(dot) * (d_w * d_x) added in block order), lane for lane.
// The 8 scales of blocks b and b + 1 of 4 rows as floats: [rows 0..3 of b, rows 0..3 of b + 1].
inline __m256 q8r_scales(const uint8_t* const* p, int64_t b) {
  constexpr size_t kB = sizeof(BlockQ8_0);
  __m128i h = _mm_setzero_si128();
  uint16_t v;
#define CJ_Q8R(R, L)                       \
  std::memcpy(&v, p[R] + b * kB, 2);       \
  h = _mm_insert_epi16(h, v, L);           \
  std::memcpy(&v, p[R] + (b + 1) * kB, 2); \
  h = _mm_insert_epi16(h, v, L + 4);
  CJ_Q8R(0, 0) CJ_Q8R(1, 1) CJ_Q8R(2, 2) CJ_Q8R(3, 3)
#undef CJ_Q8R
  return _mm256_cvtph_ps(h);
}

// 4 rows' lanes (each: 8 lanes of block b, 8 of block b + 1) -> [dots of block b for rows 0..3] and of b + 1.
inline void q8r_reduce(const __m512i* v, __m128i* db, __m128i* db1) {
  const __m512i u01 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
  const __m512i u23 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
  const __m512i w = _mm512_add_epi32(_mm512_unpacklo_epi64(u01, u23), _mm512_unpackhi_epi64(u01, u23));
  const __m512i x = _mm512_add_epi32(w, _mm512_shuffle_i32x4(w, w, _MM_SHUFFLE(2, 3, 0, 1)));
  *db = _mm512_castsi512_si128(x);
  *db1 = _mm512_extracti32x4_epi32(x, 2);
}

void q8_0_rows4(const uint8_t* W, size_t ws, int nr, const uint8_t* A, int64_t cols, float* y) {
  const uint8_t* p[4];
  for (int r = 0; r < 4; ++r) p[r] = W + std::min(r, nr - 1) * ws;
  const Q8AView xv = q8a_view(A, cols);
  const int32_t* xs = reinterpret_cast<const int32_t*>(xv.s);
  const int64_t nb = cols / kQK;
  constexpr size_t kB = sizeof(BlockQ8_0);
  const size_t pfd = ws >= kLongRowBytes ? kLongRowPrefetch : 0;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i pair_idx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i quad_idx = _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0);
  __m128 acc = _mm_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const __m512i x = _mm512_loadu_si512(xv.qs + b * kQK);
    const __m512i c = _mm512_permutexvar_epi32(
        pair_idx, _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(xs + b))));
    __m512i v[4];
    for (int r = 0; r < 4; ++r) {
      const uint8_t* q = p[r] + b * kB;
      if (pfd) _mm_prefetch(reinterpret_cast<const char*>(q + pfd), _MM_HINT_T0);
      const __m512i lo = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 2)));
      const __m512i w = _mm512_mask_broadcast_i64x4(lo, 0xF0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + kB + 2)));
      v[r] = _mm512_dpbusd_epi32(c, _mm512_xor_si512(w, flip), x);
    }
    __m128i d0, d1;
    q8r_reduce(v, &d0, &d1);
    // [d_w * d_x] of the 4 rows for b and b + 1 in one multiply (the same products as one per block).
    const __m256 dx = _mm256_permutexvar_ps(
        quad_idx, _mm256_castps128_ps256(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(xv.d + b)))));
    const __m256 sc = _mm256_mul_ps(q8r_scales(p, b), dx);
    acc = _mm_fmadd_ps(_mm_cvtepi32_ps(d0), _mm256_castps256_ps128(sc), acc);
    acc = _mm_fmadd_ps(_mm_cvtepi32_ps(d1), _mm256_extractf128_ps(sc, 1), acc);
  }
  if (b < nb) {  // an odd last block: the upper half (x and the start value) zero
    const __m512i x = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv.qs + b * kQK)));
    const __m512i c = _mm512_zextsi256_si512(_mm256_set1_epi32(xs[b]));
    __m512i v[4];
    for (int r = 0; r < 4; ++r) {
      const __m512i w = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[r] + b * kB + 2)));
      v[r] = _mm512_dpbusd_epi32(c, _mm512_xor_si512(w, flip), x);
    }
    __m128i d0, d1;
    q8r_reduce(v, &d0, &d1);
    uint16_t h[4];
    for (int r = 0; r < 4; ++r) std::memcpy(h + r, p[r] + b * kB, 2);
    uint64_t hv;
    std::memcpy(&hv, h, 8);
    const __m128 dw = _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(hv)));
    acc = _mm_fmadd_ps(_mm_cvtepi32_ps(d0), _mm_mul_ps(dw, _mm_set1_ps(xv.d[b])), acc);
  }
  _mm_mask_storeu_ps(y, static_cast<__mmask8>((1u << nr) - 1), acc);
}

thread_local struct {
  __m512i* data = nullptr;
  size_t cap = 0;
  __m512i* get(size_t n) {
    if (n > cap) {
      ::operator delete[](data, std::align_val_t(64));
      data = static_cast<__m512i*>(::operator new[](n * 64, std::align_val_t(64)));
      cap = n;
    }
    return data;
  }
} t_q8t_pack;

// q8_0, every n. One activation row: q8_0_rows4 (4 row streams). 2..8 rows (a decode step of several sequences):
// each 16-row tile transposed in registers block by block and used for all of them at once. More (prefill): each
// tile transposed once into thread-local scratch (9 x 64 bytes per block), then 8 activation rows at a time against
// it. With kern::set_small_batch(false), 2..8 rows take the prefill route (for A/B benchmarks; the same bits).
void gemm_q8_0(const void* Wv, size_t ws, int64_t r0, int64_t r1, int64_t cols, const void* Av, size_t as, int64_t n,
               float* Y, int64_t ldy) {
  static const Q8TIdx ix;
  const auto* W = static_cast<const uint8_t*>(Wv);
  const auto* A = static_cast<const uint8_t*>(Av);
  const int64_t nb = cols / kQK;
  // Each row a little ahead (long rows), or the next tile's row at the same block (short rows: the tile is one
  // contiguous run of 16 rows, fetched alongside this one's).
  const size_t pfd = ws >= kLongRowBytes ? kLongRowPrefetch : 16 * ws;
  constexpr int kNX = 8;
  if (n == 1) {
    if (ws < kLongRowBytes) prefetch_l2_start(W, ws, r0, r1);
    for (int64_t r = r0; r < r1; r += 4) {
      if (ws < kLongRowBytes) prefetch_l2_ahead(W, ws, r, 4, r1);  // as tiled_gemm
      q8_0_rows4(W + r * ws, ws, static_cast<int>(std::min<int64_t>(4, r1 - r)), A, cols, Y + r);
    }
    return;
  }
  for (int64_t r = r0; r < r1; r += 16) {
    const int nr = static_cast<int>(std::min<int64_t>(16, r1 - r));
    const uint8_t* p[16];
    for (int k = 0; k < 16; ++k) p[k] = W + (r + std::min(k, nr - 1)) * ws;
    const __mmask16 m = static_cast<__mmask16>(nr == 16 ? 0xFFFF : (1u << nr) - 1);
    if (n <= kNX && small_batch()) {
      switch (n) {
#define CJ_Q8T(NX) case NX: q8t_tile_direct<NX>(p, nb, A, as, cols, Y + r, ldy, m, ix, pfd); break;
        CJ_Q8T(1) CJ_Q8T(2) CJ_Q8T(3) CJ_Q8T(4) CJ_Q8T(5) CJ_Q8T(6) CJ_Q8T(7) CJ_Q8T(8)
#undef CJ_Q8T
      }
      continue;
    }
    __m512i* pk = t_q8t_pack.get(static_cast<size_t>(nb) * 9);
    for (int64_t b = 0; b < nb; ++b) {
      __m512 dw;
      q8t_unpack(p, b, ix, pk + 9 * b, &dw);
      pk[9 * b + 8] = _mm512_castps_si512(dw);
    }
    for (int64_t i = 0; i < n; i += kNX) {
      const uint8_t* Ai = A + i * as;
      float* Yi = Y + i * ldy + r;
      switch (std::min<int64_t>(kNX, n - i)) {
#define CJ_Q8T(NX) case NX: q8t_tile_packed<NX>(pk, nb, Ai, as, cols, Yi, ldy, m); break;
        CJ_Q8T(1) CJ_Q8T(2) CJ_Q8T(3) CJ_Q8T(4) CJ_Q8T(5) CJ_Q8T(6) CJ_Q8T(7) CJ_Q8T(8)
#undef CJ_Q8T
      }
    }
  }
}

// q4_K, every n: up to kSmallBatchMaxRows activation rows through KQ4_Kv (4 weight rows streamed side by side against
// shared activation loads), more through KQ4_K (2 weight rows unpacked once per block for up to 4 activation rows).
// Both compute every (weight row, activation row) with the same integer lanes (VPMADDUBSW + VPDPWSSD in the same
// order, the same scale words) and the same float steps, so they give the same bits
// (KernelInvariance.Avx512RowBitsIndependentOfBatch).
void gemm_q4_K(const void* W, size_t ws, int64_t r0, int64_t r1, int64_t cols, const void* A, size_t as, int64_t n,
               float* Y, int64_t ldy) {
  if (n <= (small_batch() ? kSmallBatchMaxRows : 1)) tiled_gemm<KQ4_Kv>(W, ws, r0, r1, cols, A, as, n, Y, ldy);
  else tiled_gemm<KQ4_K>(W, ws, r0, r1, cols, A, as, n, Y, ldy);
}

}  // namespace

bool get_kernels_avx512(DType t, TypeKernels* out) {
  switch (t) {
    case DType::F32: *out = {ActFormat::F32, nullptr, tiled_gemm<KFloat<DType::F32>>}; return true;
    case DType::F16: *out = {ActFormat::F32, nullptr, tiled_gemm<KFloat<DType::F16>>}; return true;
    case DType::BF16: *out = {ActFormat::F32, nullptr, tiled_gemm<KFloat<DType::BF16>>}; return true;
    case DType::Q8_0:
      *out = {ActFormat::Q8A, prep_q8a_isum<-16>, gemm_q8_0};
      return true;
    case DType::Q4_0:
      // KQ4_0v (VBMI) serves every n when the CPU has it, KQ4_0 otherwise: one kernel per CPU, so one rounding.
      if (cpu_features().avx512_vbmi) *out = {ActFormat::Q8A, prep_q8a_isum_q4, tiled_gemm<KQ4_0v>};
      else *out = {ActFormat::Q8A, prep_q8a_q4, tiled_gemm<KQ4_0>};
      return true;
    case DType::Q4_K: *out = {ActFormat::Q8KA, prep_q8ka<true>, gemm_q4_K}; return true;
    case DType::Q6_K: *out = {ActFormat::Q8KA, prep_q8ka<false>, tiled_gemm<KQ6_K>}; return true;
  }
  return false;
}

}  // namespace cj::kern
