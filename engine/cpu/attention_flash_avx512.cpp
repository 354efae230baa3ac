// Flash-attention kernels for AVX-512 with BF16 dot products (VDPBF16PS). Compiled with -mavx512bf16 (see
// engine/CMakeLists.txt); called only when cpu_features() reports AVX-512 BF16.
//
// Packed layouts (a "word" is two bf16 in 32 bits, the operand unit of VDPBF16PS):
//   qp [M][D/2] words: channels (2p, 2p+1) of row r, times the attention scale.
//   kt [D/2][64] words: for channel pair p, the 64 keys of the chunk side by side (keys in the 16 lanes).
//   vp [32][Dv] words: for key pair jp and channel c, (v[2jp][c], v[2jp+1][c]).
//   pb [kRS][32] words: a row's probabilities for key pairs (2jp, 2jp+1).
// S[r][16 keys] += bcast(qp[r][p]) · kt[p][16 keys]; O[r][16 channels] += bcast(pb[r][jp]) · vp[jp][16 channels].
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/cpu/attention_flash_kernels.h"

namespace cj::flash {
namespace {

constexpr int kRS = 6;  // rows per score block (6 rows x 4 vectors of 16 keys = 24 accumulators)

inline float h2f(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Values 16*i .. 16*i+15 of a row of the given type, as f32.
inline __m512 load16(KVType type, const uint8_t* row, int i) {
  if (type == KVType::F16) return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row) + i));
  if (type == KVType::F32) return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + 16 * i);
  const uint8_t* b = row + size_t(i / 2) * 34;  // q8_0: f16 scale, 32 int8
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2 + (i & 1) * 16));
  return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), _mm512_set1_ps(h2f(b)));
}

// 32 values (16 words) of a row as bf16: values 32*w .. 32*w+31.
inline __m512i load32_bf16(KVType type, const uint8_t* row, int w) {
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(load16(type, row, 2 * w + 1), load16(type, row, 2 * w)));
}

// exp(x) for x <= 0 (x = -inf gives 0): 2^(x log2 e) = 2^n · 2^f, f in [-0.5, 0.5], degree-6 Taylor of 2^f.
inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
  const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_mul_ps(_mm512_sub_ps(t, n), _mm512_set1_ps(0.693147180559945309f));
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// In-place transpose of a 16x16 matrix of 32-bit words.
inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // r[4k + j] now holds, in each 128-bit lane L, words (row 4L'..) — finish with two 128-bit lane shuffles.
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
    r[i + 4] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0x88);
    r[i + 12] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0xdd);
  }
}

size_t qp_bytes(int M, int D) { return size_t(M) * size_t(D) * 2; }
size_t kt_bytes(int D) { return size_t(D / 2) * kChunk * 4; }
size_t vp_bytes(int Dv) { return size_t(kChunk / 2) * size_t(Dv) * 4; }
size_t pb_bytes() { return size_t(kRS) * (kChunk / 2) * 4; }

void begin(Tile& t, const float* const* q, float scale) {
  auto* qp = static_cast<uint32_t*>(t.qp);
  const __m512 s = _mm512_set1_ps(scale);
  for (int r = 0; r < t.M; ++r) {
    for (int w = 0; w < t.D / 32; ++w) {
      const __m512 a = _mm512_mul_ps(_mm512_loadu_ps(q[r] + 32 * w), s);
      const __m512 b = _mm512_mul_ps(_mm512_loadu_ps(q[r] + 32 * w + 16), s);
      _mm512_storeu_si512(qp + size_t(r) * (t.D / 2) + 16 * w, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a)));
    }
    t.m[r] = -std::numeric_limits<float>::infinity();
    t.l[r] = 0;
  }
  std::memset(t.o, 0, size_t(t.M) * size_t(t.Dv) * 4);
}

// kt for keys [0, nk) of the chunk; key groups of 16 past nk are left as they are (their scores are masked), a
// partial group's missing keys are zero.
void pack_k(const Tile& t, const uint8_t* k, int nk) {
  auto* kt = static_cast<uint32_t*>(t.kt);
  const int W = t.D / 32;  // 16-word vectors per row
  __m512i r[16];
  for (int g = 0; g * 16 < nk; ++g) {
    const int n = std::min(16, nk - g * 16);
    for (int w = 0; w < W; ++w) {
      for (int j = 0; j < 16; ++j)
        r[j] = j < n ? load32_bf16(t.type, k + size_t(g * 16 + j) * t.krb, w) : _mm512_setzero_si512();
      transpose16(r);
      for (int p = 0; p < 16; ++p) _mm512_store_si512(kt + size_t(w * 16 + p) * kChunk + g * 16, r[p]);
    }
  }
}

