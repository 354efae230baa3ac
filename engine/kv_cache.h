// The key/value cache of one sequence, in fixed-size blocks so that a paged/tiered cache (issue 6) can replace
// it behind the same accessors: a block holds kBlockTokens tokens of one layer, keys and values per KV head
// ([n_kv_heads][kBlockTokens][head_dim]), so attention reads each head's keys contiguously. All blocks for the
// requested context are allocated up front: nothing allocates while tokens are generated.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/model_config.h"

namespace cj {

enum class KVType { F32, F16 };
const char* kv_type_name(KVType t);
bool kv_type_from_name(const std::string& s, KVType* out);

class KVCache {
 public:
  static constexpr int kBlockTokens = 256;

  KVCache(const ModelConfig& c, int n_ctx, KVType type);

  KVType type() const { return type_; }
  int capacity() const { return n_ctx_; }          // tokens
  int n_tokens() const { return n_tokens_; }       // tokens stored (positions 0 .. n_tokens-1)
  void set_n_tokens(int n);                        // after storing a batch, or to truncate
  int n_blocks_used() const { return (n_tokens_ + kBlockTokens - 1) / kBlockTokens; }
  size_t elem_bytes() const { return type_ == KVType::F32 ? 4 : 2; }
  size_t bytes_allocated() const { return storage_bytes_; }
  // Bytes of keys and values one decoded token reads when n tokens are cached.
  size_t bytes_read_per_token(int n) const;

  // Stores position pos of one layer: k [n_kv_heads * head_dim], v [n_kv_heads * head_dim_v] (f32 in).
  void store(int layer, int pos, const float* k, const float* v);
  // Keys / values of one KV head in logical block b: [kBlockTokens, head_dim] elements of type().
  const void* k_block(int layer, int b, int kv_head) const { return block(layer, b) + kv_head * k_head_bytes_; }
  const void* v_block(int layer, int b, int kv_head) const {
    return block(layer, b) + k_bytes_ + kv_head * v_head_bytes_;
  }

 private:
  uint8_t* block(int layer, int b) const {
    return blocks_[size_t(layer) * n_blocks_ + size_t(table_[b])];
  }
  KVType type_;
  int n_layers_, n_kv_heads_, head_dim_, head_dim_v_;
  int n_ctx_ = 0, n_blocks_ = 0, n_tokens_ = 0;
  size_t k_head_bytes_ = 0, v_head_bytes_ = 0, k_bytes_ = 0, block_bytes_ = 0, storage_bytes_ = 0;
  std::vector<int32_t> table_;           // [n_blocks] logical → physical block (identity here; paged later)
  std::vector<uint8_t*> blocks_;         // [n_layers * n_blocks] block base pointers into storage_
  std::unique_ptr<uint8_t[], void (*)(void*)> storage_{nullptr, nullptr};
};

// IEEE half conversions (round to nearest even), used for the f16 cache.
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);

}  // namespace cj
