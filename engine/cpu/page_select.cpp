#include "engine/cpu/page_select.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "engine/cpu/cpu_features.h"
#include "engine/cpu/thread_pool.h"
#include "engine/format/quant_blocks.h"

namespace cj {

namespace {

constexpr int UT = KVPool::kSummaryTokens, U = KVPool::kSummaryUnits;

struct SelectScratch {
  std::vector<float> q2;          // [n_heads, 2D]: max(q, 0) then min(q, 0)
  std::vector<uint32_t> qw;       // [n_heads, D]: the words (max(q, 0), min(q, 0)) as bf16
  std::vector<float> scores;      // [n_kv_heads, units]
  std::vector<float> tmp;         // [n_kv_heads, units]: candidates' scores (top-k threshold)
  std::unique_ptr<std::atomic<int>[]> done;  // per KV head: runs of pages scored
  int n_done = 0;
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
// Σ_d q⁺_d·max_d + q⁻_d·min_d. summ: [D][U] words (max, min) as bf16 (KVPool::summary); q2: [G][2D] (q⁺ then q⁻).
__attribute__((target("avx2,fma,f16c"))) void score_page_avx2(const uint16_t* summ, const float* q2, int G, int D,
                                                               float* out) {
  static_assert(U == 8, "one AVX2 vector per page");
  __m256 best = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  const __m256i hi = _mm256_set1_epi32(int(0xffff0000u));
  for (int h0 = 0; h0 < G; h0 += 8) {
    const int nh = std::min(8, G - h0);
    __m256 acc[8];
    for (int h = 0; h < 8; ++h) acc[h] = _mm256_setzero_ps();
    for (int d = 0; d < D; ++d) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(summ + size_t(d) * U * 2));
      const __m256 mx = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
      const __m256 mn = _mm256_castsi256_ps(_mm256_and_si256(w, hi));
      for (int h = 0; h < nh; ++h) {
        const float* q = q2 + size_t(h0 + h) * 2 * D;
        acc[h] = _mm256_fmadd_ps(_mm256_broadcast_ss(q + d), mx, acc[h]);
        acc[h] = _mm256_fmadd_ps(_mm256_broadcast_ss(q + D + d), mn, acc[h]);
      }
    }
    for (int h = 0; h < nh; ++h) best = _mm256_max_ps(best, acc[h]);
  }
  _mm256_storeu_ps(out, best);
}

// Two pages at once (16 units in one vector) with VDPBF16PS: one instruction per channel and head computes
// q⁺·max + q⁻·min for 16 units (a quarter of the f32 scorer's multiplications). qw: [NH][D] words (q⁺, q⁻) as
// bf16; best: the running max over heads. NH is a template argument so that the accumulators stay in registers.
template <int NH>
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512bf16"))) inline __m512 score_pages2_heads(
    const uint16_t* sa, const uint16_t* sb, const uint32_t* qw, int D, __m512 best) {
  __m512 acc[NH];
#pragma GCC unroll 8
  for (int h = 0; h < NH; ++h) acc[h] = _mm512_setzero_ps();
  for (int d = 0; d < D; ++d) {
    const __m512i two = _mm512_inserti64x4(
        _mm512_inserti64x4(_mm512_setzero_si512(),
                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sa + size_t(d) * U * 2)), 0),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + size_t(d) * U * 2)), 1);
    const __m512bh s = reinterpret_cast<__m512bh>(two);
#pragma GCC unroll 8
    for (int h = 0; h < NH; ++h)
      acc[h] = _mm512_dpbf16_ps(acc[h], reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(qw[size_t(h) * D + d]))), s);
  }
#pragma GCC unroll 8
  for (int h = 0; h < NH; ++h) best = _mm512_max_ps(best, acc[h]);
  return best;
}

__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512bf16"))) void score_pages2_bf16(
    const uint16_t* sa, const uint16_t* sb, const uint32_t* qw, int G, int D, float* out_a, float* out_b) {
  __m512 best = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int h0 = 0; h0 < G; h0 += 8) {
    const uint32_t* q = qw + size_t(h0) * D;
    switch (std::min(8, G - h0)) {
      case 1: best = score_pages2_heads<1>(sa, sb, q, D, best); break;
      case 2: best = score_pages2_heads<2>(sa, sb, q, D, best); break;
      case 3: best = score_pages2_heads<3>(sa, sb, q, D, best); break;
      case 4: best = score_pages2_heads<4>(sa, sb, q, D, best); break;
      case 5: best = score_pages2_heads<5>(sa, sb, q, D, best); break;
      case 6: best = score_pages2_heads<6>(sa, sb, q, D, best); break;
      case 7: best = score_pages2_heads<7>(sa, sb, q, D, best); break;
      default: best = score_pages2_heads<8>(sa, sb, q, D, best); break;
    }
  }
  alignas(64) float o[16];
  _mm512_store_ps(o, best);
  std::memcpy(out_a, o, 8 * 4);
  std::memcpy(out_b, o + 8, 8 * 4);
}