// vp for key pairs [0, (nk+1)/2); the odd key of the last pair is zero when nk is odd.
void pack_v(const Tile& t, const uint8_t* v, int nk) {
  auto* vp = static_cast<uint32_t*>(t.vp);
  const __m512i inter = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                         21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const int NV = t.Dv / 16;
  for (int jp = 0; 2 * jp < nk; ++jp) {
    const uint8_t* a = v + size_t(2 * jp) * t.vrb;
    const bool has_b = 2 * jp + 1 < nk;
    for (int c = 0; c < NV; ++c) {
      const __m512 fa = load16(t.type, a, c);
      const __m512 fb = has_b ? load16(t.type, a + t.vrb, c) : _mm512_setzero_ps();
      const __m512i x = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(fb, fa));
      _mm512_store_si512(vp + size_t(jp) * t.Dv + 16 * c, _mm512_permutexvar_epi16(inter, x));
    }
  }
}

inline __mmask16 lanes_below(int n) {  // lanes [0, n) of 16
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// O rows [r0, r0 + RP) += P·V, after scaling them by corr.
template <int NV, int RP>
inline void pv_rows(const Tile& t, int r0, const uint32_t* pb, const float* corr, int npairs) {
  const auto* vp = static_cast<const uint32_t*>(t.vp);
  __m512 acc[RP][NV];
  for (int i = 0; i < RP; ++i) {
    const __m512 c = _mm512_set1_ps(corr[i]);
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_mul_ps(_mm512_loadu_ps(t.o + size_t(r0 + i) * t.Dv + 16 * v), c);
  }
  for (int jp = 0; jp < npairs; ++jp) {
    __m512bh vv[NV];
    for (int v = 0; v < NV; ++v)
      vv[v] = reinterpret_cast<__m512bh>(_mm512_load_si512(vp + size_t(jp) * (NV * 16) + 16 * v));
    for (int i = 0; i < RP; ++i) {
      const __m512bh p = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(pb[i * (kChunk / 2) + jp])));
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], p, vv[v]);
    }
  }
  for (int i = 0; i < RP; ++i)
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(t.o + size_t(r0 + i) * t.Dv + 16 * v, acc[i][v]);
}

template <int NV>
void pv_block(const Tile& t, int r0, int rs, const uint32_t* pb, const float* corr, int npairs) {
  constexpr int RP = NV >= 8 ? 2 : 6;  // accumulators RP x NV <= 24
  for (int i = 0; i < rs; i += RP) {
    const int n = std::min(RP, rs - i);
    const uint32_t* p = pb + i * (kChunk / 2);
    switch (n) {
      case 1: pv_rows<NV, 1>(t, r0 + i, p, corr + i, npairs); break;
      case 2: pv_rows<NV, 2>(t, r0 + i, p, corr + i, npairs); break;
      case 3: pv_rows<NV, 3>(t, r0 + i, p, corr + i, npairs); break;
      case 4: if constexpr (RP >= 4) pv_rows<NV, 4>(t, r0 + i, p, corr + i, npairs); break;
      case 5: if constexpr (RP >= 5) pv_rows<NV, 5>(t, r0 + i, p, corr + i, npairs); break;
      case 6: if constexpr (RP >= 6) pv_rows<NV, 6>(t, r0 + i, p, corr + i, npairs); break;
    }
  }
}

