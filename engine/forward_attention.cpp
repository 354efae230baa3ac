#include "engine/forward_attention.h"

#include "engine/cpu_features.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/base/result.h"
#include "engine/thread_pool.h"

namespace cj {

// ---- vector kernels -------------------------------------------------------------------------------------------

namespace {

float dot_f32_scalar(const float* a, const float* b, int n) {
  float s = 0;
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
float dot_f16_scalar(const float* a, const uint16_t* b, int n) {
  float s = 0;
  for (int i = 0; i < n; ++i) s += a[i] * f16_to_f32(b[i]);
  return s;
}
void axpy_f32_scalar(float* y, float al, const float* x, int n) {
  for (int i = 0; i < n; ++i) y[i] += al * x[i];
}
void axpy_f16_scalar(float* y, float al, const uint16_t* x, int n) {
  for (int i = 0; i < n; ++i) y[i] += al * f16_to_f32(x[i]);
}

float dot_q8_scalar(const float* a, const uint8_t* b, int n) {
  float s = 0;
  for (int j = 0; j < n / 32; ++j, b += 34) {
    uint16_t dh;
    std::memcpy(&dh, b, 2);
    const auto* q = reinterpret_cast<const int8_t*>(b + 2);
    float t = 0;
    for (int i = 0; i < 32; ++i) t += a[j * 32 + i] * float(q[i]);
    s += t * f16_to_f32(dh);
  }
  return s;
}
void axpy_q8_scalar(float* y, float al, const uint8_t* x, int n) {
  for (int j = 0; j < n / 32; ++j, x += 34) {
    uint16_t dh;
    std::memcpy(&dh, x, 2);
    const float w = al * f16_to_f32(dh);
    const auto* q = reinterpret_cast<const int8_t*>(x + 2);
    for (int i = 0; i < 32; ++i) y[j * 32 + i] += w * float(q[i]);
  }
}

__attribute__((target("avx2,fma"))) inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) float dot_f32_avx2(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum256(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}
__attribute__((target("avx2,fma,f16c"))) float dot_f16_avx2(const float* a, const uint16_t* b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    __m256 b1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 8)));
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), b0, s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), b1, s1);
  }
  for (; i + 8 <= n; i += 8)
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i),
                         _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i))), s0);
  float s = hsum256(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += a[i] * f16_to_f32(b[i]);
  return s;
}
__attribute__((target("avx2,fma"))) void axpy_f32_avx2(float* y, float al, const float* x, int n) {
  __m256 va = _mm256_set1_ps(al);
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += al * x[i];
}
__attribute__((target("avx2,fma,f16c"))) void axpy_f16_avx2(float* y, float al, const uint16_t* x, int n) {
  __m256 va = _mm256_set1_ps(al);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 xv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, xv, _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += al * f16_to_f32(x[i]);
}

__attribute__((target("avx2,fma,f16c"))) inline __m256 q8_lane(const int8_t* q) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q))));
}
__attribute__((target("avx2,fma,f16c"))) float dot_q8_avx2(const float* a, const uint8_t* b, int n) {
  __m256 s = _mm256_setzero_ps();
  for (int j = 0; j < n / 32; ++j, b += 34) {
    uint16_t dh;
    std::memcpy(&dh, b, 2);
    const auto* q = reinterpret_cast<const int8_t*>(b + 2);
    const float* aj = a + j * 32;
    __m256 t = _mm256_mul_ps(_mm256_loadu_ps(aj), q8_lane(q));
    t = _mm256_fmadd_ps(_mm256_loadu_ps(aj + 8), q8_lane(q + 8), t);
    t = _mm256_fmadd_ps(_mm256_loadu_ps(aj + 16), q8_lane(q + 16), t);
    t = _mm256_fmadd_ps(_mm256_loadu_ps(aj + 24), q8_lane(q + 24), t);
    s = _mm256_fmadd_ps(t, _mm256_set1_ps(f16_to_f32(dh)), s);
  }
  return hsum256(s);
}
__attribute__((target("avx2,fma,f16c"))) void axpy_q8_avx2(float* y, float al, const uint8_t* x, int n) {
  for (int j = 0; j < n / 32; ++j, x += 34) {
    uint16_t dh;
    std::memcpy(&dh, x, 2);
    const __m256 w = _mm256_set1_ps(al * f16_to_f32(dh));
    const auto* q = reinterpret_cast<const int8_t*>(x + 2);
    float* yj = y + j * 32;
    for (int i = 0; i < 32; i += 8) _mm256_storeu_ps(yj + i, _mm256_fmadd_ps(w, q8_lane(q + i), _mm256_loadu_ps(yj + i)));
  }
}

