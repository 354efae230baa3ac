#include "engine/cpu/page_select.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "engine/cpu/cpu_features.h"
#include "engine/cpu/thread_pool.h"

namespace cj {

namespace {

constexpr int UT = KVPool::kSummaryTokens, U = KVPool::kSummaryUnits;

struct SelectScratch {
  std::vector<float> q2;          // [n_heads, 2D]: max(q, 0) then min(q, 0), times the scale
  std::vector<float> scores;      // [n_kv_heads, units]
  std::vector<int> idx;           // [n_kv_heads, units]
  std::vector<KeyRange> ranges;   // [n_kv_heads, stride]
  std::vector<int> count;         // [n_kv_heads]
  KeySelection sel;
};

SelectScratch& scratch(int slot) {
  thread_local std::vector<std::unique_ptr<SelectScratch>> s;
  if (size_t(slot) >= s.size()) s.resize(size_t(slot) + 1);
  if (!s[size_t(slot)]) s[size_t(slot)] = std::make_unique<SelectScratch>();
  return *s[size_t(slot)];
}

template <typename T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(std::max(n, v.size() * 2));
}

// Scores of the U units of one page for one KV head: the largest over the G query heads of
// Σ_d q⁺_d·max_d + q⁻_d·min_d. summ: [2D][U] f16; q2: [G][2D].
__attribute__((target("avx2,fma,f16c"))) void score_page_avx2(const uint16_t* summ, const float* q2, int G, int D2,
                                                               float* out) {
  static_assert(U == 8, "one AVX2 vector per page");
  __m256 best = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int h0 = 0; h0 < G; h0 += 8) {
    const int nh = std::min(8, G - h0);
    __m256 acc[8];
    for (int h = 0; h < 8; ++h) acc[h] = _mm256_setzero_ps();
    for (int d = 0; d < D2; ++d) {
      const __m256 s = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(summ + size_t(d) * U)));
      for (int h = 0; h < nh; ++h)
        acc[h] = _mm256_fmadd_ps(_mm256_broadcast_ss(q2 + size_t(h0 + h) * D2 + d), s, acc[h]);
    }
    for (int h = 0; h < nh; ++h) best = _mm256_max_ps(best, acc[h]);
  }
  _mm256_storeu_ps(out, best);
}

// Two pages at once (16 units in one vector): half the multiplications of the AVX2 scorer. sa, sb: the pages'
// summaries; out_a, out_b: their 8 unit scores.
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,f16c,fma"))) void score_pages2_avx512(
    const uint16_t* sa, const uint16_t* sb, const float* q2, int G, int D2, float* out_a, float* out_b) {
  __m512 best = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int h0 = 0; h0 < G; h0 += 8) {
    const int nh = std::min(8, G - h0);
    __m512 acc[8];
    for (int h = 0; h < 8; ++h) acc[h] = _mm512_setzero_ps();
    for (int d = 0; d < D2; ++d) {
      const __m256i two = _mm256_inserti128_si256(
          _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sa + size_t(d) * U))),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + size_t(d) * U)), 1);
      const __m512 s = _mm512_cvtph_ps(two);
      for (int h = 0; h < nh; ++h)
        acc[h] = _mm512_fmadd_ps(_mm512_set1_ps(q2[size_t(h0 + h) * D2 + d]), s, acc[h]);
    }
    for (int h = 0; h < nh; ++h) best = _mm512_max_ps(best, acc[h]);
  }
  _mm256_storeu_ps(out_a, _mm512_castps512_ps256(best));
  _mm256_storeu_ps(out_b, _mm512_extractf32x8_ps(best, 1));
}

void score_page_scalar(const uint16_t* summ, const float* q2, int G, int D2, float* out) {
  for (int u = 0; u < U; ++u) {
    float best = -std::numeric_limits<float>::infinity();
    for (int h = 0; h < G; ++h) {
      float s = 0;
      for (int d = 0; d < D2; ++d) s += q2[size_t(h) * D2 + d] * f16_to_f32(summ[size_t(d) * U + u]);
      best = std::max(best, s);
    }
    out[u] = best;
  }
}

// Stats mode: the exact softmax mass of each query head of group g on its selected keys.
void measure_mass(const SelectQuery& a, int g, const KeyRange* rg, int nr) {
  const KVCache& kv = *a.kv;
  const KVLayout& L = kv.layout();
  const int G = a.n_heads / a.n_kv_heads, D = a.head_dim, N = a.pos + 1;
  std::vector<uint8_t> stage(L.k_head_bytes);
  std::vector<float> row(static_cast<size_t>(D));
  std::vector<double> sc(static_cast<size_t>(N));
  std::vector<char> in(static_cast<size_t>(N), 0);
  for (int r = 0; r < nr; ++r)
    for (int t = rg[r].t0; t < rg[r].t1; ++t) in[size_t(t)] = 1;
  KVSelectStats& st = kv_select_stats();
  for (int h = 0; h < G; ++h) {
    const float* q = a.q + size_t(g * G + h) * D;
    double mx = -1e300;
    for (int t = 0; t < N; ++t) {
      const uint8_t* kb = kv.k_head(a.layer, t / KVCache::kBlockTokens, g, stage.data());
      kv_decode_row(L.type, kb + size_t(t % KVCache::kBlockTokens) * L.k_row_bytes, D, row.data());
      double d = 0;
      for (int c = 0; c < D; ++c) d += double(q[c]) * row[size_t(c)];
      sc[size_t(t)] = d * a.scale;
      mx = std::max(mx, sc[size_t(t)]);
    }
    double all = 0, sel = 0;
    std::vector<double> unit((N + UT - 1) / UT, 0.0);
    long attended = 0;
    for (int t = 0; t < N; ++t) {
      const double w = std::exp(sc[size_t(t)] - mx);
      all += w;
      unit[size_t(t / UT)] += w;
      if (in[size_t(t)]) {
        sel += w;
        ++attended;
      }
    }
    // The oracle attends the units of largest exact mass, as many as the selection attended.
    const size_t k = std::min(unit.size(), size_t((attended + UT - 1) / UT));
    std::partial_sort(unit.begin(), unit.begin() + long(k), unit.end(), std::greater<double>());
    double best = 0;
    for (size_t i = 0; i < k; ++i) best += unit[i];
    st.oracle_sum += best / all;
    const double m = sel / all;
    st.mass_sum += m;
    st.mass_min = std::min(st.mass_min, m);
    ++st.mass_count;
  }
}

}  // namespace