// Rows [r0, r0 + RS): scores against the packed chunk, online softmax, then O += P·V.
template <int RS>
void rows_block(Tile& t, int r0, int t0, int nk) {
  const auto* qp = static_cast<const uint32_t*>(t.qp);
  const auto* kt = static_cast<const uint32_t*>(t.kt);
  auto* pb = static_cast<uint32_t*>(t.pb);
  const int D2 = t.D / 2;
  const int ng = (nk + 15) / 16;  // key vectors holding keys
  __m512 acc[RS][4];
  for (int i = 0; i < RS; ++i)
    for (int c = 0; c < 4; ++c) acc[i][c] = _mm512_setzero_ps();
  const uint32_t* q0 = qp + size_t(r0) * D2;
  if (ng == 4) {
    for (int p = 0; p < D2; ++p) {
      const uint32_t* kp = kt + size_t(p) * kChunk;
      const __m512bh k0 = reinterpret_cast<__m512bh>(_mm512_load_si512(kp));
      const __m512bh k1 = reinterpret_cast<__m512bh>(_mm512_load_si512(kp + 16));
      const __m512bh k2 = reinterpret_cast<__m512bh>(_mm512_load_si512(kp + 32));
      const __m512bh k3 = reinterpret_cast<__m512bh>(_mm512_load_si512(kp + 48));
      for (int i = 0; i < RS; ++i) {
        const __m512bh q = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(q0[size_t(i) * D2 + p])));
        acc[i][0] = _mm512_dpbf16_ps(acc[i][0], q, k0);
        acc[i][1] = _mm512_dpbf16_ps(acc[i][1], q, k1);
        acc[i][2] = _mm512_dpbf16_ps(acc[i][2], q, k2);
        acc[i][3] = _mm512_dpbf16_ps(acc[i][3], q, k3);
      }
    }
  } else {
    for (int p = 0; p < D2; ++p) {
      const uint32_t* kp = kt + size_t(p) * kChunk;
      for (int c = 0; c < ng; ++c) {
        const __m512bh k = reinterpret_cast<__m512bh>(_mm512_load_si512(kp + 16 * c));
        for (int i = 0; i < RS; ++i) {
          const __m512bh q = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(q0[size_t(i) * D2 + p])));
          acc[i][c] = _mm512_dpbf16_ps(acc[i][c], q, k);
        }
      }
    }
  }
  float corr[RS];
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int i = 0; i < RS; ++i) {
    const int r = r0 + i;
    const int limit = std::min(nk, t.pos_first + r / t.G - t0 + 1);  // keys this row may see
    uint32_t* prow = pb + i * (kChunk / 2);
    if (limit <= 0) {
      corr[i] = 1;
      std::memset(prow, 0, (kChunk / 2) * 4);
      continue;
    }
    const bool full = limit == kChunk;  // no masking (the common case off the diagonal)
    __mmask16 mk[4];
    __m512 mx = ninf;
    for (int c = 0; c < 4; ++c) {
      mk[c] = lanes_below(limit - 16 * c);
      if (!full) acc[i][c] = _mm512_mask_mov_ps(ninf, mk[c], acc[i][c]);
      mx = _mm512_max_ps(mx, acc[i][c]);
    }
    const float mold = t.m[r];
    const float mnew = std::max(mold, _mm512_reduce_max_ps(mx));
    corr[i] = mnew == mold ? 1.0f : std::exp(mold - mnew);  // 0 when mold = -inf
    const __m512 mv = _mm512_set1_ps(mnew);
    __m512 sum = _mm512_setzero_ps();
    for (int c = 0; c < 4; ++c) {
      acc[i][c] = exp512(_mm512_sub_ps(acc[i][c], mv));
      if (!full) acc[i][c] = _mm512_maskz_mov_ps(mk[c], acc[i][c]);
      sum = _mm512_add_ps(sum, acc[i][c]);
    }
    t.l[r] = t.l[r] * corr[i] + _mm512_reduce_add_ps(sum);
    t.m[r] = mnew;
    _mm512_storeu_si512(prow, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(acc[i][1], acc[i][0])));
    _mm512_storeu_si512(prow + 16, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(acc[i][3], acc[i][2])));
  }
  const int npairs = (nk + 1) / 2;
  switch (t.Dv) {
    case 32: pv_block<2>(t, r0, RS, pb, corr, npairs); break;
    case 64: pv_block<4>(t, r0, RS, pb, corr, npairs); break;
    case 128: pv_block<8>(t, r0, RS, pb, corr, npairs); break;
  }
}