struct Kernels {
  float (*dot32)(const float*, const float*, int);
  float (*dot16)(const float*, const uint16_t*, int);
  void (*axpy32)(float*, float, const float*, int);
  void (*axpy16)(float*, float, const uint16_t*, int);
  float (*dot8)(const float*, const uint8_t*, int);
  void (*axpy8)(float*, float, const uint8_t*, int);
};

const Kernels& kernels() {
  static const Kernels k = [] {
    const bool avx2 = cpu_features().avx2;  // AVX2 + FMA + F16C, detected in one place
    if (avx2) return Kernels{dot_f32_avx2, dot_f16_avx2, axpy_f32_avx2, axpy_f16_avx2, dot_q8_avx2, axpy_q8_avx2};
    return Kernels{dot_f32_scalar, dot_f16_scalar, axpy_f32_scalar, axpy_f16_scalar, dot_q8_scalar, axpy_q8_scalar};
  }();
  return k;
}

}  // namespace

float dot_f32(const float* a, const float* b, int n) { return kernels().dot32(a, b, n); }
float dot_f32_f16(const float* a, const uint16_t* b, int n) { return kernels().dot16(a, b, n); }
void axpy_f32(float* y, float alpha, const float* x, int n) { kernels().axpy32(y, alpha, x, n); }
void axpy_f16(float* y, float alpha, const uint16_t* x, int n) { kernels().axpy16(y, alpha, x, n); }
float dot_f32_q8(const float* a, const uint8_t* b, int n) { return kernels().dot8(a, b, n); }
void axpy_q8(float* y, float alpha, const uint8_t* x, int n) { kernels().axpy8(y, alpha, x, n); }

// ---- attention ------------------------------------------------------------------------------------------------

void AttentionScratch::reserve(int n_heads, int n_kv_heads, int head_dim_v, size_t stage_bytes) {
  stage_bytes_ = (stage_bytes + 63) / 64 * 64;
  stage_.assign(stage_bytes_ * kMaxTasks, 0);
  group_ = n_heads / n_kv_heads;
  head_dim_v_ = head_dim_v;
  per_task_ = size_t(kTileQ) * group_ * (kSubKeys + head_dim_v + 2);
  per_task_ = (per_task_ + 15) / 16 * 16;
  buf_.assign(per_task_ * kMaxTasks, 0.0f);
  partial_.assign(size_t(kMaxSplits) * n_heads * (head_dim_v + 2), 0.0f);
}

