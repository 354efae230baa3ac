// The engine: one model's weights, its forward recipe, ONE KV pool (all tiers) shared by every sequence, a backend
// (the CPU executor today) with its scratch, and sequences. A sequence owns its block table over the pool and its
// token ids; sequences share prefix blocks through the pool's prefix cache (copy-on-write). One batch call
// evaluates tokens of several sequences at their own next positions — prefill chunks and decode steps mixed, as
// llama.cpp's llama_batch does — so that decoding N sequences reads the weights once per step, not N times.
// The scheduler (engine/scheduler.h) builds such batches from requests; tools that drive one sequence by hand use
// Sequence::eval (or open_sequence, an engine with one sequence).
//
// Threading: an Engine and its sequences are used from one thread at a time (the scheduler's, or the caller's).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/base/result.h"
#include "engine/kv/kv_cache.h"
#include "engine/kv/kv_pool.h"
#include "engine/model/model.h"
#include "engine/model/recipe.h"

namespace cj {

struct EngineOptions {
  std::string backend = "cpu";  // one of available_backends()
  int n_threads = 1;
  int n_ctx = 4096;          // tokens one sequence holds
  int n_batch = 256;         // tokens per forward pass (the backend's scratch is sized for this)
  int max_sequences = 1;     // live sequences at once
  KVType kv_type = KVType::F16;
  size_t kv_host_bytes = 0;  // KV host tier budget, all sequences together (0: n_ctx tokens per sequence)
  std::string kv_disk;       // KV spill file ("": none)
  size_t kv_disk_bytes = 0;  // KV disk tier budget (0 with kv_disk: n_ctx tokens per sequence)
  // Per-tensor placement for a backend with an accelerator (engine/model/placement.h; "" = kDefaultPlacement:
  // routed experts in host RAM computed by the CPU, attention, router and shared experts on the device). The CPU
  // backend keeps everything in host RAM and only checks that the rule parses.
  std::string placement;
  size_t device_kv_bytes = 0;  // the device tier's budget (backend cuda; 0: the context, or what fits)
  int gpu_layers = -1;       // layers on the device (backend cuda; -1: all that fit)
};

class Engine;
class Sequence;
Result<std::unique_ptr<Sequence>> open_sequence(const Model& m, const EngineOptions& o);

// One sequence: a block table over the engine's pool and the token ids it holds (positions 0 .. n_past()-1).
class Sequence {
 public:
  ~Sequence();
  Sequence(const Sequence&) = delete;
  Sequence& operator=(const Sequence&) = delete;

  Engine& engine() { return *engine_; }
  const Model& model() const;
  const char* name() const;  // the backend's
  int id() const { return id_; }
  int n_ctx() const { return kv_->capacity(); }
  int n_past() const { return kv_->n_tokens(); }

  // Runs tokens[0..n) at positions n_past() .. n_past()+n-1 (in forward passes of up to n_batch tokens) and appends
  // their keys/values. logits receives [n_logits, n_vocab]: the logits of the last n_logits tokens. Fails without
  // touching the cache when the context would overflow or a token id is out of range.
  Status eval(const TokenId* tokens, int n, float* logits, int n_logits);
  // Keeps the first n tokens (n <= n_past()); 0 clears the sequence (its full blocks stay in the prefix cache).
  void truncate(int n);
  // Keeps the longest prefix of tokens[0..n) held by this sequence or the pool's prefix cache (at most n - 1
  // tokens, so that the caller still evaluates one token for logits); returns its length.
  int reuse_prefix(const TokenId* tokens, int n);
  // Shares every block of `other` (copy-on-write): this sequence then holds other's tokens.
  void copy_from(const Sequence& other);
  // Bytes of the KV cache one decoded token reads at the current length.
  size_t kv_bytes_per_token() const { return kv_->bytes_read_per_token(kv_->n_tokens()); }
  KVCache& kv_cache() { return *kv_; }
  const KVCache& kv_cache() const { return *kv_; }

 private:
  friend class Engine;
  friend Result<std::unique_ptr<Sequence>> open_sequence(const Model& m, const EngineOptions& o);
  Sequence() = default;
  std::unique_ptr<Engine> owned_;  // open_sequence(): the engine lives as long as its only sequence
  Engine* engine_ = nullptr;
  int id_ = -1;
  std::unique_ptr<KVCache> kv_;
};

// Tokens of one sequence in a batch: tokens[0..n) at its next positions; logits receives the logits of the last
// n_logits of them ([n_logits, n_vocab], may be null when n_logits is 0).
struct SeqTokens {
  Sequence* seq = nullptr;
  const TokenId* tokens = nullptr;
  int n = 0;
  int n_logits = 0;
  float* logits = nullptr;
  bool kv_full = false;  // set by Engine::eval when this sequence found no room in the KV pool
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(const Model& m, const EngineOptions& o);
  ~Engine();

  const Model& model() const { return m_; }
  const Recipe& recipe() const { return recipe_; }
  const EngineOptions& options() const { return o_; }
  Backend& backend() { return *backend_; }
  KVPool& pool() { return *pool_; }
  const KVPool& pool() const { return *pool_; }
  uint64_t model_id() const { return model_id_; }
  int live_sequences() const { return live_; }

  // A new empty sequence; fails when max_sequences are live.
  Result<std::unique_ptr<Sequence>> new_sequence();

  // One batch call: the tokens of several sequences (each sequence at most once), in forward passes of up to
  // n_batch tokens. Checks everything first (context room, token ids); a sequence that finds no room in the KV
  // pool gets kv_full and the call fails with the pool's message, leaving every sequence as it was before the
  // pass that failed (earlier passes of a long call stay done).
  Status eval(SeqTokens* seqs, int n_seqs);

 private:
  friend class Sequence;
  Engine(const Model& m, const EngineOptions& o) : m_(m), o_(o) {}
  void release(Sequence* s);

  const Model& m_;
  EngineOptions o_;
  Recipe recipe_;
  uint64_t model_id_ = 0;
  std::unique_ptr<KVPool> pool_;
  std::unique_ptr<Backend> backend_;
  std::vector<uint8_t> used_ids_;  // [max_sequences]
  int live_ = 0;
  // Scratch of one forward pass, [n_batch] entries (nothing allocates per call).
  std::vector<TokenId> tok_;
  std::vector<int32_t> pos_, seq_;
  std::vector<float*> out_;
  std::vector<KVCache*> kvs_;
  std::vector<int> done_;  // [max_sequences] tokens of each SeqTokens already evaluated
};

// The backends this build can run ("cpu"; "cuda" when the CUDA backend is built and a device is present).
std::vector<std::string> available_backends();
// Why a backend this build knows cannot run here ("" when it can), one line.
std::string backend_unavailable(const std::string& name);

// An engine with one sequence (tools, tests, perplexity): the sequence owns its engine.
Result<std::unique_ptr<Sequence>> open_sequence(const Model& m, const EngineOptions& o);

}  // namespace cj
