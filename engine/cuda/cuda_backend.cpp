#include "engine/cuda/cuda_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "engine/cuda/device_info.h"
#include "engine/cuda/kernels.h"
#include "engine/kv/attn_pages.h"
#include "engine/kv/attn_state.h"

namespace cj::cuda {

namespace {

constexpr size_t MiB = size_t(1) << 20;

// A KV tier in GPU memory: one allocation of `slots` pages; the CPU reaches it only by copies.
class CudaArena final : public KVArena {
 public:
  CudaArena(size_t pb, int slots, uint8_t* base) : KVArena(pb, slots), base_(base) {}
  ~CudaArena() override { dev_free(base_); }
  KVTier kind() const override { return KVTier::Device; }
  bool read(int slot, size_t off, size_t n, uint8_t* dst) const override {
    return to_host(dst, base_ + size_t(slot) * page_bytes() + off, n);
  }
  bool write(int slot, size_t off, const uint8_t* src, size_t n) override {
    return to_device(base_ + size_t(slot) * page_bytes() + off, src, n);
  }
  std::string describe() const override {
    return "GPU memory (" + std::to_string((size_t(capacity()) * page_bytes()) >> 20) + " MiB)";
  }
  uint8_t* base() const { return base_; }

 private:
  uint8_t* base_;
};

// Device memory owned by the backend.
struct DevBuf {
  void* p = nullptr;
  DevBuf() = default;
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  ~DevBuf() { dev_free(p); }
  template <typename T>
  T* as() const { return static_cast<T*>(p); }
};

struct DevWeight {
  DType type = DType::F32;
  const void* p = nullptr;
  int rows = 0, cols = 0;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(const Model& m, const Recipe& r, const KVLayout& L, const BackendOptions& o, uint8_t* arena)
      : m_(m), R_(r), L_(L), o_(o) {
    kv_.arena = arena;
    kv_.page_bytes = L.page_bytes;
    kv_.k_head_bytes = L.k_head_bytes;
    kv_.v_head_bytes = L.v_head_bytes;
    kv_.k_row_bytes = L.k_row_bytes;
    kv_.v_row_bytes = L.v_row_bytes;
    kv_.kv_type = int(L.type);
    kv_.n_kv_heads = L.n_kv_heads;
    kv_.head_dim = L.head_dim;
    kv_.head_dim_v = L.head_dim_v;
  }
  ~CudaBackend() override {
    for (void* p : owned_) dev_free(p);
  }