namespace {

// Per-task state layout for a tile of nq queries and G heads: scores [nq*G, kSubKeys], m [nq*G], l [nq*G],
// acc [nq*G, Dv].
struct TileState {
  float* scores;
  float* m;
  float* l;
  float* acc;
  TileState(float* st, int nq, int G, int Dv) {
    scores = st;
    m = scores + size_t(nq) * G * AttentionScratch::kSubKeys;
    l = m + size_t(nq) * G;
    acc = l + size_t(nq) * G;
    (void)Dv;
  }
};

// Queries [q0, q0 + nq) of KV head g against key blocks [b0, b1), causal (query i sees keys <= pos0 + i).
void attend_tile(const AttentionArgs& a, int g, int q0, int nq, int b0, int b1, const TileState& ts, uint8_t* stage) {
  const KVCache& kv = *a.kv;
  const int G = a.n_heads / a.n_kv_heads, D = a.head_dim, Dv = a.head_dim_v;
  constexpr int KB = AttentionScratch::kSubKeys;
  const int npairs = nq * G;
  for (int i = 0; i < npairs; ++i) {
    ts.m[i] = -std::numeric_limits<float>::infinity();
    ts.l[i] = 0;
  }
  std::fill(ts.acc, ts.acc + size_t(npairs) * Dv, 0.0f);
  const KVType type = kv.type();
  const KVLayout& KL = kv.layout();
  const Kernels& K = kernels();
  const int last_of_tile = a.pos0 + q0 + nq - 1;
  for (int b = b0; b < b1; ++b) {
    const int bt0 = b * KVCache::kBlockTokens;
    if (bt0 > last_of_tile) break;
    // Host pages are read in place; a disk page's head is staged (K then V) into this task's buffer.
    const uint8_t* kb = kv.k_head(a.layer, b, g, stage);
    const uint8_t* vb = kv.v_head(a.layer, b, g, stage + KL.k_head_bytes);
    const size_t krb = KL.k_row_bytes, vrb = KL.v_row_bytes;
    for (int s0 = 0; s0 < KVCache::kBlockTokens; s0 += KB) {
      const int t0 = bt0 + s0;  // position of the first key of the sub-block
      if (t0 > last_of_tile) break;
      for (int qi = 0; qi < nq; ++qi) {
        const int last = a.pos0 + q0 + qi;
        const int nk = std::min(KB, last - t0 + 1);
        if (nk <= 0) continue;
        const float* q = a.q + size_t(q0 + qi) * a.n_heads * D + size_t(g) * G * D;  // [G, D]
        float* sc = ts.scores + size_t(qi) * G * KB;                                   // [G, KB]
        for (int t = 0; t < nk; ++t) {
          const uint8_t* kr = kb + size_t(s0 + t) * krb;
          if (type == KVType::Q8_0) {
            for (int h = 0; h < G; ++h) sc[h * KB + t] = K.dot8(q + h * D, kr, D) * a.scale;
          } else if (type == KVType::F16) {
            for (int h = 0; h < G; ++h) sc[h * KB + t] = K.dot16(q + h * D, reinterpret_cast<const uint16_t*>(kr), D) * a.scale;
          } else {
            for (int h = 0; h < G; ++h) sc[h * KB + t] = K.dot32(q + h * D, reinterpret_cast<const float*>(kr), D) * a.scale;
          }
        }
        for (int h = 0; h < G; ++h) {
          const int pi = qi * G + h;
          float* s = sc + h * KB;
          float bm = s[0];
          for (int t = 1; t < nk; ++t) bm = std::max(bm, s[t]);
          const float nm = std::max(ts.m[pi], bm);
          const float corr = std::exp(ts.m[pi] - nm);  // 0 on the first keys (m = -inf)
          float* acc = ts.acc + size_t(pi) * Dv;
          if (corr != 1.0f) {
            ts.l[pi] *= corr;
            for (int i = 0; i < Dv; ++i) acc[i] *= corr;
          }
          float sum = 0;
          for (int t = 0; t < nk; ++t) {
            s[t] = std::exp(s[t] - nm);
            sum += s[t];
          }
          ts.l[pi] += sum;
          ts.m[pi] = nm;
        }
        for (int t = 0; t < nk; ++t) {
          const uint8_t* vr = vb + size_t(s0 + t) * vrb;
          float* acc = ts.acc + size_t(qi) * G * Dv;
          if (type == KVType::Q8_0) {
            for (int h = 0; h < G; ++h) K.axpy8(acc + h * Dv, sc[h * KB + t], vr, Dv);
          } else if (type == KVType::F16) {
            for (int h = 0; h < G; ++h) K.axpy16(acc + h * Dv, sc[h * KB + t], reinterpret_cast<const uint16_t*>(vr), Dv);
          } else {
            for (int h = 0; h < G; ++h) K.axpy32(acc + h * Dv, sc[h * KB + t], reinterpret_cast<const float*>(vr), Dv);
          }
        }
      }
    }
  }
}

template <typename F>
void run_tasks(ThreadPool* pool, int n, F&& f) {
  if (pool && n > 1) {
    pool->parallel_for(n, f);
  } else {
    for (int i = 0; i < n; ++i) f(i);
  }
}

}  // namespace

