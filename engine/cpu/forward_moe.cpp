#include "engine/cpu/forward_moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/base/result.h"
#include "engine/cpu/forward_ops.h"
#include "engine/cpu/gemm_job.h"
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
  active.assign(size_t(m.n_expert), 0);
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
  auto align = [](size_t b) { return (b + 63) / 64 * 64; };
  xprep_stride = hprep_stride = 64;
  const int hmax = std::max(m.n_ff_exp, m.n_ff_shared);
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    const int64_t be = dtype_traits(t).block_elems;
    if (r.n_embd % be == 0) xprep_stride = std::max(xprep_stride, align(matvec_prep_bytes(t, r.n_embd)));
    if (hmax % be == 0) hprep_stride = std::max(hprep_stride, align(matvec_prep_bytes(t, hmax)));
  }
  xprep_stride = std::max(xprep_stride, align(size_t(r.n_embd) * 4));
  hprep_stride = std::max(hprep_stride, align(size_t(hmax) * 4));
  xprep.assign(4 * xprep_stride + 64, 0);
  hprep.assign(size_t(m.n_used + 1) * hprep_stride + 64, 0);
}

namespace {

constexpr int kInlineRows = 16;  // row-wise work on this many rows or fewer stays on the caller

template <typename F>
void for_rows(ThreadPool* pool, int n, F&& f) {
  if (pool && n > kInlineRows) {
    const int tasks = std::min(n, pool->size() * 4);
    pool->parallel_for(tasks, [&](int t) {
      for (int i = t; i < n; i += tasks) f(i);
    });
  } else {
    for (int i = 0; i < n; ++i) f(i);
  }
}

// x[i] += sum over slots (in routing order) of weight * expert output (s.down row s.where[i * K + k]), + the shared
// experts' output.
void combine(const Recipe& r, int n, float* x, MoeScratch& s, ThreadPool* pool = nullptr) {
  const MoeRecipe& m = r.moe;
  const int E = r.n_embd, K = m.n_used, FS = m.n_ff_shared;
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
}

uint8_t* aligned(std::vector<uint8_t>& v) {
  return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(v.data()) + 63) / 64 * 64);
}

// x += the experts of one routed token (s.sel / s.wts row 0), one task per active expert (+ one for the shared
// experts), in one dispatch. Returns the bytes of expert weights read.
size_t moe_one_token(const LayerWeights& L, const Recipe& r, const float* xn, float* x, MoeScratch& s,
                     ThreadPool* pool) {
  const MoeRecipe& m = r.moe;
  const int E = r.n_embd, K = m.n_used, F = m.n_ff_exp, FS = m.n_ff_shared;
  // The input prepared once per distinct weight type of the gate / up matrices (routed and shared experts).
  uint8_t* xp = aligned(s.xprep);
  DType types[4];
  const uint8_t* preps[4];
  int n_types = 0;
  auto prepared = [&](DType t) -> const uint8_t* {
    for (int i = 0; i < n_types; ++i)
      if (types[i] == t) return preps[i];
    CJ_ASSERT(n_types < 4 && matvec_prep_bytes(t, E) <= s.xprep_stride);
    uint8_t* buf = xp + size_t(n_types) * s.xprep_stride;
    matvec_prepare(t, xn, E, buf);
    types[n_types] = t;
    preps[n_types++] = buf;
    return buf;
  };
  prepared(L.gate_exps.type);
  prepared(L.up_exps.type);
  if (FS > 0) {
    prepared(L.gate_shexp.type);
    prepared(L.up_shexp.type);
  }
  size_t bytes = 0;
  for (int k = 0; k < K; ++k) {
    const int e = s.sel[size_t(k)];
    bytes += L.gate_exps.mat(e).mat_bytes() + L.up_exps.mat(e).mat_bytes() + L.down_exps.mat(e).mat_bytes();
  }
  if (FS > 0) bytes += L.gate_shexp.mat_bytes() + L.up_shexp.mat_bytes() + L.down_shexp.mat_bytes();
  uint8_t* hp = aligned(s.hprep);
  // Task k < K: expert sel[k] into s.down row k; task K: the shared experts into s.sh_down. Largest first.
  auto expert = [&](const WeightView& g, const WeightView& u, const WeightView& d, int ff, float* gate, float* up,
                    uint8_t* hbuf, float* out) {
    CJ_ASSERT(matvec_prep_bytes(d.type, ff) <= s.hprep_stride);
    matvec_rows(g.type, g.data, ff, E, prepared(g.type), gate);  // found: prepared above, no writes in the tasks
    matvec_rows(u.type, u.data, ff, E, prepared(u.type), up);
    silu_mul(gate, up, size_t(ff));
    matvec_prepare(d.type, gate, ff, hbuf);
    matvec_rows(d.type, d.data, E, ff, hbuf, out);
  };
  const bool shared_first = FS > F;
  const int n_tasks = K + (FS > 0 ? 1 : 0);
  pool->parallel_for(n_tasks, [&](int t) {
    const bool sh = FS > 0 && (shared_first ? t == 0 : t == K);
    if (sh) {
      expert(L.gate_shexp, L.up_shexp, L.down_shexp, FS, s.sh_gate.data(), s.sh_up.data(),
             hp + size_t(K) * s.hprep_stride, s.sh_down.data());
      return;
    }
    const int k = shared_first && FS > 0 ? t - 1 : t;
    const int e = s.sel[size_t(k)];
    expert(L.gate_exps.mat(e), L.up_exps.mat(e), L.down_exps.mat(e), F, s.gate.data() + size_t(k) * F,
           s.up.data() + size_t(k) * F, hp + size_t(k) * s.hprep_stride, s.down.data() + size_t(k) * E);
  });
  for (int k = 0; k < K; ++k) s.where[size_t(k)] = k;
  combine(r, 1, x, s);
  return bytes;
}

