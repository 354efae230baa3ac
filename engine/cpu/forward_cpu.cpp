// The CPU backend: the reference forward pass for llama / qwen2 / qwen3. Prefill runs a chunk of tokens through
// matmul; decode (one token) through matvec. All scratch is allocated when the backend is made.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "engine/backend.h"
#include "engine/forward_attention.h"
#include "engine/forward_ops.h"
#include "engine/quant.h"
#include "engine/rope.h"
#include "engine/thread_pool.h"

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
  CpuBackend(const Model& m, const BackendOptions& o, std::unique_ptr<KVCache> kv)
      : m_(m), c_(m.config()), o_(o), kv_(std::move(kv)), rope_(m.config().rope, m.rope_freqs.present() ? w32(m.rope_freqs) : nullptr) {
    if (o_.n_threads > 1) pool_ = std::make_unique<ThreadPool>(o_.n_threads);
    const int B = o_.n_batch;
    x_.assign(size_t(B) * c_.n_embd, 0);
    xn_.assign(size_t(B) * std::max(c_.n_embd, c_.attn_out_dim()), 0);
    q_.assign(size_t(B) * c_.q_dim(), 0);
    k_.assign(size_t(B) * c_.kv_dim(), 0);
    v_.assign(size_t(B) * c_.v_dim(), 0);
    att_.assign(size_t(B) * c_.attn_out_dim(), 0);
    gate_.assign(size_t(B) * c_.n_ff, 0);
    up_.assign(size_t(B) * c_.n_ff, 0);
    tmp_.assign(size_t(B) * c_.n_embd, 0);
    cos_.assign(size_t(B) * (c_.rope.n_dims / 2), 0);
    sin_.assign(size_t(B) * (c_.rope.n_dims / 2), 0);
    ascratch_.reserve(c_.n_heads, c_.n_kv_heads, c_.head_dim_v, kv_->layout().k_head_bytes + kv_->layout().v_head_bytes);
    // The fused decode matrices all take n_embd inputs; f32 (4 bytes per value) is the largest prepared form.
    prep_stride_ = (size_t(c_.n_embd) * 4 + 63) / 64 * 64;
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K})
      if (c_.n_embd % dtype_traits(t).block_elems == 0)
        prep_stride_ = std::max(prep_stride_, matvec_prep_bytes(t, c_.n_embd));
    prep_.resize(prep_stride_ * kMaxFused + 64);
  }

  ~CpuBackend() override { prof_.print(); }

  const char* name() const override { return "cpu"; }
  const Model& model() const override { return m_; }
  int n_ctx() const override { return kv_->capacity(); }
  int n_past() const override { return kv_->n_tokens(); }
  void truncate(int n) override {
    CJ_ASSERT(n >= 0 && n <= kv_->n_tokens());
    kv_->truncate(n);
  }
  KVCache& kv_cache() override { return *kv_; }
  size_t kv_bytes_per_token() const override { return kv_->bytes_read_per_token(kv_->n_tokens()); }

  Status eval(const TokenId* tokens, int n, float* logits, int n_logits) override {
    if (n <= 0) return make_error("eval: no tokens");
    if (n_logits < 0 || n_logits > n) return make_error("eval: n_logits out of range");
    if (kv_->n_tokens() + n > kv_->capacity())
      return make_error("the context is full: " + std::to_string(kv_->n_tokens()) + " + " + std::to_string(n) +
                        " tokens exceed the context size " + std::to_string(kv_->capacity()) + " (raise --ctx)");
    for (int i = 0; i < n; ++i)
      if (tokens[i] < 0 || tokens[i] >= c_.n_vocab)
        return make_error("token id " + std::to_string(tokens[i]) + " is outside the vocabulary (" +
                          std::to_string(c_.n_vocab) + ")");
    const int first_logit = n - n_logits;
    prof_.start(n == 1);
    for (int b0 = 0; b0 < n; b0 += o_.n_batch) {
      const int nb = std::min(o_.n_batch, n - b0);
      const int pos0 = kv_->n_tokens();
      CJ_TRY(kv_->prepare(pos0, nb));
      forward_chunk(tokens + b0, nb);
      kv_->commit(pos0, tokens + b0, nb);
      if (kv_->pool().has_io_error()) return make_error(kv_->pool().io_error());
      // Logits of the rows of this chunk at or after first_logit.
      const int r0 = std::max(b0, first_logit);
      if (r0 < b0 + nb) {
        const int nr = b0 + nb - r0;
        const float* xs = x_.data() + size_t(r0 - b0) * c_.n_embd;
        for (int r = 0; r < nr; ++r)
          rmsnorm(xs + size_t(r) * c_.n_embd, w32(m_.output_norm), xn_.data() + size_t(r) * c_.n_embd, c_.n_embd,
                  c_.rms_eps);
        linear(m_.output, xn_.data(), nr, logits + size_t(r0 - first_logit) * c_.n_vocab);
      }
    }
    prof_.lap(kOut);
    if (prof_.on) ++prof_.tokens;
    return {};
  }

 private:
  static const float* w32(const WeightView& w) { return static_cast<const float*>(w.data); }

  void linear(const WeightView& w, const float* x, int n, float* y) {
    if (n == 1) matvec(w.type, w.data, w.rows, w.cols, x, y, pool_.get());
    else matmul(w.type, w.data, w.rows, w.cols, x, n, y, pool_.get());
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

  // Runs n (<= n_batch) tokens through all layers; leaves the final hidden states in x_ and K/V in the cache.
  void forward_chunk(const TokenId* tokens, int n) {
    const int E = c_.n_embd, pos0 = kv_->n_tokens();
    for (int i = 0; i < n; ++i) {
      float* xi = x_.data() + size_t(i) * E;
      if (m_.token_embd.type == DType::F32) std::memcpy(xi, m_.token_embd.row(tokens[i]), size_t(E) * 4);
      else dequantize_row(m_.token_embd.type, m_.token_embd.row(tokens[i]), xi, E);
    }
    const int half = c_.rope.n_dims / 2;
    rows(n, [&](int i) { rope_.cos_sin(pos0 + i, cos_.data() + size_t(i) * half, sin_.data() + size_t(i) * half); });
    prof_.lap(kEmbd);

    for (int l = 0; l < c_.n_layers; ++l) {
      const LayerWeights& L = m_.layers[l];
      rows(n, [&](int i) {
        rmsnorm(x_.data() + size_t(i) * E, w32(L.attn_norm), xn_.data() + size_t(i) * E, E, c_.rms_eps);
      });
      prof_.lap(kNorm);
      if (n == 1 && kFuse) {
        fused_matvec({{&L.wq, q_.data()}, {&L.wk, k_.data()}, {&L.wv, v_.data()}}, xn_.data());
      } else {
        linear(L.wq, xn_.data(), n, q_.data());
        linear(L.wk, xn_.data(), n, k_.data());
        linear(L.wv, xn_.data(), n, v_.data());
      }
      prof_.lap(kQkv);
      rows(n, [&](int i) {
        float* q = q_.data() + size_t(i) * c_.q_dim();
        float* k = k_.data() + size_t(i) * c_.kv_dim();
        float* v = v_.data() + size_t(i) * c_.v_dim();
        if (L.bq.present()) add(q, w32(L.bq), c_.q_dim());
        if (L.bk.present()) add(k, w32(L.bk), c_.kv_dim());
        if (L.bv.present()) add(v, w32(L.bv), c_.v_dim());
        if (L.q_norm.present())
          for (int h = 0; h < c_.n_heads; ++h)
            rmsnorm(q + h * c_.head_dim, w32(L.q_norm), q + h * c_.head_dim, c_.head_dim, c_.rms_eps);
        if (L.k_norm.present())
          for (int h = 0; h < c_.n_kv_heads; ++h)
            rmsnorm(k + h * c_.head_dim, w32(L.k_norm), k + h * c_.head_dim, c_.head_dim, c_.rms_eps);
        rope_.apply(q, c_.n_heads, c_.head_dim, cos_.data() + size_t(i) * half, sin_.data() + size_t(i) * half);
        rope_.apply(k, c_.n_kv_heads, c_.head_dim, cos_.data() + size_t(i) * half, sin_.data() + size_t(i) * half);
        kv_->store(l, pos0 + i, k, v);
      });
      prof_.lap(kRope);
      AttentionArgs a;
      a.kv = kv_.get();
      a.layer = l;
      a.n_heads = c_.n_heads;
      a.n_kv_heads = c_.n_kv_heads;
      a.head_dim = c_.head_dim;
      a.head_dim_v = c_.head_dim_v;
      a.scale = 1.0f / std::sqrt(float(c_.head_dim));
      a.n_q = n;
      a.pos0 = pos0;
      a.q = q_.data();
      a.out = att_.data();
      attention(a, ascratch_, pool_.get(), o_.n_threads);
      prof_.lap(kAttn);
      linear(L.wo, att_.data(), n, tmp_.data());
      add(x_.data(), tmp_.data(), size_t(n) * E);
      prof_.lap(kWo);

      rows(n, [&](int i) {
        rmsnorm(x_.data() + size_t(i) * E, w32(L.ffn_norm), xn_.data() + size_t(i) * E, E, c_.rms_eps);
      });
      prof_.lap(kNorm);
      if (n == 1 && kFuse) {
        fused_matvec({{&L.w_gate, gate_.data()}, {&L.w_up, up_.data()}}, xn_.data());
      } else {
        linear(L.w_gate, xn_.data(), n, gate_.data());
        linear(L.w_up, xn_.data(), n, up_.data());
      }
      prof_.lap(kGateUp);
      rows(n, [&](int i) {
        silu_mul(gate_.data() + size_t(i) * c_.n_ff, up_.data() + size_t(i) * c_.n_ff, size_t(c_.n_ff));
      });
      prof_.lap(kSilu);
      linear(L.w_down, gate_.data(), n, tmp_.data());
      add(x_.data(), tmp_.data(), size_t(n) * E);
      prof_.lap(kDown);
    }
  }

  // f(i) for each of n rows: on the pool in prefill (n > 1), inline for one token.
  template <typename F>
  void rows(int n, F&& f) {
    if (pool_ && n >= 4) {
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
  const ModelConfig& c_;
  BackendOptions o_;
  std::unique_ptr<KVCache> kv_;
  Rope rope_;
  std::unique_ptr<ThreadPool> pool_;
  AttentionScratch ascratch_;
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
  std::vector<uint8_t> prep_;     // [kMaxFused, prep_stride_] (+ 64 to align) a fused matvec's input, prepared per type
  size_t prep_stride_ = 0;
};

}  // namespace

uint64_t model_fingerprint(const Model& m) {
  const gguf::File& f = m.file();
  const ModelConfig& c = m.config();
  const int shape[] = {c.n_layers, c.n_embd, c.n_heads, c.n_kv_heads, c.head_dim, c.head_dim_v, c.n_ff, c.n_vocab};
  uint64_t h = hash_bytes(shape, sizeof shape, uint64_t(f.file_size()));
  for (const gguf::TensorInfo& t : f.tensors()) {
    h = hash_bytes(t.name.data(), t.name.size(), h);
    h = hash_bytes(f.tensor_data(t), std::min<size_t>(t.bytes, 256), h ^ uint64_t(t.type));
    if (t.bytes > 256) h = hash_bytes(f.tensor_data(t) + t.bytes - 256, 256, h);
  }
  return h;
}

Result<std::unique_ptr<Backend>> make_cpu_backend(const Model& m, const BackendOptions& o) {
  if (o.n_threads < 1 || o.n_threads > 256) return make_error("threads must be between 1 and 256");
  if (o.n_ctx < 1) return make_error("the context size must be positive");
  if (o.n_batch < 1) return make_error("the batch size must be positive");
  BackendOptions oo = o;
  oo.n_batch = std::min(o.n_batch, o.n_ctx);
  KVCacheOptions ko;
  ko.type = o.kv_type;
  ko.n_ctx = o.n_ctx;
  ko.pool.host_bytes = o.kv_host_bytes;
  ko.pool.disk_path = o.kv_disk;
  ko.pool.disk_bytes = o.kv_disk_bytes;
  ko.model_id = model_fingerprint(m);
  auto kv = KVCache::create(m.config(), ko);
  if (!kv.ok()) return make_error(kv.error());
  return std::unique_ptr<Backend>(new CpuBackend(m, oo, std::move(kv.value())));
}

}  // namespace cj
