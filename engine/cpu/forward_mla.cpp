#include "engine/cpu/forward_mla.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/base/result.h"
#include "engine/cpu/cpu_features.h"
#include "engine/cpu/forward_ops.h"
#include "engine/cpu/gemm_job.h"
#include "engine/cpu/thread_pool.h"
#include "engine/kv/attn_state.h"

namespace cj {

void MlaScratch::reserve(const Recipe& r, int B, int n_threads, int max_sequences, size_t stage_b) {
  if (r.attn != AttnKind::Mla) return;
  const MlaRecipe& m = r.mla;
  const int H = r.n_heads, R = m.kv_lora_rank, Dk = m.row();
  if (m.q_lora_rank > 0) qa.assign(size_t(B) * m.q_lora_rank, 0);
  qf.assign(size_t(B) * H * m.dq(), 0);
  kvr.assign(size_t(B) * Dk, 0);
  lat.assign(size_t(B) * H * R, 0);
  jobs.assign(size_t(H) + 2, GemmJob{});
  n_tasks = std::min(64, 4 * std::max(1, n_threads));
  per_task = size_t(kSubKeys) * Dk + size_t(kTileQ) * H * (kSubKeys + 2 + R);
  per_task = (per_task + 15) / 16 * 16;
  task_buf.assign(per_task * size_t(n_tasks), 0.0f);
  stage_bytes = (stage_b + 63) / 64 * 64;
  stage.assign(stage_bytes * size_t(n_tasks), 0);
  max_partials = std::max(kMaxSplits, std::max(1, max_sequences));
  partial.assign(size_t(max_partials) * H * attn::state_floats(R), 0.0f);
}

namespace {

__attribute__((target("avx2,f16c"))) void f16_rows_avx2(const uint16_t* src, float* dst, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

// AVX2 + FMA + F16C, detected in one place (clang's __builtin_cpu_supports does not know "f16c").
bool have_f16c() { return cpu_features().avx2; }

// nk cached rows (Dk values each, `stride` bytes apart) into f32 [nk, Dk].
void rows_to_f32(KVType t, const uint8_t* src, size_t stride, int nk, int Dk, float* dst) {
  for (int i = 0; i < nk; ++i, src += stride, dst += Dk) {
    if (t == KVType::F16 && have_f16c()) f16_rows_avx2(reinterpret_cast<const uint16_t*>(src), dst, Dk);
    else kv_decode_row(t, src, Dk, dst);
  }
}

struct MlaAttn {
  int layer, H, Dk, Dv;
  float scale;
  const AttentionGroup* groups;
  int n_groups;
  const float* q;  // [rows, H * Dk]
  float* out;      // [rows, H * Dv]
};

struct TaskState {
  float* rows;    // [kSubKeys, Dk]
  float* scores;  // [nq * H, kSubKeys]
  float* m;       // [nq * H]
  float* l;       // [nq * H]
  float* acc;     // [nq * H, Dv]
  TaskState(float* st, int Dk, int H) {
    constexpr int KB = MlaScratch::kSubKeys, TQ = MlaScratch::kTileQ;
    rows = st;
    scores = rows + size_t(KB) * Dk;
    m = scores + size_t(TQ) * H * KB;
    l = m + size_t(TQ) * H;
    acc = l + size_t(TQ) * H;
  }
};

// Queries [q0, q0 + nq) of run grp (every head) against key positions [k0, k1), causal.
void attend(const MlaAttn& a, const AttentionGroup& grp, int q0, int nq, int k0, int k1, const TaskState& ts,
            uint8_t* stage) {
  constexpr int KB = MlaScratch::kSubKeys;
  constexpr int BT = KVCache::kBlockTokens;
  const KVCache& kv = *grp.kv;
  const KVType type = kv.type();
  const size_t krb = kv.layout().k_row_bytes;
  const int H = a.H, Dk = a.Dk, Dv = a.Dv;
  const int np = nq * H;
  for (int i = 0; i < np; ++i) {
    ts.m[i] = -std::numeric_limits<float>::infinity();
    ts.l[i] = 0;
  }
  std::fill(ts.acc, ts.acc + size_t(np) * Dv, 0.0f);
  const int last_of_tile = grp.pos0 + q0 + nq - 1;
  k1 = std::min(k1, last_of_tile + 1);
  const uint8_t* block = nullptr;
  int block_id = -1;
  for (int t0 = k0; t0 < k1; t0 += KB) {
    const int b = t0 / BT;
    if (b != block_id) {
      block = kv.k_head(a.layer, b, 0, stage);  // host page in place, or the disk page staged
      block_id = b;
    }
    const int nk_all = std::min(KB, k1 - t0);
    rows_to_f32(type, block + size_t(t0 % BT) * krb, krb, nk_all, Dk, ts.rows);
    for (int qi = 0; qi < nq; ++qi) {
      const int last = grp.pos0 + q0 + qi;
      const int nk = std::min(nk_all, last - t0 + 1);
      if (nk <= 0) continue;
      const float* qrow = a.q + size_t(grp.row0 + q0 + qi) * H * Dk;
      for (int h = 0; h < H; ++h) {
        const int pi = qi * H + h;
        const float* qh = qrow + size_t(h) * Dk;
        float* sc = ts.scores + size_t(pi) * KB;
        float bm = -std::numeric_limits<float>::infinity();
        for (int t = 0; t < nk; ++t) {
          sc[t] = dot_f32(qh, ts.rows + size_t(t) * Dk, Dk) * a.scale;
          bm = std::max(bm, sc[t]);
        }
        const float nm = std::max(ts.m[pi], bm);
        const float corr = std::exp(ts.m[pi] - nm);
        float* acc = ts.acc + size_t(pi) * Dv;
        if (corr != 1.0f) {
          ts.l[pi] *= corr;
          for (int i = 0; i < Dv; ++i) acc[i] *= corr;
        }
        float sum = 0;
        for (int t = 0; t < nk; ++t) {
          sc[t] = std::exp(sc[t] - nm);
          sum += sc[t];
          axpy_f32(acc, sc[t], ts.rows + size_t(t) * Dk, Dv);  // the value: the row's first Dv (latent) values
        }
        ts.l[pi] += sum;
        ts.m[pi] = nm;
      }
    }
  }
}

template <typename F>
void run_tasks(ThreadPool* pool, int n, F&& f) {
  if (pool && n > 1) pool->parallel_for(n, f);
  else
    for (int i = 0; i < n; ++i) f(i);
}

// Prefill runs: items (run, tile of kTileQ queries), latest tiles first. Decode steps: items (step, key split),
// the splits' states merged by log-sum-exp (attn_state.h).
void mla_attend(const MlaAttn& a, MlaScratch& s, ThreadPool* pool, int n_threads) {
  constexpr int TQ = MlaScratch::kTileQ, KB = MlaScratch::kSubKeys;
  const int H = a.H, Dv = a.Dv, SF = attn::state_floats(Dv);
  int n_decode = 0, n_prefill_items = 0, max_sub = 1;
  for (int i = 0; i < a.n_groups; ++i) {
    const AttentionGroup& g = a.groups[i];
    if (g.n_q == 1) {
      ++n_decode;
      max_sub = std::max(max_sub, (g.pos0 + 1 + KB - 1) / KB);
    } else {
      n_prefill_items += (g.n_q + TQ - 1) / TQ;
    }
  }
  int splits = 1;
  if (n_decode > 0) {
    splits = std::max(1, (2 * n_threads + n_decode - 1) / n_decode);
    splits = std::min({splits, max_sub, MlaScratch::kMaxSplits, std::max(1, s.max_partials / n_decode)});
  }
  CJ_ASSERT(n_decode * splits <= s.max_partials);
  const int n_items = n_prefill_items + n_decode * splits;
  auto run_item = [&](int item, int task) {
    TaskState ts(s.task_buf.data() + size_t(task) * s.per_task, a.Dk, H);
    uint8_t* stage = s.stage.data() + size_t(task) * s.stage_bytes;
    if (item < n_prefill_items) {
      for (int gi = 0; gi < a.n_groups; ++gi) {
        const AttentionGroup& grp = a.groups[gi];
        if (grp.n_q == 1) continue;
        const int n_tiles = (grp.n_q + TQ - 1) / TQ;
        if (item >= n_tiles) {
          item -= n_tiles;
          continue;
        }
        const int q0 = (n_tiles - 1 - item) * TQ, nq = std::min(TQ, grp.n_q - q0);
        attend(a, grp, q0, nq, 0, grp.pos0 + q0 + nq, ts, stage);
        for (int qi = 0; qi < nq; ++qi)
          for (int h = 0; h < H; ++h) {
            const int pi = qi * H + h;
            float* o = a.out + size_t(grp.row0 + q0 + qi) * H * Dv + size_t(h) * Dv;
            const float inv = ts.l[pi] > 0 ? 1.0f / ts.l[pi] : 0.0f;
            for (int i = 0; i < Dv; ++i) o[i] = ts.acc[size_t(pi) * Dv + i] * inv;
          }
        return;
      }
      return;
    }
    const int d = item - n_prefill_items, di = d / splits, sp = d % splits;
    int seen = -1, gi = 0;
    for (; gi < a.n_groups; ++gi)
      if (a.groups[gi].n_q == 1 && ++seen == di) break;
    const AttentionGroup& grp = a.groups[gi];
    const int n_sub = (grp.pos0 + 1 + KB - 1) / KB, per = (n_sub + splits - 1) / splits;
    const int k0 = std::min(n_sub, sp * per) * KB, k1 = std::min(grp.pos0 + 1, std::min(n_sub, (sp + 1) * per) * KB);
    float* p = s.partial.data() + size_t(d) * H * SF;
    if (k0 >= k1) {
      for (int h = 0; h < H; ++h) attn::state_init(p + size_t(h) * SF, Dv);
      return;
    }
    attend(a, grp, 0, 1, k0, k1, ts, stage);
    for (int h = 0; h < H; ++h) {
      float* ph = p + size_t(h) * SF;
      ph[0] = ts.m[h];
      ph[1] = ts.l[h];
      std::copy(ts.acc + size_t(h) * Dv, ts.acc + size_t(h + 1) * Dv, ph + 2);
    }
  };
  const int T = std::min(n_items, s.n_tasks);
  run_tasks(pool, T, [&](int task) {
    for (int item = task; item < n_items; item += T) run_item(item, task);
  });
  if (n_decode == 0) return;
  int di = 0;
  for (int gi = 0; gi < a.n_groups; ++gi) {
    const AttentionGroup& grp = a.groups[gi];
    if (grp.n_q != 1) continue;
    for (int h = 0; h < H; ++h) {
      float* acc = s.partial.data() + (size_t(di * splits) * H + size_t(h)) * SF;
      for (int sp = 1; sp < splits; ++sp)
        attn::state_merge(acc, s.partial.data() + (size_t(di * splits + sp) * H + size_t(h)) * SF, Dv);
      attn::state_output(acc, a.out + size_t(grp.row0) * H * Dv + size_t(h) * Dv, Dv);
    }
    ++di;
  }
}

}  // namespace

size_t mla_attention_block(const LayerWeights& L, const Recipe& r, int layer, const Batch& b, const float* xn, int n,
                           const AttentionGroup* groups, int n_groups, const float* cos, const float* sin,
                           float* q_abs, float* out, MlaScratch& s, ThreadPool* pool, int n_threads) {
  const MlaRecipe& m = r.mla;
  const int E = r.n_embd, H = r.n_heads, R = m.kv_lora_rank, Dq = m.dq(), Dk = m.row(), NOPE = m.qk_nope;
  const int half = m.qk_rope / 2;
  size_t bytes = 0;
  int nj = 0;
  auto job = [&](const WeightView& w, const float* X, size_t ldx, int rows_in, float* Y, size_t ldy) {
    s.jobs[size_t(nj++)] = gemm_job(w, X, ldx, nullptr, rows_in, Y, ldy);
    bytes += w.mat_bytes();
  };
  // 1. q (or its low-rank first half) and the new rows, from the same input: one dispatch.
  const bool qlora = m.q_lora_rank > 0;
  if (qlora) job(L.wq_a, xn, size_t(E), n, s.qa.data(), size_t(m.q_lora_rank));
  else job(L.wq, xn, size_t(E), n, s.qf.data(), size_t(H) * Dq);
  job(L.wkv_a, xn, size_t(E), n, s.kvr.data(), size_t(Dk));
  matmul_grouped(s.jobs.data(), nj, pool);
  if (qlora) {
    for (int i = 0; i < n; ++i) {
      float* qa = s.qa.data() + size_t(i) * m.q_lora_rank;
      rmsnorm(qa, static_cast<const float*>(L.q_a_norm.data), qa, m.q_lora_rank, r.rms_eps);
    }
    nj = 0;
    job(L.wq_b, s.qa.data(), size_t(m.q_lora_rank), n, s.qf.data(), size_t(H) * Dq);
    matmul_grouped(s.jobs.data(), nj, pool);
  }
  // 2. Normalize the latent, rotate the RoPE parts, store each row in its slot.
  for (int i = 0; i < n; ++i) {
    float* row = s.kvr.data() + size_t(i) * Dk;
    rmsnorm(row, static_cast<const float*>(L.kv_a_norm.data), row, R, r.rms_eps);
    const float* c = cos + size_t(i) * half;
    const float* sn = sin + size_t(i) * half;
    r.rope.apply(row + R, 1, m.qk_rope, c, sn);
    r.rope.apply(s.qf.data() + size_t(i) * H * Dq + NOPE, H, Dq, c, sn);
    b.kv[b.seq[i]]->store(layer, b.pos[i], row, nullptr);
  }
  // 3. Absorb: q_abs[h] = [W_kb[h] q_nope[h], q_pe[h]] (one dispatch over the heads).
  nj = 0;
  for (int h = 0; h < H; ++h)
    job(L.wk_b.mat(h), s.qf.data() + size_t(h) * Dq, size_t(H) * Dq, n, q_abs + size_t(h) * Dk, size_t(H) * Dk);
  matmul_grouped(s.jobs.data(), nj, pool);
  for (int i = 0; i < n; ++i)
    for (int h = 0; h < H; ++h)
      std::memcpy(q_abs + (size_t(i) * H + h) * Dk + R, s.qf.data() + (size_t(i) * H + h) * Dq + NOPE,
                  size_t(m.qk_rope) * 4);
  // 4. Attention over the cached rows.
  MlaAttn a{layer, H, Dk, R, r.attn_scale, groups, n_groups, q_abs, s.lat.data()};
  mla_attend(a, s, pool, n_threads);
  // 5. Out of the latent space: out[h] = W_vb[h] lat[h].
  nj = 0;
  for (int h = 0; h < H; ++h)
    job(L.wv_b.mat(h), s.lat.data() + size_t(h) * R, size_t(H) * R, n, out + size_t(h) * m.v_head,
        size_t(H) * m.v_head);
  matmul_grouped(s.jobs.data(), nj, pool);
  return bytes;
}

}  // namespace cj