// A decode step of a few sequences (rows grouped by expert in s.offset / s.rows / s.where): ONE dispatch whose tasks
// are the active experts, each running gate and up on its rows, silu, down (matmul_grouped on the calling thread,
// the kernels and prepared inputs of the grouped path), the shared experts one more task. Returns the bytes read.
size_t moe_few_rows(const LayerWeights& L, const Recipe& r, const float* xn, int n, float* x, MoeScratch& s,
                    ThreadPool* pool) {
  const MoeRecipe& m = r.moe;
  const int E = r.n_embd, NE = m.n_expert, F = m.n_ff_exp, FS = m.n_ff_shared;
  int n_active = 0;
  size_t bytes = 0;
  for (int e = 0; e < NE; ++e) {
    if (s.offset[size_t(e) + 1] == s.offset[size_t(e)]) continue;
    s.active[size_t(n_active++)] = e;
    bytes += L.gate_exps.mat(e).mat_bytes() + L.up_exps.mat(e).mat_bytes() + L.down_exps.mat(e).mat_bytes();
  }
  // Experts with the most rows first (the dynamic hand-out ends with the cheap ones).
  auto rows_of = [&](int e) { return s.offset[size_t(e) + 1] - s.offset[size_t(e)]; };
  for (int a = 1; a < n_active; ++a)
    for (int b = a; b > 0 && rows_of(s.active[size_t(b)]) > rows_of(s.active[size_t(b - 1)]); --b)
      std::swap(s.active[size_t(b)], s.active[size_t(b - 1)]);
  if (FS > 0) bytes += L.gate_shexp.mat_bytes() + L.up_shexp.mat_bytes() + L.down_shexp.mat_bytes();
  const int sh = FS > 0 ? 1 : 0;  // task 0: the shared experts (on every row, the widest)
  pool->parallel_for(n_active + sh, [&](int t) {
    if (t < sh) {
      GemmJob gu[2] = {gemm_job(L.gate_shexp, xn, size_t(E), nullptr, n, s.sh_gate.data(), size_t(FS)),
                       gemm_job(L.up_shexp, xn, size_t(E), nullptr, n, s.sh_up.data(), size_t(FS))};
      matmul_grouped(gu, 2, nullptr);
      for (int i = 0; i < n; ++i)
        silu_mul(s.sh_gate.data() + size_t(i) * FS, s.sh_up.data() + size_t(i) * FS, size_t(FS));
      GemmJob d = gemm_job(L.down_shexp, s.sh_gate.data(), size_t(FS), nullptr, n, s.sh_down.data(), size_t(E));
      matmul_grouped(&d, 1, nullptr);
      return;
    }
    const int e = s.active[size_t(t - sh)];
    const int off = s.offset[size_t(e)], cnt = s.offset[size_t(e) + 1] - off;
    const int32_t* idx = s.rows.data() + off;
    float* g = s.gate.data() + size_t(off) * F;
    GemmJob gu[2] = {gemm_job(L.gate_exps.mat(e), xn, size_t(E), idx, cnt, g, size_t(F)),
                     gemm_job(L.up_exps.mat(e), xn, size_t(E), idx, cnt, s.up.data() + size_t(off) * F, size_t(F))};
    matmul_grouped(gu, 2, nullptr);
    for (int i = 0; i < cnt; ++i) silu_mul(g + size_t(i) * F, s.up.data() + size_t(off + i) * F, size_t(F));
    GemmJob d = gemm_job(L.down_exps.mat(e), g, size_t(F), nullptr, cnt, s.down.data() + size_t(off) * E, size_t(E));
    matmul_grouped(&d, 1, nullptr);
  });
  combine(r, n, x, s);
  return bytes;
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
  // A few rows: on the caller (the f32 router of one token is a few hundred KB, less than a pool dispatch costs on a
  // busy machine).
  matmul_grouped(&rj, 1, n > kInlineRows ? pool : nullptr);
  const float* bias = L.probs_bias.present() ? static_cast<const float*>(L.probs_bias.data) : nullptr;
  for_rows(pool, n, [&](int i) {
    moe_route(m, s.logits.data() + size_t(i) * NE, bias, s.sel.data() + size_t(i) * K, s.wts.data() + size_t(i) * K);
  });
  if (n == 1 && pool) return bytes + moe_one_token(L, r, xn, x, s, pool);
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
  if (pool && n <= kInlineRows) return bytes + moe_few_rows(L, r, xn, n, x, s, pool);
  // 3. gate and up of every active expert on its rows (and the shared experts on all rows): one dispatch.
  int nj = 0;
  auto job = [&](const WeightView& w, const float* X, size_t ldx, const int32_t* idx, int rows_in, float* Y,
                 size_t ldy) {
    s.jobs[size_t(nj++)] = gemm_job(w, X, ldx, idx, rows_in, Y, ldy);
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
  combine(r, n, x, s, pool);
  return bytes;
}

}  // namespace cj
