// The CPU backend: the reference executor of the forward recipe (engine/model/recipe.h) for a batch of tokens of
// several sequences. Rows of the batch go through matmul together (the weights are read once for all sequences);
// a single token goes through matvec (fused q/k/v and gate/up dispatches). All scratch is allocated when the
// backend is made.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu/forward_attention.h"
#include "engine/cpu/forward_mla.h"
#include "engine/cpu/forward_moe.h"
#include "engine/cpu/forward_ops.h"
#include "engine/cpu/quant.h"
#include "engine/model/rope.h"
#include "engine/cpu/thread_pool.h"

namespace cj {

namespace {

const bool kFuse = std::getenv("CJ_NO_FUSE") == nullptr;  // A/B switch for measurements
const bool kProfile = std::getenv("CJ_PROFILE") != nullptr;

// CJ_PROFILE=1: wall time and the calling thread's CPU time of each stage of the single-token (decode) forward
// pass, summed over the backend's life and printed to stderr when it is destroyed. Off: one predictable branch
// per stage.
enum Stage { kEmbd, kNorm, kQkv, kRope, kAttn, kWo, kGateUp, kSilu, kDown, kOut, kStages };
constexpr const char* kStageNames[kStages] = {"embd+rope_tab", "rmsnorm", "qkv",      "bias+rope+store", "attention",
                                              "wo+residual",   "gate_up", "silu_mul", "down+residual",   "output"};
struct Profile {
  using Clock = std::chrono::steady_clock;
  double sec[kStages] = {}, cpu[kStages] = {};  // wall time; CPU time of the calling thread
  int64_t tokens = 0;
  Clock::time_point t;
  double c = 0;
  bool on = false;
  static double thread_cpu() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
  void start(bool decode) {
    on = kProfile && decode;
    if (on) {
      t = Clock::now();
      c = thread_cpu();
    }
  }
  void lap(Stage s) {
    if (!on) return;
    const auto now = Clock::now();
    const double cn = thread_cpu();
    sec[s] += std::chrono::duration<double>(now - t).count();
    cpu[s] += cn - c;
    t = now;
    c = cn;
  }
  void print() const {
    if (tokens == 0) return;
    double total = 0, total_cpu = 0;
    for (int i = 0; i < kStages; ++i) {
      total += sec[i];
      total_cpu += cpu[i];
    }
    std::fprintf(stderr, "CJ_PROFILE: %lld decode tokens, %.3f ms/token wall, %.3f ms/token CPU of the caller\n",
                 static_cast<long long>(tokens), 1e3 * total / double(tokens), 1e3 * total_cpu / double(tokens));
    for (int i = 0; i < kStages; ++i)
      std::fprintf(stderr, "  %-16s %8.3f ms/token %5.1f%%  cpu %8.3f ms/token\n", kStageNames[i],
                   1e3 * sec[i] / double(tokens), total > 0 ? 100 * sec[i] / total : 0.0,
                   1e3 * cpu[i] / double(tokens));
  }
};

class CpuBackend final : public Backend {
 public:
  CpuBackend(const Model& m, const Recipe& r, const KVLayout& kvl, const BackendOptions& o)
      : m_(m), R_(r), o_(o) {
    if (o_.n_threads > 1) pool_ = std::make_unique<ThreadPool>(o_.n_threads);
    const int B = o_.n_batch;
    x_.assign(size_t(B) * R_.n_embd, 0);
    xn_.assign(size_t(B) * std::max({R_.n_embd, R_.attn_out_dim(), R_.attn_proj_dim()}), 0);
    q_.assign(size_t(B) * R_.q_dim(), 0);
    k_.assign(size_t(B) * R_.kv_dim(), 0);
    v_.assign(size_t(B) * R_.v_dim(), 0);
    att_.assign(size_t(B) * std::max(R_.attn_out_dim(), R_.attn_proj_dim()), 0);
    gate_.assign(size_t(B) * R_.n_ff, 0);
    up_.assign(size_t(B) * R_.n_ff, 0);
    tmp_.assign(size_t(B) * R_.n_embd, 0);
    cos_.assign(size_t(B) * (R_.rope.n_dims() / 2), 0);
    sin_.assign(size_t(B) * (R_.rope.n_dims() / 2), 0);
    groups_.resize(size_t(B));
    logit_rows_.resize(size_t(B));
    logit_scratch_.assign(size_t(kLogitBlock) * R_.n_vocab, 0);
    ascratch_.reserve(R_.n_heads, R_.n_kv_heads, R_.head_dim_v, kvl.k_head_bytes + kvl.v_head_bytes,
                      std::max(1, o_.max_sequences));
    // The fused decode matrices all take n_embd inputs; f32 (4 bytes per value) is the largest prepared form.
    prep_stride_ = (size_t(R_.n_embd) * 4 + 63) / 64 * 64;
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K})
      if (R_.n_embd % dtype_traits(t).block_elems == 0)
        prep_stride_ = std::max(prep_stride_, matvec_prep_bytes(t, R_.n_embd));
    prep_.resize(prep_stride_ * kMaxFused + 64);
    moe_.reserve(R_, B);
    mla_.reserve(R_, B, o_.n_threads, std::max(1, o_.max_sequences), kvl.k_head_bytes + kvl.v_head_bytes);
  }

