#include "engine/kv_cache.h"

#include <cstdlib>
#include <cstring>

#include "engine/base/result.h"

namespace cj {

const char* kv_type_name(KVType t) { return t == KVType::F32 ? "f32" : "f16"; }
bool kv_type_from_name(const std::string& s, KVType* out) {
  if (s == "f32") *out = KVType::F32;
  else if (s == "f16") *out = KVType::F16;
  else return false;
  return true;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t mant = x & 0x7fffff;
  int32_t exp = int32_t((x >> 23) & 0xff);
  if (exp == 0xff) return uint16_t(sign | 0x7c00 | (mant ? 0x200 : 0));  // inf / nan
  exp = exp - 127 + 15;
  if (exp >= 0x1f) return uint16_t(sign | 0x7c00);  // overflow → inf
  if (exp <= 0) {                                    // subnormal or zero
    if (exp < -10) return uint16_t(sign);
    mant |= 0x800000;
    int shift = 14 - exp;
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = sign | (uint32_t(exp) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;  // may carry into the exponent: correct
  return uint16_t(half);
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalize
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) { mant <<= 1; --exp; }
      x = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 0x1f) {
    x = sign | 0x7f800000 | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

KVCache::KVCache(const ModelConfig& c, int n_ctx, KVType type)
    : type_(type), n_layers_(c.n_layers), n_kv_heads_(c.n_kv_heads), head_dim_(c.head_dim), head_dim_v_(c.head_dim_v) {
  CJ_ASSERT(n_ctx > 0);
  n_blocks_ = (n_ctx + kBlockTokens - 1) / kBlockTokens;
  n_ctx_ = n_ctx;
  k_head_bytes_ = size_t(kBlockTokens) * head_dim_ * elem_bytes();
  v_head_bytes_ = size_t(kBlockTokens) * head_dim_v_ * elem_bytes();
  k_bytes_ = k_head_bytes_ * n_kv_heads_;
  block_bytes_ = k_bytes_ + v_head_bytes_ * n_kv_heads_;
  block_bytes_ = (block_bytes_ + 63) / 64 * 64;
  storage_bytes_ = block_bytes_ * size_t(n_blocks_) * n_layers_;
  void* p = std::aligned_alloc(64, storage_bytes_);
  CJ_ASSERT_MSG(p != nullptr, "out of memory for the KV cache");
  std::memset(p, 0, storage_bytes_);
  storage_ = {static_cast<uint8_t*>(p), std::free};
  table_.resize(n_blocks_);
  for (int b = 0; b < n_blocks_; ++b) table_[b] = b;
  blocks_.resize(size_t(n_layers_) * n_blocks_);
  for (size_t i = 0; i < blocks_.size(); ++i) blocks_[i] = storage_.get() + i * block_bytes_;
}

void KVCache::set_n_tokens(int n) {
  CJ_ASSERT(n >= 0 && n <= n_ctx_);
  n_tokens_ = n;
}

size_t KVCache::bytes_read_per_token(int n) const {
  return size_t(n) * n_layers_ * n_kv_heads_ * (head_dim_ + head_dim_v_) * elem_bytes();
}

void KVCache::store(int layer, int pos, const float* k, const float* v) {
  CJ_ASSERT(pos >= 0 && pos < n_ctx_ && layer >= 0 && layer < n_layers_);
  const int b = pos / kBlockTokens, t = pos % kBlockTokens;
  for (int h = 0; h < n_kv_heads_; ++h) {
    uint8_t* kd = const_cast<uint8_t*>(static_cast<const uint8_t*>(k_block(layer, b, h))) + size_t(t) * head_dim_ * elem_bytes();
    uint8_t* vd = const_cast<uint8_t*>(static_cast<const uint8_t*>(v_block(layer, b, h))) + size_t(t) * head_dim_v_ * elem_bytes();
    const float* ks = k + size_t(h) * head_dim_;
    const float* vs = v + size_t(h) * head_dim_v_;
    if (type_ == KVType::F32) {
      std::memcpy(kd, ks, head_dim_ * 4);
      std::memcpy(vd, vs, head_dim_v_ * 4);
    } else {
      auto* k16 = reinterpret_cast<uint16_t*>(kd);
      auto* v16 = reinterpret_cast<uint16_t*>(vd);
      for (int i = 0; i < head_dim_; ++i) k16[i] = f32_to_f16(ks[i]);
      for (int i = 0; i < head_dim_v_; ++i) v16[i] = f32_to_f16(vs[i]);
    }
  }
}

}  // namespace cj