void chunk(Tile& t, const uint8_t* k, const uint8_t* v, int t0, int nk) {
  pack_k(t, k, nk);
  pack_v(t, v, nk);
  // Rows in blocks of up to kRS, balanced (7 rows: 4 + 3); blocks whose last row precedes t0 see no key.
  const int nb = (t.M + kRS - 1) / kRS;
  const int per = (t.M + nb - 1) / nb;
  for (int r0 = 0; r0 < t.M; r0 += per) {
    const int rs = std::min(per, t.M - r0);
    if (t.pos_first + (r0 + rs - 1) / t.G < t0) continue;
    switch (rs) {
      case 1: rows_block<1>(t, r0, t0, nk); break;
      case 2: rows_block<2>(t, r0, t0, nk); break;
      case 3: rows_block<3>(t, r0, t0, nk); break;
      case 4: rows_block<4>(t, r0, t0, nk); break;
      case 5: rows_block<5>(t, r0, t0, nk); break;
      case 6: rows_block<6>(t, r0, t0, nk); break;
    }
  }
}


// ---- Decode: one query, its G heads as rows, f32 throughout. ----
// Per call, up to kRun keys in pieces (a page run of one KV head, or several selected 32-key units): (1) scores: 16
// keys at a time, their rows converted to f32 (vcvtph2ps, or int8 times the block scale) and transposed 16x16 so
// that each channel holds 16 keys, then S[h][16 keys] += q[h][c] · k[c][16 keys] with q[h][c] an embedded
// broadcast: every loaded key serves all G heads; (2) one softmax update per row for the whole call; (3) O[h] +=
// p[h][j] · v[j], each value row converted once per block of heads. No packed copy is written and no product is
// rounded below f32.

void decode_begin(Tile& t, const float* const* q, float scale) {
  for (int r = 0; r < t.M; ++r) {
    for (int c = 0; c < t.D; ++c) t.qf[size_t(r) * t.D + c] = q[r][c] * scale;
    t.m[r] = -std::numeric_limits<float>::infinity();
    t.l[r] = 0;
  }
  std::memset(t.o, 0, size_t(t.M) * size_t(t.Dv) * 4);
}

// Scores of heads [h0, h0 + HN) for the 16 keys whose transposed rows are kt[D][16].
template <int HN>
inline void scores_heads(const Tile& t, const float* kt, int h0, float* dst) {
  __m512 acc[HN];
  for (int h = 0; h < HN; ++h) acc[h] = _mm512_setzero_ps();
  const float* q = t.qf + size_t(h0) * t.D;
  for (int c = 0; c < t.D; ++c) {
    const __m512 k = _mm512_load_ps(kt + 16 * c);
    for (int h = 0; h < HN; ++h) acc[h] = _mm512_fmadd_ps(_mm512_set1_ps(q[size_t(h) * t.D + c]), k, acc[h]);
  }
  for (int h = 0; h < HN; ++h) _mm512_storeu_ps(dst + size_t(h) * kSbStride, acc[h]);
}

// O rows [h0, h0 + HB) = O · corr + Σ_j p[h][j] · v[j] over the run's nk values.
template <KVType T, int NV, int HB>
inline void values_heads(Tile& t, const Piece* pieces, int np, int h0, const float* corr) {
  __m512 acc[HB][NV];
  for (int h = 0; h < HB; ++h) {
    const __m512 c = _mm512_set1_ps(corr[h0 + h]);
    for (int i = 0; i < NV; ++i) acc[h][i] = _mm512_mul_ps(_mm512_loadu_ps(t.o + size_t(h0 + h) * t.Dv + 16 * i), c);
  }
  const float* p = t.sb + size_t(h0) * kSbStride;
  for (int pi = 0; pi < np; ++pi) {
    const uint8_t* v = pieces[pi].v;
    for (int j = 0; j < pieces[pi].n; ++j) {
      const uint8_t* row = v + size_t(j) * t.vrb;
      __m512 x[NV];
      for (int i = 0; i < NV; ++i) x[i] = load16(T, row, i);
      for (int h = 0; h < HB; ++h) {
        const __m512 w = _mm512_set1_ps(p[size_t(h) * kSbStride + j]);
        for (int i = 0; i < NV; ++i) acc[h][i] = _mm512_fmadd_ps(w, x[i], acc[h][i]);
      }
    }
    p += pieces[pi].n;
  }
  for (int h = 0; h < HB; ++h)
    for (int i = 0; i < NV; ++i) _mm512_storeu_ps(t.o + size_t(h0 + h) * t.Dv + 16 * i, acc[h][i]);
}

