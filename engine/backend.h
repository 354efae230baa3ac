// The narrow interface every compute backend implements (the CPU backend is the reference; a CUDA backend will
// implement the same). A Backend instance is one model plus one sequence: its KV cache and scratch buffers.
#pragma once
#include <memory>
#include <string>

#include "engine/base/result.h"
#include "engine/kv_cache.h"
#include "engine/kv_select.h"
#include "engine/model.h"
#include "engine/tokenizer.h"

namespace cj {

struct BackendOptions {
  int n_threads = 1;
  int n_ctx = 4096;          // tokens the KV cache holds
  int n_batch = 256;         // tokens per forward chunk during prefill (scratch is sized for this)
  KVType kv_type = KVType::F16;
  size_t kv_host_bytes = 0;  // KV host tier budget (0: room for n_ctx tokens)
  std::string kv_disk;       // KV spill file ("": none)
  size_t kv_disk_bytes = 0;  // KV disk tier budget (0 with kv_disk: room for n_ctx tokens)
  KVSelectOptions kv_select; // page selection in decode (off: exact attention)
};

// A fingerprint of a model (shape, tensor names and types, sampled weight bytes): seeds the prefix cache's hash
// chain and is checked when a session snapshot is loaded.
uint64_t model_fingerprint(const Model& m);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual const Model& model() const = 0;
  virtual int n_ctx() const = 0;
  virtual int n_past() const = 0;  // tokens in the cache

  // Runs tokens[0..n) at positions n_past() .. n_past()+n-1 and appends their keys/values to the cache.
  // logits receives [n_logits, n_vocab]: the logits of the last n_logits tokens (0 <= n_logits <= n).
  // Fails without touching the cache when n_past() + n > n_ctx() or a token id is out of range.
  virtual Status eval(const TokenId* tokens, int n, float* logits, int n_logits) = 0;
  // Keeps the first n tokens of the cache (n <= n_past()); 0 clears it.
  virtual void truncate(int n) = 0;
  // Bytes of the KV cache one decoded token reads at the current length.
  virtual size_t kv_bytes_per_token() const = 0;
  // The sequence's paged KV cache (budgets, tiers, prefix cache, session snapshots).
  virtual KVCache& kv_cache() = 0;
  // Keeps the longest prefix of tokens[0..n) held by the cache or its prefix cache (at most n - 1 tokens, so that
  // the caller still evaluates one token for logits); returns its length.
  int reuse_prefix(const TokenId* tokens, int n) {
    const int k = kv_cache().reuse_prefix(tokens, n);
    if (k >= n && n > 0) truncate(n - 1);
    return n_past();
  }
};

Result<std::unique_ptr<Backend>> make_cpu_backend(const Model& m, const BackendOptions& o);

}  // namespace cj