const KeySelection* select_keys(const SelectQuery& a, const KVSelectOptions& o, ThreadPool* pool, int n_threads,
                                int slot) {
  const KVCache& kv = *a.kv;
  const KVPool& P = kv.pool();
  if (!o.enabled() || !P.has_summaries() || a.layer < o.dense_layers) return nullptr;
  const int N = a.pos + 1;
  const KVSelectPlan pl = kv_select_plan(o, N);
  if (!pl.active) return nullptr;  // every key would be attended: exact attention
  const int nU = pl.nU, sink_u = pl.sink_u, rec0 = pl.rec0, top = pl.top;
  const int nUp = (nU + U - 1) / U * U;  // whole pages
  const int cand = rec0 - sink_u;        // complete units between the sinks and the recent window
  const int G = a.n_heads / a.n_kv_heads, D = a.head_dim, D2 = 2 * D, KVH = a.n_kv_heads;
  SelectScratch& ss = scratch(slot);
  grow(ss.q2, size_t(a.n_heads) * D2);
  grow(ss.scores, size_t(KVH) * nUp);
  grow(ss.idx, size_t(KVH) * nU);
  const int stride = top + 2;  // sinks, selected units, recent window (merged when adjacent)
  grow(ss.ranges, size_t(KVH) * stride);
  grow(ss.count, size_t(KVH));
  for (int h = 0; h < a.n_heads; ++h) {
    const float* q = a.q + size_t(h) * D;
    float* q2 = ss.q2.data() + size_t(h) * D2;
    for (int d = 0; d < D; ++d) {
      q2[d] = std::max(q[d], 0.0f);
      q2[D + d] = std::min(q[d], 0.0f);
    }
  }
  // Scores of the pages holding candidate units, split over the pool: (KV head, run of pages).
  const int pb0 = sink_u / U, pb1 = (rec0 - 1) / U + 1;
  const int np = pb1 - pb0;
  const int runs = std::max(1, std::min(np / 16, 2 * n_threads));
  const bool avx2 = cpu_features().avx2, avx512 = cpu_features().avx512;
  auto score = [&](int task) {
    const int g = task / runs, r = task % runs;
    const int b0 = pb0 + np * r / runs, b1 = pb0 + np * (r + 1) / runs;
    const float* q2 = ss.q2.data() + size_t(g) * G * D2;
    float* out = ss.scores.data() + size_t(g) * nUp;
    int b = b0;
    if (avx512)
      for (; b + 1 < b1; b += 2)
        score_pages2_avx512(P.summary(kv.page(a.layer, b), g), P.summary(kv.page(a.layer, b + 1), g), q2, G, D2,
                            out + size_t(b) * U, out + size_t(b + 1) * U);
    for (; b < b1; ++b) {
      const uint16_t* s = P.summary(kv.page(a.layer, b), g);
      float* dst = out + size_t(b) * U;
      if (avx2) score_page_avx2(s, q2, G, D2, dst);
      else score_page_scalar(s, q2, G, D2, dst);
    }
  };
  if (pool && KVH * runs > 1) pool->parallel_for(KVH * runs, score);
  else
    for (int t = 0; t < KVH * runs; ++t) score(t);
  KVSelectStats& st = kv_select_stats();
  for (int g = 0; g < KVH; ++g) {
    const float* sc = ss.scores.data() + size_t(g) * nUp;
    int* idx = ss.idx.data() + size_t(g) * nU;
    for (int i = 0; i < cand; ++i) idx[i] = sink_u + i;
    std::nth_element(idx, idx + top, idx + cand, [&](int x, int y) { return sc[x] > sc[y]; });
    std::sort(idx, idx + top);
    KeyRange* rg = ss.ranges.data() + size_t(g) * stride;
    int n = 0;
    auto add = [&](int t0, int t1) {
      if (t0 >= t1) return;
      if (n > 0 && rg[n - 1].t1 == t0) rg[n - 1].t1 = t1;
      else rg[n++] = KeyRange{t0, t1};
    };
    add(0, sink_u * UT);
    for (int i = 0; i < top; ++i) add(idx[i] * UT, (idx[i] + 1) * UT);
    add(rec0 * UT, N);
    ss.count[size_t(g)] = n;
    ++st.steps;
    st.units_total += nU;
    st.units_attended += sink_u + top + (nU - rec0);
    if (o.stats) measure_mass(a, g, rg, n);
  }
  ss.sel = KeySelection{ss.ranges.data(), ss.count.data(), stride};
  return &ss.sel;
}

}  // namespace cj
