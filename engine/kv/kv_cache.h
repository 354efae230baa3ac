// The key/value cache of one sequence: a block table over a KVPool (engine/kv_pool.h). Logical block b of layer
// l maps to a pool page (one layer of 256 tokens: K[n_kv_heads][256][head_dim] then V[n_kv_heads][256][head_dim_v],
// f32, f16 or q8_0 rows). Pages are shared by reference count with the prefix cache and other sequences, copied
// on write, and may live on the host or disk tier; attention reads a page through k_head()/v_head(), which return
// host memory or the bytes staged into the caller's buffer. The token ids are kept next to the table so that
// full blocks can be published to the prefix cache (hash chain) and a session can be saved. Nothing allocates
// after construction.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/kv/kv_pool.h"
#include "engine/model/model_config.h"

namespace cj {

// Where a position's keys and values are stored: row `row` of the pool page `page` (one layer of one block).
// The engine prepares the slots of a batch (allocation, copy-on-write, the page on the home tier); each backend then
// writes K/V there with its own code (the CPU through KVPool::host, a device backend through its own tier).
struct KVSlot {
  int page = -1;
  int row = 0;
};

struct KVCacheOptions {
  KVType type = KVType::F16;
  int n_ctx = 4096;
  KVPoolOptions pool;       // budgets; pool.n_ctx is set from n_ctx
  uint64_t model_id = 0;    // seeds the prefix hash chain (cached blocks of another model never match)
  int sink_blocks = 1;      // first blocks kept hot (attention sinks)
  int recent_blocks = 4;    // last blocks kept hot (the recent window; at least the blocks being written)
  bool summaries = false;   // keep per-unit key summaries for page selection (KVPool::summary)
};

class KVCache {
 public:
  static constexpr int kBlockTokens = KVLayout::kBlockTokens;
  static constexpr int kMaxCtx = 1 << 24;  // tokens; keeps block and position arithmetic far from int overflow

  // A sequence with a pool of its own (o.pool sets the budgets).
  static Result<std::unique_ptr<KVCache>> create(const ModelConfig& c, const KVCacheOptions& o);
  // A sequence over a shared pool (the engine's): o.type must be the pool's; o.pool is ignored.
  static Result<std::unique_ptr<KVCache>> create(const ModelConfig& c, const KVCacheOptions& o, KVPool* shared);
  // A host-only cache with room for n_ctx tokens (asserts on an invalid shape; tests and tools).
  KVCache(const ModelConfig& c, int n_ctx, KVType type);
  ~KVCache();
  KVCache(const KVCache&) = delete;
  KVCache& operator=(const KVCache&) = delete;

  KVType type() const { return L_.type; }
  const KVLayout& layout() const { return L_; }
  int capacity() const { return n_ctx_; }          // tokens
  int n_tokens() const { return n_tokens_; }       // tokens stored (positions 0 .. n_tokens-1)
  int n_blocks_used() const { return (n_tokens_ + kBlockTokens - 1) / kBlockTokens; }
  uint64_t model_id() const { return o_.model_id; }
  size_t bytes_allocated() const { return pool_->stats().host_capacity; }
  // Pages of the pool the table holds (several sequences may hold the same page).
  int n_pages_held() const;
  // Bytes of keys and values one decoded token reads when n tokens are cached.
  size_t bytes_read_per_token(int n) const;

  // Before storing positions [pos0, pos0 + n) (pos0 <= n_tokens()): every page of those blocks exists, belongs
  // to this sequence alone (copy-on-write) and is host-resident and hot. Fails when the budgets are full.
  Status prepare(int pos0, int n);
  // Stores position pos of one layer (prepared): k [n_kv_heads * head_dim], v [n_kv_heads * head_dim_v] (f32).
  void store(int layer, int pos, const float* k, const float* v);
  // Recomputes the key summaries of the first n tokens of block b of a layer from the page (session restore).
  void rebuild_summaries(int layer, int b, int n);
  // The slot of position pos of one layer (prepared: host-resident on the CPU path).
  KVSlot slot(int layer, int pos) const { return {page(layer, pos / kBlockTokens), pos % kBlockTokens}; }
  // After storing: the token ids of positions [pos0, pos0 + n); sets n_tokens to pos0 + n and publishes the
  // blocks that became full to the prefix cache.
  void commit(int pos0, const int32_t* tokens, int n);
  // Keeps the first n tokens; pages of later blocks go back to the pool (or stay in the prefix cache).
  void truncate(int n);
  const int32_t* tokens() const { return tokens_.data(); }

  // Keeps the longest prefix of toks[0..n) found in this sequence or, block by block, in the prefix cache, and
  // returns its length (the cache then holds that many tokens; the caller evaluates the rest).
  int reuse_prefix(const int32_t* toks, int n);
  // Holds every block of `other` (same pool) by reference, copy-on-write: this cache then holds other's tokens.
  void share_from(const KVCache& other);

  // Keys / values of one KV head in logical block b: [kBlockTokens] rows of layout().k_row_bytes. stage must
  // hold layout().k_head_bytes (v_head_bytes) when the page is on disk.
  const uint8_t* k_head(int layer, int b, int kv_head, uint8_t* stage) const {
    return pool_->read(page(layer, b), L_.k_offset(kv_head), L_.k_head_bytes, stage);
  }
  const uint8_t* v_head(int layer, int b, int kv_head, uint8_t* stage) const {
    return pool_->read(page(layer, b), L_.v_offset(kv_head), L_.v_head_bytes, stage);
  }
  // Host-resident blocks only (tests, tools).
  const void* k_block(int layer, int b, int kv_head) const { return k_head(layer, b, kv_head, nullptr); }
  const void* v_block(int layer, int b, int kv_head) const { return v_head(layer, b, kv_head, nullptr); }

  int page(int layer, int b) const { return table_[size_t(b) * L_.n_layers + size_t(layer)]; }
  // Host memory of a prepared page (session restore writes whole pages).
  uint8_t* page_for_write(int layer, int b) { return pool_->host(page(layer, b)); }
  KVPool& pool() { return *pool_; }
  const KVPool& pool() const { return *pool_; }
  KVTier tier(int layer, int b) const { return pool_->tier(page(layer, b)); }

 private:
  KVCache() = default;
  Status init(const ModelConfig& c, const KVCacheOptions& o, KVPool* shared);
  void assign(int layer, int b, int p);  // replaces the table entry (dropping the old page's reference)
  void set_hot(int layer, int b, bool hot);
  void update_hot(int first_written, int n_blocks);
  void summarize(int page, int h, int t, const float* k);  // folds key row k of token t (in its block) in

  KVCacheOptions o_;
  KVLayout L_;
  std::unique_ptr<KVPool> owned_pool_;  // null when the pool is shared
  KVPool* pool_ = nullptr;
  int n_ctx_ = 0, max_blocks_ = 0, n_tokens_ = 0;
  std::vector<int32_t> table_;     // [max_blocks, n_layers] page ids (-1: none)
  std::vector<uint8_t> hot_;       // [max_blocks, n_layers] whether this sequence marked the page hot
  std::vector<int32_t> tokens_;    // [n_ctx] token ids of the stored positions
  std::vector<uint64_t> hashes_;   // [max_blocks] prefix chain value of each full block
};

// Row codecs of the cache types (f32 in/out). Q8_0: per 32 values an f16 scale d = max|x| / 127, then int8 x/d.
void kv_encode_row(KVType t, const float* x, int n, uint8_t* dst);
void kv_decode_row(KVType t, const uint8_t* src, int n, float* y);

// IEEE half conversions (round to nearest even), used for the f16 cache.
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);

}  // namespace cj
