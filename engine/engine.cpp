#include "engine/engine.h"

#include "engine/model/placement.h"

#include <algorithm>

#include "engine/cpu/attention_flash.h"
#ifdef CHANGJUAN_HAVE_CUDA
#include "engine/cuda/cuda_backend.h"
#endif

namespace cj {

// ---- Sequence ---------------------------------------------------------------------------------------------------

Sequence::~Sequence() {
  if (engine_) engine_->release(this);
  kv_.reset();  // gives the pages back before an owned engine (and its pool) goes
}

const Model& Sequence::model() const { return engine_->model(); }
const char* Sequence::name() const { return engine_->backend().name(); }

Status Sequence::eval(const TokenId* tokens, int n, float* logits, int n_logits) {
  SeqTokens st;
  st.seq = this;
  st.tokens = tokens;
  st.n = n;
  st.n_logits = n_logits;
  st.logits = logits;
  return engine_->eval(&st, 1);
}

void Sequence::truncate(int n) {
  CJ_ASSERT(n >= 0 && n <= kv_->n_tokens());
  kv_->truncate(n);
}

int Sequence::reuse_prefix(const TokenId* tokens, int n) {
  const int k = kv_->reuse_prefix(tokens, n);
  if (k >= n && n > 0) truncate(n - 1);
  return n_past();
}

void Sequence::copy_from(const Sequence& other) {
  CJ_ASSERT(other.engine_ == engine_);
  kv_->share_from(*other.kv_);
}

size_t Sequence::kv_bytes_per_token() const {
  return kv_bytes_read_per_token(*kv_, engine_->options().kv_select, kv_->n_tokens());
}

// ---- Engine -----------------------------------------------------------------------------------------------------

Result<std::unique_ptr<Engine>> Engine::create(const Model& m, const EngineOptions& o) {
  if (o.n_threads < 1 || o.n_threads > 256) return make_error("threads must be between 1 and 256");
  if (o.n_ctx < 1 || o.n_ctx > KVCache::kMaxCtx)  // bounded so that block and byte arithmetic cannot overflow
    return make_error("the context size must be between 1 and " + std::to_string(KVCache::kMaxCtx) + " tokens");
  if (o.n_batch < 1) return make_error("the batch size must be positive");
  if (o.max_sequences < 1 || o.max_sequences > 4096) return make_error("sequences must be between 1 and 4096");
  if (auto rules = parse_placement(o.placement.empty() ? kDefaultPlacement : o.placement); !rules.ok())
    return make_error(rules.error());
  if (std::string why = backend_unavailable(o.backend); !why.empty()) return make_error(why);
  if (o.backend == "cpu" && (o.device_kv_bytes || o.gpu_layers > 0))
    return make_error("--device-kv-mb and --gpu-layers set the GPU side of the CUDA backend (--backend cuda); this engine runs on "
                      "the CPU (use --host-kv-mb and --kv-dir)");
  std::unique_ptr<Engine> e(new Engine(m, o));
  e->recipe_ = make_recipe(m);
  e->model_id_ = model_fingerprint(m);
  auto L = KVLayout::make(m.config(), o.kv_type);
  if (!L.ok()) return make_error(L.error());
  // Defaults: room for n_ctx tokens in whole blocks for every sequence.
  const size_t seq_bytes = size_t((o.n_ctx + KVLayout::kBlockTokens - 1) / KVLayout::kBlockTokens) *
                           size_t(L->n_layers) * L->page_bytes;
  KVPoolOptions po;
  po.host_bytes = o.kv_host_bytes ? o.kv_host_bytes : seq_bytes * size_t(o.max_sequences);
  po.disk_path = o.kv_disk;
  po.disk_bytes = o.kv_disk.empty() ? 0 : o.kv_disk_bytes ? o.kv_disk_bytes : seq_bytes * size_t(o.max_sequences);
  po.n_ctx = int(std::min<int64_t>(int64_t(o.n_ctx) * o.max_sequences, int64_t(1) << 30));
  if (o.kv_select.enabled()) {
    if (o.backend == "cuda") return make_error("--kv-select runs on the CPU backend only (not with --backend cuda)");
    if (!flash_supported(m.config().head_dim, m.config().head_dim_v))
      return make_error("--kv-select needs the flash attention kernels (head sizes 32, 64 or 128 and AVX2); this "
                        "model has head size " + std::to_string(m.config().head_dim));
    po.summaries = true;  // the key bounds page selection scores
  }
  BackendOptions bo;
  bo.n_threads = o.n_threads;
  bo.n_batch = int(std::min<int64_t>(o.n_batch, int64_t(o.n_ctx) * o.max_sequences));
  bo.max_sequences = o.max_sequences;
  bo.kv_select = o.kv_select;
  bo.n_ctx = o.n_ctx;
  e->o_.n_batch = bo.n_batch;
  if (o.backend == "cuda") {
#ifdef CHANGJUAN_HAVE_CUDA
    cuda::CudaOptions co;
    co.device_kv_bytes = o.device_kv_bytes;
    co.gpu_layers = o.gpu_layers;
    co.host = po;
    co.kv_need_bytes = seq_bytes * size_t(o.max_sequences);
    auto parts = cuda::make_cuda_engine(m, e->recipe_, *L, bo, co);
    if (!parts.ok()) return make_error(parts.error());
    e->pool_ = std::move(parts->pool);
    e->backend_ = std::move(parts->backend);
#endif
  } else {
    auto pool = KVPool::create(*L, po);
    if (!pool.ok()) return make_error(pool.error());
    e->pool_ = std::move(pool.value());
    auto be = make_cpu_backend(m, e->recipe_, *L, bo);
    if (!be.ok()) return make_error(be.error());
    e->backend_ = std::move(be.value());
  }
  e->used_ids_.assign(size_t(o.max_sequences), 0);
  const size_t B = size_t(bo.n_batch);
  e->tok_.resize(B);
  e->pos_.resize(B);
  e->seq_.resize(B);
  e->out_.resize(B);
  e->kvs_.resize(size_t(o.max_sequences));
  e->done_.resize(size_t(o.max_sequences));
  return e;
}

Engine::~Engine() { CJ_ASSERT(live_ == 0 && "sequences must go before their engine"); }

Result<std::unique_ptr<Sequence>> Engine::new_sequence() {
  auto it = std::find(used_ids_.begin(), used_ids_.end(), 0);
  if (it == used_ids_.end())
    return make_error("all " + std::to_string(o_.max_sequences) + " sequences of the engine are in use");
  KVCacheOptions ko;
  ko.type = o_.kv_type;
  ko.n_ctx = o_.n_ctx;
  ko.model_id = model_id_;
  ko.summaries = o_.kv_select.enabled();
  auto kv = KVCache::create(m_.config(), ko, pool_.get());
  if (!kv.ok()) return make_error(kv.error());
  std::unique_ptr<Sequence> s(new Sequence());
  s->engine_ = this;
  s->id_ = int(it - used_ids_.begin());
  s->kv_ = std::move(kv.value());
  *it = 1;
  ++live_;
  return s;
}

void Engine::release(Sequence* s) {
  if (s->id_ >= 0 && used_ids_[size_t(s->id_)]) {
    used_ids_[size_t(s->id_)] = 0;
    --live_;
  }
}

Status Engine::eval(SeqTokens* seqs, int n_seqs) {
  if (n_seqs < 1 || n_seqs > o_.max_sequences)
    return make_error("eval: " + std::to_string(n_seqs) + " sequences in one call (at most " +
                      std::to_string(o_.max_sequences) + ")");
  const int V = recipe_.n_vocab;
  int total = 0;
  for (int i = 0; i < n_seqs; ++i) {
    SeqTokens& s = seqs[i];
    s.kv_full = false;
    CJ_ASSERT(s.seq && s.seq->engine_ == this);
    for (int j = 0; j < i; ++j)
      if (seqs[j].seq == s.seq) return make_error("eval: a sequence appears twice in one batch");
    if (s.n <= 0) return make_error("eval: no tokens");
    if (s.n_logits < 0 || s.n_logits > s.n) return make_error("eval: n_logits out of range");
    const KVCache& kv = *s.seq->kv_;
    if (kv.n_tokens() + s.n > kv.capacity())
      return make_error("the context is full: " + std::to_string(kv.n_tokens()) + " + " + std::to_string(s.n) +
                        " tokens exceed the context size " + std::to_string(kv.capacity()) + " (raise --ctx)");
    for (int t = 0; t < s.n; ++t)
      if (s.tokens[t] < 0 || s.tokens[t] >= V)
        return make_error("token id " + std::to_string(s.tokens[t]) + " is outside the vocabulary (" +
                          std::to_string(V) + ")");
    done_[size_t(i)] = 0;
    total += s.n;
  }
  const int B = o_.n_batch;
  while (total > 0) {
    // One pass: a chunk of each sequence's remaining tokens, in order, up to n_batch tokens.
    int n = 0, n_kv = 0;
    for (int i = 0; i < n_seqs && n < B; ++i) {
      SeqTokens& s = seqs[i];
      const int left = s.n - done_[size_t(i)];
      if (left == 0) continue;
      const int cnt = std::min(left, B - n);
      KVCache& kv = *s.seq->kv_;
      const int pos0 = kv.n_tokens();
      if (Status ps = kv.prepare(pos0, cnt); !ps.ok()) {
        s.kv_full = true;
        return ps;
      }
      const int first_logit = s.n - s.n_logits;
      for (int t = 0; t < cnt; ++t) {
        const int j = done_[size_t(i)] + t;  // index within s.tokens
        tok_[size_t(n + t)] = s.tokens[j];
        pos_[size_t(n + t)] = pos0 + t;
        seq_[size_t(n + t)] = n_kv;
        out_[size_t(n + t)] = j >= first_logit ? s.logits + size_t(j - first_logit) * V : nullptr;
      }
      kvs_[size_t(n_kv++)] = &kv;
      n += cnt;
    }
    Batch b;
    b.n_tokens = n;
    b.token = tok_.data();
    b.pos = pos_.data();
    b.seq = seq_.data();
    b.logits = out_.data();
    b.kv = kvs_.data();
    b.n_seqs = n_kv;
    CJ_TRY(backend_->forward(b));
    // Commit what the pass stored: the token ids, and the blocks that became full into the prefix cache.
    int at = 0;
    for (int i = 0; i < n_seqs && at < n; ++i) {
      SeqTokens& s = seqs[i];
      const int left = s.n - done_[size_t(i)];
      if (left == 0) continue;
      const int cnt = std::min(left, n - at);
      KVCache& kv = *s.seq->kv_;
      kv.commit(kv.n_tokens(), s.tokens + done_[size_t(i)], cnt);
      done_[size_t(i)] += cnt;
      at += cnt;
      total -= cnt;
    }
    if (pool_->has_io_error()) return make_error(pool_->io_error());
  }
  return {};
}

std::string backend_unavailable(const std::string& name) {
  if (name == "cpu") return "";
  if (name != "cuda") return "the backend '" + name + "' is unknown (cpu or cuda)";
#ifdef CHANGJUAN_HAVE_CUDA
  std::string why;
  if (!cuda::usable(&why)) return "--backend cuda: no usable CUDA device (" + why + ")";
  return "";
#else
  return "--backend cuda: this build has no CUDA backend (nvcc was not found when it was built)";
#endif
}

std::vector<std::string> available_backends() {
  std::vector<std::string> out = {"cpu"};
  if (backend_unavailable("cuda").empty()) out.push_back("cuda");
  return out;
}

Result<std::unique_ptr<Sequence>> open_sequence(const Model& m, const EngineOptions& o) {
  EngineOptions oo = o;
  oo.max_sequences = 1;
  oo.n_batch = std::min(o.n_batch, std::max(1, o.n_ctx));
  auto e = Engine::create(m, oo);
  if (!e.ok()) return make_error(e.error());
  auto s = (*e)->new_sequence();
  if (!s.ok()) return make_error(s.error());
  std::unique_ptr<Sequence> seq = std::move(s.value());
  seq->owned_ = std::move(e.value());
  return seq;
}

}  // namespace cj