void score_page_scalar(const uint16_t* summ, const float* q2, int G, int D, float* out) {
  for (int u = 0; u < U; ++u) {
    float best = -std::numeric_limits<float>::infinity();
    for (int h = 0; h < G; ++h) {
      const float* q = q2 + size_t(h) * 2 * D;
      float s = 0;
      for (int d = 0; d < D; ++d)
        s += q[d] * KVPool::summary_max(summ, d, u) + q[D + d] * KVPool::summary_min(summ, d, u);
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
  const int stride = top + 2;  // sinks, selected units, recent window (merged when adjacent)
  grow(ss.ranges, size_t(KVH) * stride);
  grow(ss.count, size_t(KVH));
  grow(ss.qw, size_t(a.n_heads) * D);
  for (int h = 0; h < a.n_heads; ++h) {
    const float* q = a.q + size_t(h) * D;
    float* q2 = ss.q2.data() + size_t(h) * D2;
    uint32_t* qw = ss.qw.data() + size_t(h) * D;
    for (int d = 0; d < D; ++d) {
      q2[d] = std::max(q[d], 0.0f);
      q2[D + d] = std::min(q[d], 0.0f);
      // nearest bf16 (the query's rounding moves the bound by a few parts in a thousand)
      qw[d] = uint32_t(q::f32_to_bf16(q2[d])) | (uint32_t(q::f32_to_bf16(q2[D + d])) << 16);
    }
  }
  // Scores of the pages holding candidate units, split over the pool: (KV head, run of pages).
  const int pb0 = sink_u / U, pb1 = (rec0 - 1) / U + 1;
  const int np = pb1 - pb0;
  const int runs = std::max(1, std::min(np / 16, 2 * n_threads));
  const bool avx2 = cpu_features().avx2, bf16 = cpu_features().avx512 && cpu_features().avx512_bf16;
  auto score = [&](int task) {
    const int g = task / runs, r = task % runs;
    const int b0 = pb0 + np * r / runs, b1 = pb0 + np * (r + 1) / runs;
    const float* q2 = ss.q2.data() + size_t(g) * G * D2;
    const uint32_t* qw = ss.qw.data() + size_t(g) * G * D;
    float* out = ss.scores.data() + size_t(g) * nUp;
    int b = b0;
    if (bf16)
      for (; b + 1 < b1; b += 2)
        score_pages2_bf16(P.summary(kv.page(a.layer, b), g), P.summary(kv.page(a.layer, b + 1), g), qw, G, D,
                          out + size_t(b) * U, out + size_t(b + 1) * U);
    for (; b < b1; ++b) {
      const uint16_t* s = P.summary(kv.page(a.layer, b), g);
      float* dst = out + size_t(b) * U;
      if (avx2) score_page_avx2(s, q2, G, D, dst);
      else score_page_scalar(s, q2, G, D, dst);
    }
  };
  // A KV head's units are chosen by the task that scores its last run of pages (no second dispatch): the top
  // scores' threshold by nth_element over a copy of the candidates' scores, then one scan in position order takes
  // the units above it and, of those equal to it, the first ones (sorted ranges without a sort).
  auto choose = [&](int g) {
    const float* sc = ss.scores.data() + size_t(g) * nUp;
    float* tmp = ss.tmp.data() + size_t(g) * nU;
    float thr = std::numeric_limits<float>::infinity();
    if (top > 0) {
      std::copy(sc + sink_u, sc + rec0, tmp);
      std::nth_element(tmp, tmp + (top - 1), tmp + cand, std::greater<float>());
      thr = tmp[top - 1];
    }
    int above = 0;
    for (int i = sink_u; i < rec0; ++i) above += sc[i] > thr;
    int ties = top - above;
    KeyRange* rg = ss.ranges.data() + size_t(g) * stride;
    int n = 0;
    auto add = [&](int t0, int t1) {
      if (t0 >= t1) return;
      if (n > 0 && rg[n - 1].t1 == t0) rg[n - 1].t1 = t1;
      else rg[n++] = KeyRange{t0, t1};
    };
    add(0, sink_u * UT);
    for (int i = sink_u; i < rec0; ++i)
      if (sc[i] > thr || (sc[i] == thr && ties-- > 0)) add(i * UT, (i + 1) * UT);
    add(rec0 * UT, N);
    ss.count[size_t(g)] = n;
  };
  grow(ss.tmp, size_t(KVH) * nU);
  if (ss.n_done < KVH) {
    ss.done = std::make_unique<std::atomic<int>[]>(size_t(KVH));
    ss.n_done = KVH;
  }
  for (int g = 0; g < KVH; ++g) ss.done[size_t(g)].store(0, std::memory_order_relaxed);
  auto score_choose = [&](int task) {
    score(task);
    const int g = task / runs;
    if (ss.done[size_t(g)].fetch_add(1, std::memory_order_acq_rel) + 1 == runs) choose(g);
  };
  if (pool && KVH * runs > 1) pool->parallel_for(KVH * runs, score_choose);
  else
    for (int t = 0; t < KVH * runs; ++t) score_choose(t);
  KVSelectStats& st = kv_select_stats();
  for (int g = 0; g < KVH; ++g) {
    ++st.steps;
    st.units_total += nU;
    st.units_attended += sink_u + top + (nU - rec0);
    if (o.stats) measure_mass(a, g, ss.ranges.data() + size_t(g) * stride, ss.count[size_t(g)]);
  }
  ss.sel = KeySelection{ss.ranges.data(), ss.count.data(), stride};
  return &ss.sel;
}

}  // namespace cj
