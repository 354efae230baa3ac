// The narrow interface every compute backend implements: run one batch of tokens through the forward recipe
// (engine/model/recipe.h). A backend holds no sequence: the engine (engine/engine.h) owns the sequences, their
// block tables and the KV pool, prepares the KV slots of a batch and hands the backend the tokens. The CPU backend
// (engine/cpu) is the reference; a CUDA backend implements the same interface.
#pragma once
#include <cstdint>
#include <memory>

#include "engine/base/result.h"
#include "engine/kv/kv_cache.h"
#include "engine/model/model.h"
#include "engine/model/recipe.h"

namespace cj {

// One forward pass over tokens of several sequences, each at its own positions (prefill chunks and decode steps
// mixed). Per token i: the sequence seq[i] (an index into kv), its position pos[i], its id token[i], and where its
// logits go (logits[i], n_vocab floats; null: no logits wanted). The tokens of one sequence come in one run, in
// increasing consecutive positions, and a run's slots are prepared (KVCache::prepare): the backend writes each
// token's K/V through kv[seq]->slot(layer, pos) and attends positions 0 .. pos of that sequence.
struct Batch {
  int n_tokens = 0;
  const TokenId* token = nullptr;  // [n_tokens]
  const int32_t* pos = nullptr;    // [n_tokens]
  const int32_t* seq = nullptr;    // [n_tokens]
  float* const* logits = nullptr;  // [n_tokens] (entries may be null)
  KVCache* const* kv = nullptr;    // [n_seqs] the block tables over the engine's pool
  int n_seqs = 0;
};

struct BackendOptions {
  int n_threads = 1;
  int n_batch = 256;      // tokens per forward (scratch is sized for this)
  int max_sequences = 1;  // sequences one batch may hold (attention scratch is sized for this)
  int n_ctx = 4096;       // tokens one sequence holds (a device backend sizes its block tables for this)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual int n_batch() const = 0;
  // Runs the batch (n_tokens <= n_batch(), n_seqs <= max_sequences); allocates nothing.
  virtual Status forward(const Batch& b) = 0;
};

// The CPU executor of the recipe (engine/cpu/forward_cpu.cpp). page_stage_bytes: one KV head of a page (K then V),
// for pages the attention reads from a tier that is not host memory.
Result<std::unique_ptr<Backend>> make_cpu_backend(const Model& m, const Recipe& r, const KVLayout& kv,
                                                  const BackendOptions& o);

}  // namespace cj