  ~CpuBackend() override { prof_.print(); }

  const char* name() const override { return "cpu"; }
  int n_batch() const override { return o_.n_batch; }

  Status forward(const Batch& b) override {
    const int n = b.n_tokens;
    if (n <= 0 || n > o_.n_batch) return make_error("forward: the batch holds " + std::to_string(n) + " tokens");
    // Attention groups: runs of one sequence at consecutive positions.
    int n_groups = 0;
    for (int i = 0; i < n; ++i) {
      if (i > 0 && b.seq[i] == b.seq[i - 1] && b.pos[i] == b.pos[i - 1] + 1) {
        ++groups_[size_t(n_groups - 1)].n_q;
        continue;
      }
      AttentionGroup& g = groups_[size_t(n_groups++)];
      g.kv = b.kv[b.seq[i]];
      g.pos0 = b.pos[i];
      g.n_q = 1;
      g.row0 = i;
    }
    if (n_groups > std::max(1, o_.max_sequences) && n_groups > 1) {
      // More runs than the attention scratch was sized for (a sequence split in two runs, or too many sequences).
      return make_error("forward: " + std::to_string(n_groups) + " sequence runs in one batch exceed " +
                        std::to_string(o_.max_sequences));
    }
    prof_.start(n == 1);
    forward_layers(b, n, n_groups);
    logits(b, n);
    prof_.lap(kOut);
    if (prof_.on) ++prof_.tokens;
    return {};
  }

 private:
  static const float* w32(const WeightView& w) { return static_cast<const float*>(w.data); }
  static constexpr int kLogitBlock = 16;  // rows of logits computed together when their outputs are scattered

  void linear(const WeightView& w, const float* x, int n, float* y) {
    if (n == 1) matvec(w.type, w.data, w.rows, w.cols, x, y, pool_.get());
    else matmul(w.type, w.data, w.rows, w.cols, x, n, y, pool_.get());
  }

  // The logits of the rows that want them: runs of rows whose outputs are adjacent go straight into the caller's
  // memory in one product (one sequence's prefill, or a decode batch the scheduler laid out contiguously); the rest
  // in blocks of kLogitBlock rows through scratch, so the output matrix is read once per block, not once per row.
  void logits(const Batch& b, int n) {
    const int E = R_.n_embd, V = R_.n_vocab;
    int nr = 0;
    for (int i = 0; i < n; ++i)
      if (b.logits[i]) logit_rows_[size_t(nr++)] = i;
    if (nr == 0) return;
    bool adjacent = true;
    for (int j = 1; j < nr; ++j) adjacent = adjacent && b.logits[logit_rows_[size_t(j)]] ==
                                                            b.logits[logit_rows_[size_t(j - 1)]] + V;
    for (int j0 = 0; j0 < nr; j0 += adjacent ? nr : kLogitBlock) {
      const int cnt = adjacent ? nr : std::min(kLogitBlock, nr - j0);
      for (int j = 0; j < cnt; ++j) {
        const int r = logit_rows_[size_t(j0 + j)];
        rmsnorm(x_.data() + size_t(r) * E, w32(m_.output_norm), xn_.data() + size_t(j) * E, E, R_.rms_eps);
      }
      float* out = adjacent ? b.logits[logit_rows_[0]] : logit_scratch_.data();
      linear(m_.output, xn_.data(), cnt, out);
      if (!adjacent)
        for (int j = 0; j < cnt; ++j)
          std::memcpy(b.logits[logit_rows_[size_t(j0 + j)]], out + size_t(j) * V, size_t(V) * 4);
    }
  }