void attention(const AttentionArgs& a, AttentionScratch& s, ThreadPool* pool, int n_threads) {
  const int G = a.n_heads / a.n_kv_heads, Dv = a.head_dim_v;
  const int n_blocks = (a.pos0 + a.n_q + KVCache::kBlockTokens - 1) / KVCache::kBlockTokens;
  CJ_ASSERT(G == s.group_ && Dv == s.head_dim_v_);
  if (a.n_q == 1) {
    // Decode: split the key blocks of each KV head so that every thread has work; merge by log-sum-exp.
    int splits = std::max(1, (2 * n_threads + a.n_kv_heads - 1) / a.n_kv_heads);
    splits = std::min({splits, n_blocks, AttentionScratch::kMaxSplits,
                       std::max(1, AttentionScratch::kMaxTasks / a.n_kv_heads)});
    const int per = (n_blocks + splits - 1) / splits;
    splits = (n_blocks + per - 1) / per;
    const size_t pstride = size_t(Dv) + 2;
    const int n_tasks = a.n_kv_heads * splits;
    auto one = [&](int task) {
      const int g = task / splits, sp = task % splits;
      TileState ts(s.task(task % AttentionScratch::kMaxTasks), 1, G, Dv);
      attend_tile(a, g, 0, 1, sp * per, std::min(n_blocks, (sp + 1) * per), ts,
                  s.stage(task % AttentionScratch::kMaxTasks));
      for (int h = 0; h < G; ++h) {
        float* p = s.partial() + (size_t(sp) * a.n_heads + g * G + h) * pstride;
        p[0] = ts.m[h];
        p[1] = ts.l[h];
        std::copy(ts.acc + h * Dv, ts.acc + (h + 1) * Dv, p + 2);
      }
    };
    if (n_tasks <= AttentionScratch::kMaxTasks) {
      run_tasks(pool, n_tasks, one);
    } else {  // more KV heads than task slots: run them in rounds
      for (int r0 = 0; r0 < n_tasks; r0 += AttentionScratch::kMaxTasks)
        run_tasks(pool, std::min(AttentionScratch::kMaxTasks, n_tasks - r0), [&](int t) { one(r0 + t); });
    }
    for (int h = 0; h < a.n_heads; ++h) {
      float M = -std::numeric_limits<float>::infinity();
      for (int sp = 0; sp < splits; ++sp) M = std::max(M, s.partial()[(size_t(sp) * a.n_heads + h) * pstride]);
      float L = 0;
      float* out = a.out + size_t(h) * Dv;
      std::fill(out, out + Dv, 0.0f);
      for (int sp = 0; sp < splits; ++sp) {
        const float* p = s.partial() + (size_t(sp) * a.n_heads + h) * pstride;
        if (p[1] == 0) continue;  // a split with no keys
        const float w = std::exp(p[0] - M);
        L += p[1] * w;
        for (int i = 0; i < Dv; ++i) out[i] += w * p[2 + i];
      }
      const float inv = 1.0f / L;
      for (int i = 0; i < Dv; ++i) out[i] *= inv;
    }
    return;
  }
  // Prefill: work items (KV head, tile of kTileQ queries), heaviest (latest) tiles first; task t takes items
  // t, t + T, t + 2T, … so that T tasks (T <= kMaxTasks) each own one scratch slot.
  constexpr int TQ = AttentionScratch::kTileQ;
  const int n_tiles = (a.n_q + TQ - 1) / TQ;
  const int n_items = n_tiles * a.n_kv_heads;
  const int T = std::min(n_items, AttentionScratch::kMaxTasks);
  (void)n_threads;
  run_tasks(pool, T, [&](int task) {
    for (int item = task; item < n_items; item += T) {
      const int tile = n_tiles - 1 - item / a.n_kv_heads, g = item % a.n_kv_heads;
      const int q0 = tile * TQ, nq = std::min(TQ, a.n_q - q0);
      TileState ts(s.task(task), nq, G, Dv);
      attend_tile(a, g, q0, nq, 0, n_blocks, ts, s.stage(task));
      for (int qi = 0; qi < nq; ++qi)
        for (int h = 0; h < G; ++h) {
          const int pi = qi * G + h;
          float* out = a.out + size_t(q0 + qi) * a.n_heads * Dv + size_t(g * G + h) * Dv;
          const float inv = 1.0f / ts.l[pi];
          for (int i = 0; i < Dv; ++i) out[i] = ts.acc[size_t(pi) * Dv + i] * inv;
        }
    }
  });
}

}  // namespace cj
