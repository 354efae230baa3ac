// Flash-attention kernels for AVX2 + FMA + F16C in f32 (CPUs without AVX-512 BF16). Compiled with -mavx2 -mfma
// -mf16c (see engine/CMakeLists.txt); called only when cpu_features() reports AVX2.
//
// Packed layouts (f32):
//   qp [M][D]: queries times the attention scale.
//   kt [D][64]: for channel d, the 64 keys of the chunk side by side (keys in the 8 lanes).
//   vp [64][Dv]: the values as f32 rows.
//   pb [64]: one row's probabilities.
// S[r][8 keys] += bcast(qp[r][d]) · kt[d][8 keys]; O[r][8 channels] += bcast(pb[j]) · vp[j][8 channels].
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/cpu/attention_flash_kernels.h"

namespace cj::flash {
namespace {

inline float h2f(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Values 8*i .. 8*i+7 of a row of the given type, as f32.
inline __m256 load8(KVType type, const uint8_t* row, int i) {
  if (type == KVType::F16) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row) + i));
  if (type == KVType::F32) return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + 8 * i);
  const uint8_t* b = row + size_t(i / 4) * 34;  // q8_0: f16 scale, 32 int8
  const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + 2 + (i & 3) * 8));
  return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(h2f(b)));
}

// exp(x) for x <= 0; lanes below -87 give ~0 (callers mask the lanes that must be exactly 0).
inline __m256 exp256(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  const __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f));
  const __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_mul_ps(_mm256_sub_ps(t, n), _mm256_set1_ps(0.693147180559945309f));
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// In-place transpose of an 8x8 f32 matrix.
inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

size_t qp_bytes(int M, int D) { return size_t(M) * size_t(D) * 4; }
size_t kt_bytes(int D) { return size_t(D) * kChunk * 4; }
size_t vp_bytes(int Dv) { return size_t(kChunk) * size_t(Dv) * 4; }
size_t pb_bytes() { return size_t(kChunk) * 4; }

void begin(Tile& t, const float* const* q, float scale) {
  auto* qp = static_cast<float*>(t.qp);
  for (int r = 0; r < t.M; ++r) {
    for (int d = 0; d < t.D; ++d) qp[size_t(r) * t.D + d] = q[r][d] * scale;
    t.m[r] = -std::numeric_limits<float>::infinity();
    t.l[r] = 0;
  }
  std::memset(t.o, 0, size_t(t.M) * size_t(t.Dv) * 4);
}

void pack(const Tile& t, const uint8_t* k, const uint8_t* v, int nk) {
  auto* kt = static_cast<float*>(t.kt);
  auto* vp = static_cast<float*>(t.vp);
  __m256 r[8];
  for (int g = 0; g * 8 < nk; ++g) {
    const int n = std::min(8, nk - g * 8);
    for (int w = 0; w < t.D / 8; ++w) {
      for (int j = 0; j < 8; ++j) r[j] = j < n ? load8(t.type, k + size_t(g * 8 + j) * t.krb, w) : _mm256_setzero_ps();
      transpose8(r);
      for (int d = 0; d < 8; ++d) _mm256_store_ps(kt + size_t(w * 8 + d) * kChunk + g * 8, r[d]);
    }
  }
  for (int j = 0; j < nk; ++j)
    for (int c = 0; c < t.Dv / 8; ++c) _mm256_store_ps(vp + size_t(j) * t.Dv + 8 * c, load8(t.type, v + size_t(j) * t.vrb, c));
}

void chunk(Tile& t, const uint8_t* k, const uint8_t* v, int t0, int nk) {
  pack(t, k, v, nk);
  const auto* qp = static_cast<const float*>(t.qp);
  const auto* kt = static_cast<const float*>(t.kt);
  const auto* vp = static_cast<const float*>(t.vp);
  auto* pb = static_cast<float*>(t.pb);
  const int ng = (nk + 7) / 8;
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int r = 0; r < t.M; ++r) {
    const int limit = std::min(nk, t.pos_first + r / t.G - t0 + 1);
    if (limit <= 0) continue;  // no key of this chunk is visible to the row: its state is unchanged
    __m256 acc[8];
    for (int c = 0; c < 8; ++c) acc[c] = _mm256_setzero_ps();
    const float* q = qp + size_t(r) * t.D;
    for (int d = 0; d < t.D; ++d) {
      const __m256 qd = _mm256_broadcast_ss(q + d);
      const float* kd = kt + size_t(d) * kChunk;
      for (int c = 0; c < ng; ++c) acc[c] = _mm256_fmadd_ps(qd, _mm256_load_ps(kd + 8 * c), acc[c]);
    }
    __m256 mx = ninf;
    __m256 valid[8];
    for (int c = 0; c < ng; ++c) {
      valid[c] = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(limit - 8 * c), lane));
      acc[c] = _mm256_blendv_ps(ninf, acc[c], valid[c]);
      mx = _mm256_max_ps(mx, acc[c]);
    }
    const float mold = t.m[r];
    const float mnew = std::max(mold, hmax(mx));
    const float corr = mnew == mold ? 1.0f : std::exp(mold - mnew);
    const __m256 mv = _mm256_set1_ps(mnew);
    __m256 sum = _mm256_setzero_ps();
    for (int c = 0; c < ng; ++c) {
      const __m256 p = _mm256_and_ps(exp256(_mm256_sub_ps(acc[c], mv)), valid[c]);
      sum = _mm256_add_ps(sum, p);
      _mm256_store_ps(pb + 8 * c, p);
    }
    t.l[r] = t.l[r] * corr + hsum(sum);
    t.m[r] = mnew;
    float* o = t.o + size_t(r) * t.Dv;
    const __m256 cv = _mm256_set1_ps(corr);
    for (int h0 = 0; h0 < t.Dv; h0 += 64) {  // 8 vectors of channels at a time
      const int nv = std::min(8, (t.Dv - h0) / 8);
      __m256 oa[8];
      for (int c = 0; c < nv; ++c) oa[c] = _mm256_mul_ps(_mm256_loadu_ps(o + h0 + 8 * c), cv);
      for (int j = 0; j < limit; ++j) {
        const __m256 p = _mm256_broadcast_ss(pb + j);
        const float* vj = vp + size_t(j) * t.Dv + h0;
        for (int c = 0; c < nv; ++c) oa[c] = _mm256_fmadd_ps(p, _mm256_load_ps(vj + 8 * c), oa[c]);
      }
      for (int c = 0; c < nv; ++c) _mm256_storeu_ps(o + h0 + 8 * c, oa[c]);
    }
  }
}

}  // namespace

const Kernels& kernels_avx2() {
  static const Kernels k{qp_bytes, kt_bytes, vp_bytes, pb_bytes, begin, chunk};
  return k;
}

}  // namespace cj::flash