  // Uploads weights and sizes scratch; "" or the reason it failed.
  std::string init() {
    std::string err;
    auto up = [&](const WeightView& w, DevWeight* d) {
      if (!w.present() || !err.empty()) return;
      if (!gemv_supported(w.type)) {
        err = std::string("the CUDA backend has no kernel for ") + dtype_traits(w.type).name + " weights";
        return;
      }
      void* p = dev_alloc(w.bytes(), &err);
      if (!p) return;
      owned_.push_back(p);
      if (!to_device(p, w.data, w.bytes())) err = "copying the weights to the GPU failed: " + last_error();
      *d = {w.type, p, int(w.rows), int(w.cols)};
    };
    auto vec = [&](const WeightView& w, const float** d) {
      if (!w.present() || !err.empty()) return;
      if (w.type != DType::F32) {
        err = "the CUDA backend expects f32 norm and bias vectors";
        return;
      }
      DevWeight dw;
      up(w, &dw);
      *d = static_cast<const float*>(dw.p);
    };
    up(m_.token_embd, &embd_);
    vec(m_.output_norm, &out_norm_);
    if (m_.output.data == m_.token_embd.data) output_ = embd_;
    else up(m_.output, &output_);
    layers_.resize(size_t(R_.n_layers));
    for (int l = 0; l < R_.n_layers && err.empty(); ++l) {
      const LayerWeights& W = m_.layers[size_t(l)];
      Layer& D = layers_[size_t(l)];
      vec(W.attn_norm, &D.attn_norm);
      vec(W.ffn_norm, &D.ffn_norm);
      if (R_.q_bias) vec(W.bq, &D.bq);
      if (R_.k_bias) vec(W.bk, &D.bk);
      if (R_.v_bias) vec(W.bv, &D.bv);
      if (R_.qk_norm) {
        vec(W.q_norm, &D.q_norm);
        vec(W.k_norm, &D.k_norm);
      }
      up(W.wq, &D.wq);
      up(W.wk, &D.wk);
      up(W.wv, &D.wv);
      up(W.wo, &D.wo);
      up(W.w_gate, &D.gate);
      up(W.w_up, &D.up);
      up(W.w_down, &D.down);
    }
    if (!err.empty()) return err;
    if (R_.head_dim > 256 || R_.head_dim_v > 256) return "the CUDA attention takes heads of up to 256 values";
    // Scratch.
    const size_t B = size_t(o_.n_batch), E = size_t(R_.n_embd);
    max_blocks_ = (o_.n_ctx + KVLayout::kBlockTokens - 1) / KVLayout::kBlockTokens;
    const int S = attn::state_floats(R_.head_dim_v);
    auto f = [&](size_t n) -> float* {
      if (!err.empty()) return nullptr;
      void* p = dev_alloc(n * 4, &err);
      if (p) owned_.push_back(p);
      return static_cast<float*>(p);
    };
    x_ = f(B * E);
    xn_ = f(B * std::max<size_t>(E, size_t(R_.attn_out_dim())));
    q_ = f(B * size_t(R_.q_dim()));
    k_ = f(B * size_t(R_.kv_dim()));
    v_ = f(B * size_t(R_.v_dim()));
    att_ = f(B * size_t(R_.attn_out_dim()));
    gate_ = f(B * size_t(R_.n_ff));
    up_ = f(B * size_t(R_.n_ff));
    tmp_ = f(B * E);
    half_ = R_.rope.n_dims() / 2;
    cos_ = f(B * size_t(half_));
    sin_ = f(B * size_t(half_));
    states_ = f(B * size_t(R_.n_heads) * kSplits * size_t(S));
    hstates_ = f(B * size_t(R_.n_heads) * size_t(S));
    logits_ = f(kLogitRows * size_t(R_.n_vocab));
    // Integers: tokens [B], rows [B], n_keys [B], slots [n_layers, B], table offsets [n_layers, B], tables.
    table_ints_ = size_t(std::max(1, o_.max_sequences)) * size_t(R_.n_layers) * size_t(max_blocks_);
    ints_n_ = B * 3 + 2 * size_t(R_.n_layers) * B + table_ints_;
    ints_ = reinterpret_cast<int32_t*>(f(ints_n_));
    if (!err.empty()) return err;
    h_ints_.assign(ints_n_, 0);
    h_cos_.assign(B * size_t(half_), 0);
    h_sin_.assign(B * size_t(half_), 0);
    h_q_.assign(B * size_t(R_.q_dim()), 0);
    h_states_.assign(B * size_t(R_.n_heads) * size_t(S), 0);
    h_off_.assign(size_t(R_.n_layers), 0);
    const size_t T = size_t(std::max(1, o_.n_threads));
    work_.assign(T, std::vector<float>(attn::page_attn_work_floats(L_)));
    stage_.assign(T, std::vector<uint8_t>(attn::page_attn_stage_bytes(L_)));
    return "";
  }

  const char* name() const override { return "cuda"; }
  int n_batch() const override { return o_.n_batch; }

