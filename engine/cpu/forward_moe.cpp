#include "engine/cpu/forward_moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/base/result.h"
#include "engine/cpu/forward_ops.h"
#include "engine/cpu/thread_pool.h"

namespace cj {

void moe_route(const MoeRecipe& m, float* p, const float* bias, int32_t* experts, float* weights) {
  const int N = m.n_expert, K = m.n_used;
  if (m.gating == ExpertGating::Softmax) {
    float mx = p[0];
    for (int e = 1; e < N; ++e) mx = std::max(mx, p[e]);
    double sum = 0;
    for (int e = 0; e < N; ++e) {
      p[e] = std::exp(p[e] - mx);
      sum += p[e];
    }
    const float inv = float(1.0 / sum);
    for (int e = 0; e < N; ++e) p[e] *= inv;
  } else {
    for (int e = 0; e < N; ++e) p[e] = 1.0f / (1.0f + std::exp(-p[e]));
  }
  CJ_ASSERT(N <= kMaxExperts && m.n_group <= kMaxExpertGroups);
  float score[kMaxExperts];  // selection scores
  for (int e = 0; e < N; ++e) score[e] = bias ? p[e] + bias[e] : p[e];
  const float ninf = -std::numeric_limits<float>::infinity();
  if (m.n_group > 1) {
    // Group score: the sum of its two best selection scores; keep the n_group_used best groups.
    const int per = N / m.n_group;
    float gs[kMaxExpertGroups];
    const int G = m.n_group;
    for (int g = 0; g < G; ++g) {
      float a = ninf, b = ninf;
      for (int e = g * per; e < (g + 1) * per; ++e) {
        if (score[e] > a) {
          b = a;
          a = score[e];
        } else if (score[e] > b) {
          b = score[e];
        }
      }
      gs[g] = per > 1 ? a + b : a;
    }
    bool keep[kMaxExpertGroups] = {};
    for (int k = 0; k < m.n_group_used; ++k) {
      int best = -1;
      for (int g = 0; g < G; ++g)
        if (!keep[g] && (best < 0 || gs[g] > gs[best])) best = g;
      keep[best] = true;
    }
    for (int g = 0; g < G; ++g)
      if (!keep[g])
        for (int e = g * per; e < (g + 1) * per; ++e) score[e] = ninf;
  }
  // Top K by selection score, best first (ties: the lower index).
  for (int k = 0; k < K; ++k) {
    int best = -1;
    for (int e = 0; e < N; ++e)
      if (score[e] != ninf || best < 0)
        if (best < 0 || score[e] > score[best]) best = e;
    experts[k] = best;
    weights[k] = p[best];
    score[best] = ninf;
  }
  // A selected expert's score became -inf above; an expert that was already -inf (masked group) could be picked only
  // when fewer than K remain, which the loader's group checks rule out.
  if (m.norm_weights) {
    float sum = 0;
    for (int k = 0; k < K; ++k) sum += weights[k];
    sum = std::max(sum, 6.103515625e-5f);
    for (int k = 0; k < K; ++k) weights[k] /= sum;
  }
  if (m.weights_scale != 1.0f)
    for (int k = 0; k < K; ++k) weights[k] *= m.weights_scale;
}

void MoeScratch::reserve(const Recipe& r, int B) {
  const MoeRecipe& m = r.moe;
  if (m.n_expert <= 0) return;
  const size_t rows = size_t(B) * size_t(m.n_used);
  logits.assign(size_t(B) * m.n_expert, 0);
  sel.assign(rows, 0);
  wts.assign(rows, 0);
  count.assign(size_t(m.n_expert), 0);
  offset.assign(size_t(m.n_expert) + 1, 0);
  this->rows.assign(rows, 0);
  where.assign(rows, 0);
  gate.assign(rows * m.n_ff_exp, 0);
  up.assign(rows * m.n_ff_exp, 0);
  down.assign(rows * r.n_embd, 0);
  if (m.n_ff_shared > 0) {
    sh_gate.assign(size_t(B) * m.n_ff_shared, 0);
    sh_up.assign(size_t(B) * m.n_ff_shared, 0);
    sh_down.assign(size_t(B) * r.n_embd, 0);
  }
  jobs.assign(size_t(2 * m.n_expert + 2), GemmJob{});
}

namespace {

template <typename F>
void for_rows(ThreadPool* pool, int n, F&& f) {
  if (pool && n > 16) {
    const int tasks = std::min(n, pool->size() * 4);
    pool->parallel_for(tasks, [&](int t) {
      for (int i = t; i < n; i += tasks) f(i);
    });
  } else {
    for (int i = 0; i < n; ++i) f(i);
  }
}

}  // namespace

size_t moe_ffn(const LayerWeights& L, const Recipe& r, const float* xn, int n, float* x, MoeScratch& s,
               ThreadPool* pool) {
  const MoeRecipe& m = r.moe;
  const int E = r.n_embd, NE = m.n_expert, K = m.n_used, F = m.n_ff_exp, FS = m.n_ff_shared;
  size_t bytes = L.router.bytes();
  // 1. Router logits of every row, then each row's experts and weights.
  GemmJob rj;
  rj.type = L.router.type;
  rj.W = L.router.data;
  rj.rows = NE;
  rj.cols = E;
  rj.X = xn;
  rj.ldx = size_t(E);
  rj.n = n;
  rj.Y = s.logits.data();
  rj.ldy = size_t(NE);
  matmul_grouped(&rj, 1, pool);
  const float* bias = L.probs_bias.present() ? static_cast<const float*>(L.probs_bias.data) : nullptr;
  for_rows(pool, n, [&](int i) {
    moe_route(m, s.logits.data() + size_t(i) * NE, bias, s.sel.data() + size_t(i) * K, s.wts.data() + size_t(i) * K);
  });
  // 2. Group the (row, slot) pairs by expert (counting sort; rows stay in batch order within an expert).
  std::fill(s.count.begin(), s.count.end(), 0);
  for (int j = 0; j < n * K; ++j) ++s.count[size_t(s.sel[size_t(j)])];
  s.offset[0] = 0;
  for (int e = 0; e < NE; ++e) s.offset[size_t(e) + 1] = s.offset[size_t(e)] + s.count[size_t(e)];
  for (int e = 0; e < NE; ++e) s.count[size_t(e)] = 0;
  for (int j = 0; j < n * K; ++j) {
    const int e = s.sel[size_t(j)];
    const int g = s.offset[size_t(e)] + s.count[size_t(e)]++;
    s.rows[size_t(g)] = j / K;
    s.where[size_t(j)] = g;
  }
  // 3. gate and up of every active expert on its rows (and the shared experts on all rows): one dispatch.
  int nj = 0;
  auto job = [&](const WeightView& w, const float* X, size_t ldx, const int32_t* idx, int rows_in, float* Y,
                 size_t ldy) {
    GemmJob& J = s.jobs[size_t(nj++)];
    J.type = w.type;
    J.W = w.data;
    J.rows = w.rows;
    J.cols = w.cols;
    J.X = X;
    J.ldx = ldx;
    J.idx = idx;
    J.n = rows_in;
    J.Y = Y;
    J.ldy = ldy;
    bytes += w.mat_bytes();
  };
  for (int e = 0; e < NE; ++e) {
    const int cnt = s.offset[size_t(e) + 1] - s.offset[size_t(e)];
    if (cnt == 0) continue;
    const int off = s.offset[size_t(e)];
    // One row: X row 0 directly (every expert of a decode token then shares one prepared input).
    const int32_t* idx = n == 1 ? nullptr : s.rows.data() + off;
    job(L.gate_exps.mat(e), xn, size_t(E), idx, cnt, s.gate.data() + size_t(off) * F, size_t(F));
    job(L.up_exps.mat(e), xn, size_t(E), idx, cnt, s.up.data() + size_t(off) * F, size_t(F));
  }
  if (FS > 0) {
    job(L.gate_shexp, xn, size_t(E), nullptr, n, s.sh_gate.data(), size_t(FS));
    job(L.up_shexp, xn, size_t(E), nullptr, n, s.sh_up.data(), size_t(FS));
  }
  matmul_grouped(s.jobs.data(), nj, pool);
  const int nr = n * K;
  for_rows(pool, nr, [&](int g) { silu_mul(s.gate.data() + size_t(g) * F, s.up.data() + size_t(g) * F, size_t(F)); });
  if (FS > 0)
    for_rows(pool, n, [&](int i) {
      silu_mul(s.sh_gate.data() + size_t(i) * FS, s.sh_up.data() + size_t(i) * FS, size_t(FS));
    });
  // 4. down of every active expert on its gathered rows (and of the shared experts): one dispatch.
  nj = 0;
  for (int e = 0; e < NE; ++e) {
    const int cnt = s.offset[size_t(e) + 1] - s.offset[size_t(e)];
    if (cnt == 0) continue;
    const int off = s.offset[size_t(e)];
    job(L.down_exps.mat(e), s.gate.data() + size_t(off) * F, size_t(F), nullptr, cnt,
        s.down.data() + size_t(off) * E, size_t(E));
  }
  if (FS > 0) job(L.down_shexp, s.sh_gate.data(), size_t(FS), nullptr, n, s.sh_down.data(), size_t(E));
  matmul_grouped(s.jobs.data(), nj, pool);
  // 5. x += sum over slots (in routing order) of weight * expert output, + the shared experts.
  for_rows(pool, n, [&](int i) {
    float* xi = x + size_t(i) * E;
    const float* d0 = s.down.data() + size_t(s.where[size_t(i) * K]) * E;
    const float w0 = s.wts[size_t(i) * K];
    float acc[64];
    for (int c0 = 0; c0 < E; c0 += 64) {
      const int c1 = std::min(E, c0 + 64);
      for (int c = c0; c < c1; ++c) acc[c - c0] = w0 * d0[c];
      for (int k = 1; k < K; ++k) {
        const float* d = s.down.data() + size_t(s.where[size_t(i) * K + k]) * E;
        const float w = s.wts[size_t(i) * K + k];
        for (int c = c0; c < c1; ++c) acc[c - c0] += w * d[c];
      }
      if (FS > 0) {
        const float* sh = s.sh_down.data() + size_t(i) * E;
        for (int c = c0; c < c1; ++c) acc[c - c0] += sh[c];
      }
      for (int c = c0; c < c1; ++c) xi[c] += acc[c - c0];
    }
  });
  return bytes;
}

}  // namespace cj
