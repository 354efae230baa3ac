#include "engine/forward_attention.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
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

struct Kernels {
  float (*dot32)(const float*, const float*, int);
  float (*dot16)(const float*, const uint16_t*, int);
  void (*axpy32)(float*, float, const float*, int);
  void (*axpy16)(float*, float, const uint16_t*, int);
};

const Kernels& kernels() {
  static const Kernels k = [] {
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    if (avx2) return Kernels{dot_f32_avx2, dot_f16_avx2, axpy_f32_avx2, axpy_f16_avx2};
    return Kernels{dot_f32_scalar, dot_f16_scalar, axpy_f32_scalar, axpy_f16_scalar};
  }();
  return k;
}

}  // namespace

float dot_f32(const float* a, const float* b, int n) { return kernels().dot32(a, b, n); }
float dot_f32_f16(const float* a, const uint16_t* b, int n) { return kernels().dot16(a, b, n); }
void axpy_f32(float* y, float alpha, const float* x, int n) { kernels().axpy32(y, alpha, x, n); }
void axpy_f16(float* y, float alpha, const uint16_t* x, int n) { kernels().axpy16(y, alpha, x, n); }

// ---- attention ------------------------------------------------------------------------------------------------

void AttentionScratch::reserve(int n_heads, int n_kv_heads, int head_dim_v) {
  group_ = n_heads / n_kv_heads;
  head_dim_v_ = head_dim_v;
  per_task_ = size_t(group_) * (KVCache::kBlockTokens + head_dim_v + 2);
  per_task_ = (per_task_ + 15) / 16 * 16;
  buf_.assign(per_task_ * n_kv_heads * kMaxChunks, 0.0f);
  partial_.assign(size_t(kMaxChunks) * n_heads * (head_dim_v + 2), 0.0f);
}

namespace {

// One query token against key blocks [b0, b1) for the query heads of KV head g, with an online softmax.
// Leaves per head: m (running max), l (sum of exp), acc [head_dim_v] (unnormalized output) in `st`.
void attend_one(const AttentionArgs& a, int g, int qi, int b0, int b1, float* st) {
  const KVCache& kv = *a.kv;
  const int G = a.n_heads / a.n_kv_heads, D = a.head_dim, Dv = a.head_dim_v;
  const int last = a.pos0 + qi;  // inclusive
  float* scores = st;                                   // [G, kBlockTokens]
  float* m = st + size_t(G) * KVCache::kBlockTokens;    // [G]
  float* l = m + G;                                     // [G]
  float* acc = l + G;                                   // [G, Dv]
  for (int h = 0; h < G; ++h) {
    m[h] = -std::numeric_limits<float>::infinity();
    l[h] = 0;
  }
  std::fill(acc, acc + size_t(G) * Dv, 0.0f);
  const float* q = a.q + size_t(qi) * a.n_heads * D + size_t(g) * G * D;  // [G, D]
  const bool f16 = kv.type() == KVType::F16;
  const Kernels& K = kernels();
  for (int b = b0; b < b1; ++b) {
    const int t0 = b * KVCache::kBlockTokens;
    if (t0 > last) break;
    const int nt = std::min(KVCache::kBlockTokens, last - t0 + 1);
    const void* kb = kv.k_block(a.layer, b, g);
    const void* vb = kv.v_block(a.layer, b, g);
    for (int t = 0; t < nt; ++t) {
      if (f16) {
        const uint16_t* kr = static_cast<const uint16_t*>(kb) + size_t(t) * D;
        for (int h = 0; h < G; ++h) scores[h * KVCache::kBlockTokens + t] = K.dot16(q + h * D, kr, D) * a.scale;
      } else {
        const float* kr = static_cast<const float*>(kb) + size_t(t) * D;
        for (int h = 0; h < G; ++h) scores[h * KVCache::kBlockTokens + t] = K.dot32(q + h * D, kr, D) * a.scale;
      }
    }
    for (int h = 0; h < G; ++h) {
      float* s = scores + h * KVCache::kBlockTokens;
      float bm = s[0];
      for (int t = 1; t < nt; ++t) bm = std::max(bm, s[t]);
      const float nm = std::max(m[h], bm);
      const float corr = std::exp(m[h] - nm);  // 0 on the first block (m = -inf)
      if (corr != 1.0f) {
        l[h] *= corr;
        for (int i = 0; i < Dv; ++i) acc[h * Dv + i] *= corr;
      }
      float sum = 0;
      for (int t = 0; t < nt; ++t) {
        s[t] = std::exp(s[t] - nm);
        sum += s[t];
      }
      l[h] += sum;
      m[h] = nm;
    }
    for (int t = 0; t < nt; ++t) {
      if (f16) {
        const uint16_t* vr = static_cast<const uint16_t*>(vb) + size_t(t) * Dv;
        for (int h = 0; h < G; ++h) K.axpy16(acc + h * Dv, scores[h * KVCache::kBlockTokens + t], vr, Dv);
      } else {
        const float* vr = static_cast<const float*>(vb) + size_t(t) * Dv;
        for (int h = 0; h < G; ++h) K.axpy32(acc + h * Dv, scores[h * KVCache::kBlockTokens + t], vr, Dv);
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
    splits = std::min({splits, n_blocks, AttentionScratch::kMaxChunks});
    const int per = (n_blocks + splits - 1) / splits;
    splits = (n_blocks + per - 1) / per;
    const size_t pstride = size_t(Dv) + 2;
    run_tasks(pool, a.n_kv_heads * splits, [&](int task) {
      const int g = task / splits, sp = task % splits;
      float* st = s.task(task);
      attend_one(a, g, 0, sp * per, std::min(n_blocks, (sp + 1) * per), st);
      const float* m = st + size_t(G) * KVCache::kBlockTokens;
      const float* l = m + G;
      const float* acc = l + G;
      for (int h = 0; h < G; ++h) {
        float* p = s.partial() + (size_t(sp) * a.n_heads + g * G + h) * pstride;
        p[0] = m[h];
        p[1] = l[h];
        std::copy(acc + h * Dv, acc + (h + 1) * Dv, p + 2);
      }
    });
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
  // Prefill: each task takes every chunks-th query of one KV head (interleaved, so causal work is balanced).
  int chunks = std::max(1, (4 * n_threads + a.n_kv_heads - 1) / a.n_kv_heads);
  chunks = std::min({chunks, a.n_q, AttentionScratch::kMaxChunks});
  run_tasks(pool, a.n_kv_heads * chunks, [&](int task) {
    const int g = task / chunks, c = task % chunks;
    float* st = s.task(task);
    const float* l = st + size_t(G) * KVCache::kBlockTokens + G;
    const float* acc = l + G;
    for (int qi = c; qi < a.n_q; qi += chunks) {
      attend_one(a, g, qi, 0, n_blocks, st);
      for (int h = 0; h < G; ++h) {
        float* out = a.out + size_t(qi) * a.n_heads * Dv + size_t(g * G + h) * Dv;
        const float inv = 1.0f / l[h];
        for (int i = 0; i < Dv; ++i) out[i] = acc[h * Dv + i] * inv;
      }
    }
  });
}

}  // namespace cj