  Status forward(const Batch& b) override {
    const int n = b.n_tokens, E = R_.n_embd, NL = R_.n_layers;
    if (n <= 0 || n > o_.n_batch) return make_error("forward: the batch holds " + std::to_string(n) + " tokens");
    if (b.n_seqs > std::max(1, o_.max_sequences)) return make_error("forward: too many sequences in one batch");
    // Host tables of this pass: tokens, rows, key counts, per layer the slot each token writes and its block
    // table's offset, and the block tables (device slot of each block, -1 when the page is off the device).
    int32_t* tok = h_ints_.data();
    int32_t* row = tok + o_.n_batch;
    int32_t* nkeys = row + o_.n_batch;
    int32_t* slot = nkeys + o_.n_batch;          // [NL, B]
    int32_t* toff = slot + size_t(NL) * o_.n_batch;  // [NL, B]
    int32_t* table = toff + size_t(NL) * o_.n_batch;
    std::fill(h_off_.begin(), h_off_.end(), 0);
    int max_nb = 0;
    for (int s = 0; s < b.n_seqs; ++s) {
      int last = -1;
      for (int i = 0; i < n; ++i)
        if (b.seq[i] == s) last = std::max(last, b.pos[i]);
      const int nb = (last + 1 + KVLayout::kBlockTokens - 1) / KVLayout::kBlockTokens;
      if (nb > max_blocks_) return make_error("forward: a sequence is longer than the context the backend was made for");
      max_nb = std::max(max_nb, nb);
      const KVCache& kv = *b.kv[s];
      const KVPool& pool = kv.pool();
      for (int l = 0; l < NL; ++l)
        for (int blk = 0; blk < nb; ++blk) {
          const int p = kv.page(l, blk);
          const bool on = p >= 0 && pool.tier(p) == KVTier::Device;
          table[(size_t(s) * NL + l) * max_blocks_ + blk] = on ? pool.slot_of(p) : -1;
          h_off_[size_t(l)] += on ? 0 : 1;
        }
    }
    for (int i = 0; i < n; ++i) {
      tok[i] = b.token[i];
      row[i] = b.pos[i] % KVLayout::kBlockTokens;
      nkeys[i] = b.pos[i] + 1;
      const KVCache& kv = *b.kv[b.seq[i]];
      for (int l = 0; l < NL; ++l) {
        const int p = kv.slot(l, b.pos[i]).page;
        if (kv.pool().tier(p) != KVTier::Device)
          return make_error("forward: a page being written is not on the device (the engine prepares them there)");
        slot[size_t(l) * o_.n_batch + i] = kv.pool().slot_of(p);
        toff[size_t(l) * o_.n_batch + i] = int32_t((size_t(b.seq[i]) * NL + l) * max_blocks_);
      }
      R_.rope.cos_sin(b.pos[i], h_cos_.data() + size_t(i) * half_, h_sin_.data() + size_t(i) * half_);
    }
    if (!to_device(ints_, h_ints_.data(), ints_n_ * 4) ||
        !to_device(cos_, h_cos_.data(), size_t(n) * half_ * 4) || !to_device(sin_, h_sin_.data(), size_t(n) * half_ * 4))
      return make_error("cuda: uploading the batch failed: " + last_error());
    const int32_t* d_tok = ints_;
    const int32_t* d_row = ints_ + o_.n_batch;
    const int32_t* d_nkeys = d_row + o_.n_batch;
    const int32_t* d_slot = d_nkeys + o_.n_batch;
    const int32_t* d_toff = d_slot + size_t(NL) * o_.n_batch;
    const int32_t* d_table = d_toff + size_t(NL) * o_.n_batch;
    const int splits = std::max(1, std::min(kSplits, max_nb));
    const int S = attn::state_floats(R_.head_dim_v);

    embed(embd_.type, embd_.p, E, d_tok, n, x_, nullptr);
    for (int l = 0; l < NL; ++l) {
      const Layer& D = layers_[size_t(l)];
      rmsnorm(x_, D.attn_norm, xn_, n, E, R_.rms_eps, nullptr);
      mm(D.wq, xn_, n, q_);
      mm(D.wk, xn_, n, k_);
      mm(D.wv, xn_, n, v_);
      if (D.bq) add_bias(q_, D.bq, n, R_.q_dim(), nullptr);
      if (D.bk) add_bias(k_, D.bk, n, R_.kv_dim(), nullptr);
      if (D.bv) add_bias(v_, D.bv, n, R_.v_dim(), nullptr);
      if (R_.qk_norm) {
        rmsnorm(q_, D.q_norm, q_, n * R_.n_heads, R_.head_dim, R_.rms_eps, nullptr);
        rmsnorm(k_, D.k_norm, k_, n * R_.n_kv_heads, R_.head_dim, R_.rms_eps, nullptr);
      }
      const bool neox = R_.rope_kind == RopeKind::NeoX;
      rope(q_, n, R_.n_heads, R_.head_dim, R_.rope.n_dims(), neox, cos_, sin_, nullptr);
      rope(k_, n, R_.n_kv_heads, R_.head_dim, R_.rope.n_dims(), neox, cos_, sin_, nullptr);
      store_kv(kv_, k_, v_, d_slot + size_t(l) * o_.n_batch, d_row, n, nullptr);
      flash_decode(kv_, q_, n, R_.n_heads, R_.attn_scale, d_nkeys, d_table, d_toff + size_t(l) * o_.n_batch, splits,
                   states_, nullptr);
      const float* host_part = nullptr;
      if (h_off_[size_t(l)] > 0) {
        // Pages the pool moved to the host: the CPU attends them, the device merges its part with the CPU's.
        if (!to_host(h_q_.data(), q_, size_t(n) * R_.q_dim() * 4))
          return make_error("cuda: reading the queries back failed: " + last_error());
        attn::PageAttnArgs a;
        a.layer = l;
        a.n_heads = R_.n_heads;
        a.n_kv_heads = R_.n_kv_heads;
        a.head_dim = R_.head_dim;
        a.head_dim_v = R_.head_dim_v;
        a.scale = R_.attn_scale;
        a.pages = attn::PageSet::OffDevice;
        // Tokens split over the backend's threads (each with its own row buffers and staging).
        const int T = std::max(1, std::min(int(work_.size()), n));
        auto part = [&](int t) {
          for (int i = t; i < n; i += T)
            attn::attend_pages(*b.kv[b.seq[i]], a, h_q_.data() + size_t(i) * R_.q_dim(), b.pos[i] + 1,
                               h_states_.data() + size_t(i) * R_.n_heads * S, work_[size_t(t)].data(),
                               stage_[size_t(t)].data());
        };
        std::vector<std::thread> helpers;
        for (int t = 1; t < T; ++t) helpers.emplace_back(part, t);
        part(0);
        for (auto& h : helpers) h.join();
        if (!to_device(hstates_, h_states_.data(), size_t(n) * R_.n_heads * S * 4))
          return make_error("cuda: uploading the host attention failed: " + last_error());
        host_part = hstates_;
      }
      merge_states(states_, splits, host_part, n, R_.n_heads, R_.head_dim_v, att_, nullptr);
      mm(D.wo, att_, n, tmp_);
      add(x_, tmp_, size_t(n) * E, nullptr);
      rmsnorm(x_, D.ffn_norm, xn_, n, E, R_.rms_eps, nullptr);
      mm(D.gate, xn_, n, gate_);
      mm(D.up, xn_, n, up_);
      swiglu(gate_, up_, size_t(n) * R_.n_ff, nullptr);
      mm(D.down, gate_, n, tmp_);
      add(x_, tmp_, size_t(n) * E, nullptr);
    }
    // Logits of the rows that want them, kLogitRows consecutive rows per product.
    rmsnorm(x_, out_norm_, xn_, n, E, R_.rms_eps, nullptr);
    const size_t V = size_t(R_.n_vocab);
    for (int i = 0; i < n;) {
      if (!b.logits[i]) {
        ++i;
        continue;
      }
      int cnt = 1;
      while (i + cnt < n && cnt < kLogitRows && b.logits[i + cnt]) ++cnt;
      mm(output_, xn_ + size_t(i) * E, cnt, logits_);
      for (int j = 0; j < cnt; ++j)
        if (!to_host(b.logits[i + j], logits_ + size_t(j) * V, V * 4))
          return make_error("cuda: reading the logits failed: " + last_error());
      i += cnt;
    }
    if (!sync(nullptr)) return make_error("cuda: the forward pass failed: " + last_error());
    const std::string e = last_error();
    if (!e.empty()) return make_error("cuda: " + e);
    return {};
  }