template <KVType T, int NV>
void values_all(Tile& t, const Piece* pieces, int np, const float* corr) {
  // accumulators HB x NV <= 28 plus NV value vectors in the 32 registers (the weights are memory broadcasts)
  constexpr int HBmax = std::min(8, 28 / NV);
  const int passes = (t.M + HBmax - 1) / HBmax;
  const int per = (t.M + passes - 1) / passes;
  for (int h0 = 0; h0 < t.M; h0 += per) {
    const int hb = std::min(per, t.M - h0);
    switch (hb) {
      case 1: values_heads<T, NV, 1>(t, pieces, np, h0, corr); break;
      case 2: values_heads<T, NV, 2>(t, pieces, np, h0, corr); break;
      case 3: values_heads<T, NV, 3>(t, pieces, np, h0, corr); break;
      case 4: if constexpr (HBmax >= 4) values_heads<T, NV, 4>(t, pieces, np, h0, corr); break;
      case 5: if constexpr (HBmax >= 5) values_heads<T, NV, 5>(t, pieces, np, h0, corr); break;
      case 6: if constexpr (HBmax >= 6) values_heads<T, NV, 6>(t, pieces, np, h0, corr); break;
      case 7: if constexpr (HBmax >= 7) values_heads<T, NV, 7>(t, pieces, np, h0, corr); break;
      case 8: if constexpr (HBmax >= 8) values_heads<T, NV, 8>(t, pieces, np, h0, corr); break;
    }
  }
}

// Channels 16b .. 16b+15 of the n <= 16 key rows at kr as f32, transposed: r[c] holds channel 16b + c of the 16
// keys (keys past n are zero).
template <KVType T>
inline void load_transposed(const Tile& t, const uint8_t* kr, int n, int b, __m512i r[16]) {
  if (n == 16) {
    for (int j = 0; j < 16; ++j) r[j] = reinterpret_cast<__m512i>(load16(T, kr + size_t(j) * t.krb, b));
  } else {
    for (int j = 0; j < 16; ++j)
      r[j] = j < n ? reinterpret_cast<__m512i>(load16(T, kr + size_t(j) * t.krb, b)) : _mm512_setzero_si512();
  }
  transpose16(r);
}

// Scores of all HN = G heads for 16 keys with the accumulators in registers: per 16 channels, the transposed key
// block (16 registers) meets each head's 16 query values as embedded broadcasts.
template <KVType T, int HN>
inline void scores_regs(const Tile& t, const uint8_t* kr, int n, float* dst) {
  __m512 acc[HN];
  for (int h = 0; h < HN; ++h) acc[h] = _mm512_setzero_ps();
  for (int b = 0; b < t.D / 16; ++b) {
    __m512i r[16];
    load_transposed<T>(t, kr, n, b, r);
    const float* q = t.qf + 16 * b;
    for (int c = 0; c < 16; ++c) {
      const __m512 k = reinterpret_cast<__m512>(r[c]);
      for (int h = 0; h < HN; ++h) acc[h] = _mm512_fmadd_ps(_mm512_set1_ps(q[size_t(h) * t.D + c]), k, acc[h]);
    }
  }
  for (int h = 0; h < HN; ++h) _mm512_storeu_ps(dst + size_t(h) * kSbStride, acc[h]);
}

