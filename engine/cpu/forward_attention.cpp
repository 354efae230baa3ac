#include "engine/cpu/forward_attention.h"

#include "engine/cpu/cpu_features.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/base/result.h"
#include "engine/cpu/attention_flash.h"
#include "engine/kv/attn_state.h"
#include "engine/cpu/thread_pool.h"

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

void AttentionScratch::reserve(int n_heads, int n_kv_heads, int head_dim_v, size_t stage_bytes, int max_groups) {
  stage_bytes_ = (stage_bytes + 63) / 64 * 64;
  stage_.assign(stage_bytes_ * kMaxTasks, 0);
  group_ = n_heads / n_kv_heads;
  head_dim_v_ = head_dim_v;
  per_task_ = size_t(kTileQ) * group_ * (kSubKeys + head_dim_v + 2);
  per_task_ = (per_task_ + 15) / 16 * 16;
  buf_.assign(per_task_ * kMaxTasks, 0.0f);
  max_partials_ = std::max(kMaxSplits * n_kv_heads, std::max(1, max_groups) * n_kv_heads);
  partial_.assign(size_t(max_partials_) * group_ * attn::state_floats(head_dim_v), 0.0f);
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

// Queries [q0, q0 + nq) of group `grp` and KV head g against key blocks [b0, b1), causal (query i sees keys
// <= pos0 + i).
void attend_tile(const AttentionArgs& a, const AttentionGroup& grp, int g, int q0, int nq, int b0, int b1,
                 const TileState& ts, uint8_t* stage) {
  const KVCache& kv = *grp.kv;
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
  const int last_of_tile = grp.pos0 + q0 + nq - 1;
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
        const int last = grp.pos0 + q0 + qi;
        const int nk = std::min(KB, last - t0 + 1);
        if (nk <= 0) continue;
        const float* q = a.q + size_t(grp.row0 + q0 + qi) * a.n_heads * D + size_t(g) * G * D;  // [G, D]
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

// One dispatch over every group of the batch. Work items: for a prefill run, (KV head, tile of kTileQ queries),
// latest tiles first (they see the most keys); for a decode step (one query), (KV head, range of key blocks), the
// ranges' partial states merged afterwards by log-sum-exp. Decode steps are split only as far as needed to give
// every thread work (one step of many sequences already does). Task t of T (T <= kMaxTasks, each owning a scratch
// slot) takes items t, t + T, t + 2T, ...
void attention(const AttentionArgs& a, AttentionScratch& s, ThreadPool* pool, int n_threads) {
  // The flash kernels (engine/cpu/attention_flash.h) take every shape they support, with page selection when
  // a.select asks for it; this path is the fallback (other head sizes, no AVX2, CJ_FLASH=off).
  if (flash_attention(a, s, pool, n_threads)) return;
  const int G = a.n_heads / a.n_kv_heads, Dv = a.head_dim_v, H = a.n_kv_heads;
  CJ_ASSERT(G == s.group_ && Dv == s.head_dim_v_);
  constexpr int TQ = AttentionScratch::kTileQ;
  constexpr int BT = KVCache::kBlockTokens;
  const int SF = attn::state_floats(Dv);
  int n_decode = 0, n_prefill_items = 0, max_blocks = 1;
  for (int i = 0; i < a.n_groups; ++i) {
    const AttentionGroup& g = a.groups[i];
    if (g.n_q == 1) {
      ++n_decode;
      max_blocks = std::max(max_blocks, (g.pos0 + 1 + BT - 1) / BT);
    } else {
      n_prefill_items += (g.n_q + TQ - 1) / TQ * H;
    }
  }
  int splits = 1;
  if (n_decode > 0) {
    splits = std::max(1, (2 * n_threads + n_decode * H - 1) / (n_decode * H));
    splits = std::min({splits, max_blocks, AttentionScratch::kMaxSplits, std::max(1, s.max_partials_ / (n_decode * H))});
  }
  CJ_ASSERT(n_decode * H * splits <= s.max_partials_);
  const int n_decode_items = n_decode * H * splits;
  const int n_items = n_prefill_items + n_decode_items;
  // Item -> work: prefill items first (heaviest first within a group), then decode items.
  auto run_item = [&](int item, int task) {
    float* st = s.task(task);
    uint8_t* stage = s.stage(task);
    if (item < n_prefill_items) {
      for (int gi = 0; gi < a.n_groups; ++gi) {
        const AttentionGroup& grp = a.groups[gi];
        if (grp.n_q == 1) continue;
        const int n_tiles = (grp.n_q + TQ - 1) / TQ;
        if (item >= n_tiles * H) {
          item -= n_tiles * H;
          continue;
        }
        const int tile = n_tiles - 1 - item / H, g = item % H;
        const int q0 = tile * TQ, nq = std::min(TQ, grp.n_q - q0);
        const int n_blocks = (grp.pos0 + grp.n_q + BT - 1) / BT;
        TileState ts(st, nq, G, Dv);
        attend_tile(a, grp, g, q0, nq, 0, n_blocks, ts, stage);
        for (int qi = 0; qi < nq; ++qi)
          for (int h = 0; h < G; ++h) {
            const int pi = qi * G + h;
            float* out = a.out + size_t(grp.row0 + q0 + qi) * a.n_heads * Dv + size_t(g * G + h) * Dv;
            const float inv = 1.0f / ts.l[pi];
            for (int i = 0; i < Dv; ++i) out[i] = ts.acc[size_t(pi) * Dv + i] * inv;
          }
        return;
      }
      return;
    }
    const int d = item - n_prefill_items;  // decode item: (decode group, KV head, split)
    const int di = d / (H * splits), g = (d / splits) % H, sp = d % splits;
    int seen = -1, gi = 0;
    for (; gi < a.n_groups; ++gi)
      if (a.groups[gi].n_q == 1 && ++seen == di) break;
    const AttentionGroup& grp = a.groups[gi];
    const int n_blocks = (grp.pos0 + 1 + BT - 1) / BT;
    const int per = (n_blocks + splits - 1) / splits;
    const int b0 = std::min(n_blocks, sp * per), b1 = std::min(n_blocks, (sp + 1) * per);
    TileState ts(st, 1, G, Dv);
    float* p = s.partial() + size_t(d) * G * SF;
    if (b0 >= b1) {
      for (int h = 0; h < G; ++h) attn::state_init(p + size_t(h) * SF, Dv);
      return;
    }
    attend_tile(a, grp, g, 0, 1, b0, b1, ts, stage);
    for (int h = 0; h < G; ++h) {
      float* ph = p + size_t(h) * SF;
      ph[0] = ts.m[h];
      ph[1] = ts.l[h];
      std::copy(ts.acc + h * Dv, ts.acc + (h + 1) * Dv, ph + 2);
    }
  };
  const int T = std::min(n_items, AttentionScratch::kMaxTasks);
  run_tasks(pool, T, [&](int task) {
    for (int item = task; item < n_items; item += T) run_item(item, task);
  });
  // Merge each decode query's splits (log-sum-exp) into its output.
  if (n_decode == 0) return;
  int di = 0;
  for (int gi = 0; gi < a.n_groups; ++gi) {
    const AttentionGroup& grp = a.groups[gi];
    if (grp.n_q != 1) continue;
    for (int g = 0; g < H; ++g)
      for (int h = 0; h < G; ++h) {
        float* acc = s.partial() + (size_t((di * H + g) * splits) * G + size_t(h)) * SF;
        for (int sp = 1; sp < splits; ++sp)
          attn::state_merge(acc, s.partial() + (size_t((di * H + g) * splits + sp) * G + size_t(h)) * SF, Dv);
        attn::state_output(acc, a.out + size_t(grp.row0) * a.n_heads * Dv + size_t(g * G + h) * Dv, Dv);
      }
    ++di;
  }
}

}  // namespace cj