  // Several matrices applied to the same input vector (q/k/v, gate/up) in one dispatch of the pool: the input is
  // prepared (quantized) once per distinct weight type, then the rows of all the matrices are cut into equal-byte
  // slices, each slice a single-threaded matvec. One fork/join instead of one per matrix.
  struct Out {
    const WeightView* w;
    float* y;
  };
  static constexpr int kMaxFused = 3;
  void fused_matvec(std::initializer_list<Out> outs, const float* x) {
    if (!pool_) {
      for (const Out& o : outs) matvec(o.w->type, o.w->data, o.w->rows, o.w->cols, x, o.y, nullptr);
      return;
    }
    const Out* list = outs.begin();
    const int n_out = int(outs.size());
    CJ_ASSERT(n_out <= kMaxFused);
    const void* prepared[kMaxFused];
    size_t total = 0;
    for (int i = 0; i < n_out; ++i) {
      const WeightView& w = *list[i].w;
      total += w.bytes();
      prepared[i] = nullptr;
      for (int j = 0; j < i; ++j)
        if (list[j].w->type == w.type && list[j].w->cols == w.cols) prepared[i] = prepared[j];
      if (!prepared[i]) {
        CJ_ASSERT(matvec_prep_bytes(w.type, w.cols) <= prep_stride_);
        auto* buf = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(prep_.data()) + 63) / 64 * 64) +
                    size_t(i) * prep_stride_;
        matvec_prepare(w.type, x, w.cols, buf);
        prepared[i] = buf;
      }
    }
    const int n_tasks = o_.n_threads * 4;
    pool_->parallel_for(n_tasks, [&](int t) {
      // Byte range of this task over the concatenated matrices, rounded to whole rows of each matrix.
      const size_t b0 = total * size_t(t) / size_t(n_tasks), b1 = total * size_t(t + 1) / size_t(n_tasks);
      size_t base = 0;
      for (int i = 0; i < n_out; ++i) {
        const WeightView& w = *list[i].w;
        const size_t rb = row_bytes(w.type, w.cols), wb = w.bytes();
        const size_t lo = std::max(b0, base), hi = std::min(b1, base + wb);
        if (lo < hi) {
          const int64_t r0 = int64_t((lo - base + rb - 1) / rb), r1 = int64_t((hi - base + rb - 1) / rb);
          if (r1 > r0) matvec_rows(w.type, w.row(r0), r1 - r0, w.cols, prepared[i], list[i].y + r0);
        }
        base += wb;
      }
    });
  }

  // The same for n > 1 input rows (a decode step of several sequences, a prefill chunk): one matmul_grouped, so the
  // rows are prepared once per type and all the matrices' rows share one dispatch of the pool.
  void fused_matmul(std::initializer_list<Out> outs, const float* x, int n) {
    GemmJob jobs[kMaxFused];
    int j = 0;
    for (const Out& o : outs) {
      CJ_ASSERT(j < kMaxFused);
      const WeightView& w = *o.w;
      jobs[j++] = GemmJob{w.type, w.data, w.rows, w.cols, x, size_t(w.cols), nullptr, n, o.y, size_t(w.rows)};
    }
    matmul_grouped(jobs, j, pool_.get());
  }

  // Runs the n tokens of the batch through all layers; leaves the final hidden states in x_ and K/V in the
  // sequences' slots.
  void forward_layers(const Batch& b, int n, int n_groups) {
    const int E = R_.n_embd;
    for (int i = 0; i < n; ++i) {
      float* xi = x_.data() + size_t(i) * E;
      if (m_.token_embd.type == DType::F32) std::memcpy(xi, m_.token_embd.row(b.token[i]), size_t(E) * 4);
      else dequantize_row(m_.token_embd.type, m_.token_embd.row(b.token[i]), xi, E);
    }
    const int half = R_.rope.n_dims() / 2;
    rows(n, [&](int i) { R_.rope.cos_sin(b.pos[i], cos_.data() + size_t(i) * half, sin_.data() + size_t(i) * half); });
    prof_.lap(kEmbd);

    for (int l = 0; l < R_.n_layers; ++l) {
      const LayerWeights& L = m_.layers[l];
      rows(n, [&](int i) {
        rmsnorm(x_.data() + size_t(i) * E, w32(L.attn_norm), xn_.data() + size_t(i) * E, E, R_.rms_eps);
      });
      prof_.lap(kNorm);
      if (R_.attn == AttnKind::Mla) {
        // q_ ([B, H * (kv_lora + qk_rope)]) holds the absorbed queries.
        mla_attention_block(L, R_, l, b, xn_.data(), n, groups_.data(), n_groups, cos_.data(), sin_.data(), q_.data(),
                            att_.data(), mla_, pool_.get(), o_.n_threads);
        prof_.lap(kAttn);
      } else {
        gqa_attention(L, b, l, n, n_groups);
      }
      linear(L.wo, att_.data(), n, tmp_.data());
      add(x_.data(), tmp_.data(), size_t(n) * E);
      prof_.lap(kWo);
      ffn(L, l, n);
    }
  }

  // q/k/v, their biases, norms and RoPE, the K/V store and grouped-query attention of one layer: att_ = attention
  // output [n, attn_out_dim].
  void gqa_attention(const LayerWeights& L, const Batch& b, int l, int n, int n_groups) {
    const int half = R_.rope.n_dims() / 2;
    {
      if (n == 1 && kFuse) {
        fused_matvec({{&L.wq, q_.data()}, {&L.wk, k_.data()}, {&L.wv, v_.data()}}, xn_.data());
      } else if (kFuse) {
        fused_matmul({{&L.wq, q_.data()}, {&L.wk, k_.data()}, {&L.wv, v_.data()}}, xn_.data(), n);
      } else {
        linear(L.wq, xn_.data(), n, q_.data());
        linear(L.wk, xn_.data(), n, k_.data());
        linear(L.wv, xn_.data(), n, v_.data());
      }
      prof_.lap(kQkv);
      rows(n, [&](int i) {
        float* q = q_.data() + size_t(i) * R_.q_dim();
        float* k = k_.data() + size_t(i) * R_.kv_dim();
        float* v = v_.data() + size_t(i) * R_.v_dim();
        if (R_.q_bias && L.bq.present()) add(q, w32(L.bq), R_.q_dim());
        if (R_.k_bias && L.bk.present()) add(k, w32(L.bk), R_.kv_dim());
        if (R_.v_bias && L.bv.present()) add(v, w32(L.bv), R_.v_dim());
        if (R_.qk_norm) {
          for (int h = 0; h < R_.n_heads; ++h)
            rmsnorm(q + h * R_.head_dim, w32(L.q_norm), q + h * R_.head_dim, R_.head_dim, R_.rms_eps);
          for (int h = 0; h < R_.n_kv_heads; ++h)
            rmsnorm(k + h * R_.head_dim, w32(L.k_norm), k + h * R_.head_dim, R_.head_dim, R_.rms_eps);
        }
        R_.rope.apply(q, R_.n_heads, R_.head_dim, cos_.data() + size_t(i) * half, sin_.data() + size_t(i) * half);
        R_.rope.apply(k, R_.n_kv_heads, R_.head_dim, cos_.data() + size_t(i) * half, sin_.data() + size_t(i) * half);
        b.kv[b.seq[i]]->store(l, b.pos[i], k, v);  // through the slot the engine prepared
      });
      prof_.lap(kRope);
      AttentionArgs a;
      a.layer = l;
      a.n_heads = R_.n_heads;
      a.n_kv_heads = R_.n_kv_heads;
      a.head_dim = R_.head_dim;
      a.head_dim_v = R_.head_dim_v;
      a.scale = R_.attn_scale;
      a.groups = groups_.data();
      a.n_groups = n_groups;
      a.q = q_.data();
      a.out = att_.data();
      a.select = o_.kv_select.enabled() ? &o_.kv_select : nullptr;
      attention(a, ascratch_, pool_.get(), o_.n_threads);
      prof_.lap(kAttn);
    }
  }

  // The feed-forward block of layer l (x_ += FFN(rmsnorm(x_))): dense SwiGLU or the mixture of experts.
  void ffn(const LayerWeights& L, int l, int n) {
    const int E = R_.n_embd;
    {
      rows(n, [&](int i) {
        rmsnorm(x_.data() + size_t(i) * E, w32(L.ffn_norm), xn_.data() + size_t(i) * E, E, R_.rms_eps);
      });
      prof_.lap(kNorm);
      if (R_.ffn[size_t(l)] == FfnKind::Moe) {
        moe_ffn(L, R_, xn_.data(), n, x_.data(), moe_, pool_.get());
        prof_.lap(kDown);
        return;
      }
      if (n == 1 && kFuse) {
        fused_matvec({{&L.w_gate, gate_.data()}, {&L.w_up, up_.data()}}, xn_.data());
      } else if (kFuse) {
        fused_matmul({{&L.w_gate, gate_.data()}, {&L.w_up, up_.data()}}, xn_.data(), n);
      } else {
        linear(L.w_gate, xn_.data(), n, gate_.data());
        linear(L.w_up, xn_.data(), n, up_.data());
      }
      prof_.lap(kGateUp);
      rows(n, [&](int i) {
        silu_mul(gate_.data() + size_t(i) * R_.n_ff, up_.data() + size_t(i) * R_.n_ff, size_t(R_.n_ff));
      });
      prof_.lap(kSilu);
      linear(L.w_down, gate_.data(), n, tmp_.data());
      add(x_.data(), tmp_.data(), size_t(n) * E);
      prof_.lap(kDown);
    }
  }

  // f(i) for each of n rows: on the pool in prefill, inline for a few rows (one token, or a decode step of a few
  // sequences: a fork/join costs more than the work, and much more on a busy machine).
  template <typename F>
  void rows(int n, F&& f) {
    if (pool_ && n > 16) {
      const int tasks = std::min(n, o_.n_threads * 4);
      pool_->parallel_for(tasks, [&](int t) {
        for (int i = t; i < n; i += tasks) f(i);
      });
    } else {
      for (int i = 0; i < n; ++i) f(i);
    }
  }

  static void add(float* y, const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i) y[i] += x[i];
  }

  const Model& m_;
  const Recipe R_;
  BackendOptions o_;
  std::unique_ptr<ThreadPool> pool_;
  AttentionScratch ascratch_;
  MoeScratch moe_;  // the mixture-of-experts blocks' routing and expert products
  MlaScratch mla_;  // latent attention (deepseek2)
  Profile prof_;
  // Scratch, B = n_batch rows:
  std::vector<float> x_;     // [B, n_embd] residual stream
  std::vector<float> xn_;    // [B, max(n_embd, attn_out_dim)] normalized input of a matmul
  std::vector<float> q_;     // [B, q_dim]
  std::vector<float> k_;     // [B, kv_dim]
  std::vector<float> v_;     // [B, v_dim]
  std::vector<float> att_;   // [B, attn_out_dim]
  std::vector<float> gate_;  // [B, n_ff] (becomes silu(gate) * up)
  std::vector<float> up_;    // [B, n_ff]
  std::vector<float> tmp_;   // [B, n_embd] matmul output before the residual add
  std::vector<float> cos_, sin_;  // [B, n_dims / 2]
  std::vector<AttentionGroup> groups_;  // [B] runs of one sequence in the batch
  std::vector<int> logit_rows_;         // [B] rows that want logits
  std::vector<float> logit_scratch_;    // [kLogitBlock, n_vocab] logits of scattered rows
  std::vector<uint8_t> prep_;     // [kMaxFused, prep_stride_] (+ 64 to align) a fused matvec's input, prepared per type
  size_t prep_stride_ = 0;
};

}  // namespace

Result<std::unique_ptr<Backend>> make_cpu_backend(const Model& m, const Recipe& r, const KVLayout& kv,
                                                  const BackendOptions& o) {
  if (o.n_threads < 1 || o.n_threads > 256) return make_error("threads must be between 1 and 256");
  if (o.n_batch < 1) return make_error("the batch size must be positive");
  if (o.max_sequences < 1) return make_error("the number of sequences must be positive");
  return std::unique_ptr<Backend>(new CpuBackend(m, r, kv, o));
}

}  // namespace cj