template <KVType T>
void decode_run_t(Tile& t, const Piece* pieces, int np) {
  alignas(64) float kt[128 * 16];  // one group of 16 keys, transposed: [D][16] (G > 8)
  const int NB = t.D / 16;
  int nk = 0;  // keys scored so far: the piece's scores go to sb columns [nk, nk + n)
  for (int pi = 0; pi < np; ++pi) {
    const uint8_t* k = pieces[pi].k;
    const uint8_t* v = pieces[pi].v;
    const int pn = pieces[pi].n, ng = (pn + 15) / 16;
    for (int gi = 0; gi < ng; ++gi) {
      const int n = std::min(16, pn - 16 * gi);
      const uint8_t* kr = k + size_t(16 * gi) * t.krb;
      // The value rows of this group are read after the call's scores: start fetching them now (and the key
      // rows two groups ahead), so that the two streams overlap the arithmetic.
      const char* vp = reinterpret_cast<const char*>(v + size_t(16 * gi) * t.vrb);
      for (size_t i = 0; i < size_t(n) * t.vrb; i += 64) __builtin_prefetch(vp + i, 0, 3);
      if (gi + 2 < ng) {
        const char* kp = reinterpret_cast<const char*>(kr + 32 * t.krb);
        const int nn = std::min(16, pn - 16 * (gi + 2));
        for (size_t i = 0; i < size_t(nn) * t.krb; i += 64) __builtin_prefetch(kp + i, 0, 3);
      }
      // A partial group writes 16 columns; the next piece's scores overwrite the extra ones.
      float* dst = t.sb + nk + 16 * gi;
      switch (t.M <= 8 ? t.M : 0) {  // G <= 8 (every GQA model we know): the G accumulators stay in registers
        case 1: scores_regs<T, 1>(t, kr, n, dst); break;
        case 2: scores_regs<T, 2>(t, kr, n, dst); break;
        case 3: scores_regs<T, 3>(t, kr, n, dst); break;
        case 4: scores_regs<T, 4>(t, kr, n, dst); break;
        case 5: scores_regs<T, 5>(t, kr, n, dst); break;
        case 6: scores_regs<T, 6>(t, kr, n, dst); break;
        case 7: scores_regs<T, 7>(t, kr, n, dst); break;
        case 8: scores_regs<T, 8>(t, kr, n, dst); break;
        default:
          for (int b = 0; b < NB; ++b) {
            __m512i r[16];
            load_transposed<T>(t, kr, n, b, r);
            for (int c = 0; c < 16; ++c) _mm512_store_si512(kt + size_t(b * 16 + c) * 16, r[c]);
          }
          for (int h0 = 0; h0 < t.M; h0 += 8) {
            float* d = dst + size_t(h0) * kSbStride;
            switch (std::min(8, t.M - h0)) {
              case 1: scores_heads<1>(t, kt, h0, d); break;
              case 2: scores_heads<2>(t, kt, h0, d); break;
              case 3: scores_heads<3>(t, kt, h0, d); break;
              case 4: scores_heads<4>(t, kt, h0, d); break;
              case 5: scores_heads<5>(t, kt, h0, d); break;
              case 6: scores_heads<6>(t, kt, h0, d); break;
              case 7: scores_heads<7>(t, kt, h0, d); break;
              case 8: scores_heads<8>(t, kt, h0, d); break;
            }
          }
      }
    }
    nk += pn;
  }
  // Softmax update per row over all the call's keys; lanes past nk in the last group are masked out.
  const int ng = (nk + 15) / 16;
  float corr[256];
  const __mmask16 tail = lanes_below(nk - 16 * (ng - 1));
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int h = 0; h < t.M; ++h) {
    float* s = t.sb + size_t(h) * kSbStride;
    _mm512_storeu_ps(s + 16 * (ng - 1), _mm512_mask_mov_ps(ninf, tail, _mm512_loadu_ps(s + 16 * (ng - 1))));
    __m512 mx = ninf;
    for (int gi = 0; gi < ng; ++gi) mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + 16 * gi));
    const float mold = t.m[h];
    const float mnew = std::max(mold, _mm512_reduce_max_ps(mx));
    corr[h] = mnew == mold ? 1.0f : std::exp(mold - mnew);  // 0 when mold = -inf
    const __m512 mv = _mm512_set1_ps(mnew);
    __m512 sum = _mm512_setzero_ps();
    for (int gi = 0; gi < ng; ++gi) {
      __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(s + 16 * gi), mv));
      if (gi == ng - 1) e = _mm512_maskz_mov_ps(tail, e);
      _mm512_storeu_ps(s + 16 * gi, e);
      sum = _mm512_add_ps(sum, e);
    }
    t.l[h] = t.l[h] * corr[h] + _mm512_reduce_add_ps(sum);
    t.m[h] = mnew;
  }
  switch (t.Dv) {
    case 32: values_all<T, 2>(t, pieces, np, corr); break;
    case 64: values_all<T, 4>(t, pieces, np, corr); break;
    case 128: values_all<T, 8>(t, pieces, np, corr); break;
  }
}

void decode_run(Tile& t, const Piece* p, int np) {
  switch (t.type) {
    case KVType::F16: decode_run_t<KVType::F16>(t, p, np); break;
    case KVType::Q8_0: decode_run_t<KVType::Q8_0>(t, p, np); break;
    default: decode_run_t<KVType::F32>(t, p, np); break;
  }
}

}  // namespace

const Kernels& kernels_avx512bf16() {
  static const Kernels k{qp_bytes, kt_bytes, vp_bytes, pb_bytes, begin, chunk, decode_begin, decode_run};
  return k;
}

}  // namespace cj::flash