 private:
  static constexpr int kSplits = 16;      // key ranges per (query, head) in the flash-decoding pass
  static constexpr int kLogitRows = 8;
  struct Layer {
    const float *attn_norm = nullptr, *ffn_norm = nullptr, *bq = nullptr, *bk = nullptr, *bv = nullptr,
                *q_norm = nullptr, *k_norm = nullptr;
    DevWeight wq, wk, wv, wo, gate, up, down;
  };
  void mm(const DevWeight& w, const float* x, int n, float* y) { gemv(w.type, w.p, w.rows, w.cols, x, n, y, nullptr); }

  const Model& m_;
  const Recipe R_;
  KVLayout L_;
  BackendOptions o_;
  DevKV kv_;
  std::vector<void*> owned_;
  DevWeight embd_, output_;
  const float* out_norm_ = nullptr;
  std::vector<Layer> layers_;
  float *x_ = nullptr, *xn_ = nullptr, *q_ = nullptr, *k_ = nullptr, *v_ = nullptr, *att_ = nullptr,
        *gate_ = nullptr, *up_ = nullptr, *tmp_ = nullptr, *cos_ = nullptr, *sin_ = nullptr, *states_ = nullptr,
        *hstates_ = nullptr, *logits_ = nullptr;
  int32_t* ints_ = nullptr;
  size_t ints_n_ = 0, table_ints_ = 0;
  int half_ = 0, max_blocks_ = 0;
  std::vector<int32_t> h_ints_;
  std::vector<float> h_cos_, h_sin_, h_q_, h_states_;
  std::vector<int> h_off_;
  std::vector<std::vector<float>> work_;     // [n_threads] row buffers of the CPU's part of the attention
  std::vector<std::vector<uint8_t>> stage_;  // [n_threads] staging of pages not in host memory
};

size_t layer_bytes(const LayerWeights& W) {
  size_t b = 0;
  for (const WeightView* w : {&W.attn_norm, &W.wq, &W.wk, &W.wv, &W.bq, &W.bk, &W.bv, &W.q_norm, &W.k_norm, &W.wo,
                              &W.ffn_norm, &W.w_gate, &W.w_up, &W.w_down})
    b += w->bytes();
  return b;
}

}  // namespace

bool usable(std::string* why) {
  std::string w;
  const auto devs = list_devices(&w);
  if (devs.empty()) {
    if (why) *why = w.empty() ? "no CUDA device" : w;
    return false;
  }
  return true;
}

Result<CudaEngineParts> make_cuda_engine(const Model& m, const Recipe& r, const KVLayout& L, const BackendOptions& o,
                                         const CudaOptions& co) {
  std::string why;
  size_t free_b = 0, total_b = 0;
  if (!usable(&why) || !device_memory(co.device, &free_b, &total_b, &why))
    return make_error("--backend cuda: no usable CUDA device (" + why + ")");
  DevicePlanInput in;
  in.device_free = free_b;
  // Scratch: activations of a batch, attention states and logits, with room for the runtime.
  const size_t B = size_t(o.n_batch);
  in.reserve = 256 * MiB + B * size_t(r.n_heads) * 16 * size_t(2 + r.head_dim_v) * 4 +
               B * size_t(4 * r.n_embd + 2 * r.n_ff + r.q_dim() + r.kv_dim() + r.v_dim() + r.attn_out_dim()) * 4;
  for (const auto& W : m.layers) in.layer_bytes.push_back(layer_bytes(W));
  in.shared_bytes = m.token_embd.bytes() + m.output_norm.bytes() + (m.output.data == m.token_embd.data ? 0 : m.output.bytes());
  in.page_bytes = L.page_bytes;
  in.gpu_layers = co.gpu_layers;
  in.device_kv_bytes = co.device_kv_bytes;
  in.kv_need_bytes = co.kv_need_bytes;
  // The least device KV that lets one sequence advance: one block of every layer (a fuller pool preempts).
  in.min_kv_bytes = std::min(co.kv_need_bytes, size_t(L.n_layers) * L.page_bytes);
  auto plan = plan_device(in);
  if (!plan.ok()) return make_error(plan.error());
  if (plan->gpu_layers < r.n_layers)
    return make_error("the CUDA backend runs every layer on the device; " + std::to_string(plan->gpu_layers) + " of " +
                      std::to_string(r.n_layers) +
                      " layers fit (" + plan->summary() + ") and the CPU half of a layer split is not built yet");
  std::string err;
  auto* base = static_cast<uint8_t*>(dev_alloc(plan->kv_bytes, &err));
  if (!base) return make_error("the device KV tier: " + err);
  auto arena = std::make_unique<CudaArena>(L.page_bytes, plan->kv_slots, base);
  auto pool = make_device_pool(L, std::move(arena), co.host);
  if (!pool.ok()) return make_error(pool.error());
  auto be = std::make_unique<CudaBackend>(m, r, L, o, base);
  if (std::string e = be->init(); !e.empty()) return make_error(e);
  CudaEngineParts parts;
  parts.pool = std::move(pool.value());
  parts.backend = std::move(be);
  parts.plan = *plan;
  return parts;
}

}  // namespace cj::cuda
