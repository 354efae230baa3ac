#include "engine/kv/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cj {

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

void kv_encode_row(KVType t, const float* x, int n, uint8_t* dst) {
  if (t == KVType::F32) {
    std::memcpy(dst, x, size_t(n) * 4);
  } else if (t == KVType::F16) {
    auto* h = reinterpret_cast<uint16_t*>(dst);
    for (int i = 0; i < n; ++i) h[i] = f32_to_f16(x[i]);
  } else {
    constexpr int QB = KVLayout::kQ8Block;
    for (int b = 0; b < n / QB; ++b, dst += 2 + QB) {
      const float* xb = x + b * QB;
      float amax = 0;
      for (int i = 0; i < QB; ++i) amax = std::max(amax, std::fabs(xb[i]));
      const uint16_t dh = f32_to_f16(amax / 127.0f);
      const float d = f16_to_f32(dh), id = d > 0 ? 1.0f / d : 0.0f;
      std::memcpy(dst, &dh, 2);
      auto* q = reinterpret_cast<int8_t*>(dst + 2);
      for (int i = 0; i < QB; ++i) q[i] = int8_t(std::clamp(std::lrintf(xb[i] * id), -127L, 127L));
    }
  }
}

void kv_decode_row(KVType t, const uint8_t* src, int n, float* y) {
  if (t == KVType::F32) {
    std::memcpy(y, src, size_t(n) * 4);
  } else if (t == KVType::F16) {
    const auto* h = reinterpret_cast<const uint16_t*>(src);
    for (int i = 0; i < n; ++i) y[i] = f16_to_f32(h[i]);
  } else {
    constexpr int QB = KVLayout::kQ8Block;
    for (int b = 0; b < n / QB; ++b, src += 2 + QB) {
      uint16_t dh;
      std::memcpy(&dh, src, 2);
      const float d = f16_to_f32(dh);
      const auto* q = reinterpret_cast<const int8_t*>(src + 2);
      for (int i = 0; i < QB; ++i) y[b * QB + i] = d * float(q[i]);
    }
  }
}

Result<std::unique_ptr<KVCache>> KVCache::create(const ModelConfig& c, const KVCacheOptions& o) {
  std::unique_ptr<KVCache> kv(new KVCache());
  CJ_TRY(kv->init(c, o, nullptr));
  return kv;
}

Result<std::unique_ptr<KVCache>> KVCache::create(const ModelConfig& c, const KVCacheOptions& o, KVPool* shared) {
  CJ_ASSERT(shared);
  std::unique_ptr<KVCache> kv(new KVCache());
  CJ_TRY(kv->init(c, o, shared));
  return kv;
}

int KVCache::n_pages_held() const {
  int n = 0;
  for (int32_t p : table_) n += p >= 0;
  return n;
}

KVCache::KVCache(const ModelConfig& c, int n_ctx, KVType type) {
  KVCacheOptions o;
  o.type = type;
  o.n_ctx = n_ctx;
  Status s = init(c, o, nullptr);
  CJ_ASSERT_MSG(s.ok(), s.ok() ? "" : s.error().c_str());
}

KVCache::~KVCache() {
  if (pool_ && !table_.empty()) truncate(0);
}

Status KVCache::init(const ModelConfig& c, const KVCacheOptions& o, KVPool* shared) {
  if (o.n_ctx < 1 || o.n_ctx > kMaxCtx)
    return make_error("the context size must be between 1 and " + std::to_string(kMaxCtx) + " tokens");
  if (o.sink_blocks < 0 || o.recent_blocks < 2) return make_error("KV cache: at least two recent blocks stay hot");
  o_ = o;
  auto L = KVLayout::make(c, o.type);
  if (!L.ok()) return make_error(L.error());
  L_ = *L;
  n_ctx_ = o.n_ctx;
  max_blocks_ = (n_ctx_ + kBlockTokens - 1) / kBlockTokens;
  if (shared) {
    if (shared->layout().page_bytes != L_.page_bytes || shared->layout().type != L_.type)
      return make_error("KV cache: the shared pool has another layout");
    if (o_.summaries && !shared->has_summaries())
      return make_error("KV cache: page selection needs key summaries, which the shared pool does not keep");
    pool_ = shared;
  } else {
    o_.pool.n_ctx = n_ctx_;
    o_.pool.summaries = o_.summaries;
    auto p = KVPool::create(L_, o_.pool);
    if (!p.ok()) return make_error(p.error());
    owned_pool_ = std::move(p.value());
    pool_ = owned_pool_.get();
  }
  const size_t hot_pages = size_t(std::min(o_.sink_blocks + o_.recent_blocks + 1, max_blocks_)) * L_.n_layers;
  if (pool_->stats().host_capacity < hot_pages * L_.page_bytes)
    return make_error("the KV host budget (" + std::to_string(pool_->stats().host_budget >> 10) + " KiB) is smaller " +
                      "than the blocks that stay hot (" + std::to_string(hot_pages * L_.page_bytes >> 10) +
                      " KiB: attention sinks + recent window); raise --kv-host-mb");
  table_.assign(size_t(max_blocks_) * L_.n_layers, -1);
  hot_.assign(table_.size(), 0);
  tokens_.assign(size_t(n_ctx_), 0);
  hashes_.assign(size_t(max_blocks_), 0);
  return {};
}

size_t KVCache::bytes_read_per_token(int n) const {
  return size_t(n) * L_.token_bytes();
}

void KVCache::set_hot(int layer, int b, bool hot) {
  const size_t i = size_t(b) * L_.n_layers + size_t(layer);
  if (bool(hot_[i]) == hot) return;
  hot_[i] = hot;
  if (table_[i] >= 0) pool_->set_hot(table_[i], hot);
}

void KVCache::assign(int layer, int b, int p) {
  const size_t i = size_t(b) * L_.n_layers + size_t(layer);
  const int old = table_[i];
  if (old == p) return;
  if (old >= 0) {
    if (hot_[i]) pool_->set_hot(old, false);
    pool_->unref(old);
  }
  table_[i] = p;
  if (p >= 0 && hot_[i]) pool_->set_hot(p, true);
}

void KVCache::update_hot(int first_written, int n_blocks) {
  const int recent0 = std::min(first_written, n_blocks - o_.recent_blocks);
  for (int b = 0; b < max_blocks_; ++b) {
    const bool want = b < n_blocks && (b < o_.sink_blocks || b >= recent0);
    for (int l = 0; l < L_.n_layers; ++l) set_hot(l, b, want);
  }
}

Status KVCache::prepare(int pos0, int n) {
  if (pos0 < 0 || pos0 > n_tokens_ || n < 0 || pos0 + n > n_ctx_) return make_error("KV cache: bad store range");
  if (n == 0) return {};
  const int b0 = pos0 / kBlockTokens, b1 = (pos0 + n - 1) / kBlockTokens + 1;
  update_hot(b0, std::max(b1, n_blocks_used()));
  for (int b = b0; b < b1; ++b)
    for (int l = 0; l < L_.n_layers; ++l) {
      int p = page(l, b);
      if (p < 0) {
        const int q = pool_->alloc();
        if (q < 0) return make_error(pool_->error());
        assign(l, b, q);  // the table holds the reference alloc() gave
        continue;
      }
      if (pool_->refs(p) > 1 || pool_->cached(p)) {  // shared: copy on write
        const int q = pool_->alloc();
        if (q < 0) return make_error(pool_->error());
        const uint8_t* src = pool_->read(p, 0, L_.page_bytes, pool_->host(q));
        if (src != pool_->host(q)) std::memcpy(pool_->host(q), src, L_.page_bytes);
        if (pool_->has_summaries())
          std::memcpy(pool_->summary(q, 0), pool_->summary(p, 0), pool_->summary_stride() * L_.n_kv_heads * 2);
        assign(l, b, q);  // drops our reference to p
        p = q;
      }
      if (!pool_->make_writable(p)) return make_error(pool_->error());
    }
  return {};
}

void KVCache::summarize(int p, int h, int t, const float* k) {
  // Channel d, unit u = t / kSummaryTokens: the word (max, min) at [(d * U + u) * 2] (KVPool::summary). A unit's
  // first token resets it (a unit rewritten after a truncation mid-unit keeps the old keys' extremes too: still a
  // bound).
  constexpr int U = KVPool::kSummaryUnits;
  uint16_t* s = pool_->summary(p, h) + (t / KVPool::kSummaryTokens) * 2;
  const int D = L_.head_dim;
  const bool first = t % KVPool::kSummaryTokens == 0;
  for (int d = 0; d < D; ++d) {
    uint16_t* w = s + size_t(d) * U * 2;
    const float x = k[d];
    if (first || x > q::bf16_to_f32(w[0])) w[0] = KVPool::bf16_round(x, true);
    if (first || x < q::bf16_to_f32(w[1])) w[1] = KVPool::bf16_round(x, false);
  }
}

void KVCache::rebuild_summaries(int layer, int b, int n) {
  if (!pool_->has_summaries()) return;
  const int p = page(layer, b);
  std::vector<float> row(static_cast<size_t>(L_.head_dim));
  for (int h = 0; h < L_.n_kv_heads; ++h) {
    const uint8_t* kh = pool_->host(p) + L_.k_offset(h);
    for (int t = 0; t < n; ++t) {
      kv_decode_row(L_.type, kh + size_t(t) * L_.k_row_bytes, L_.head_dim, row.data());
      summarize(p, h, t, row.data());
    }
  }
}

void KVCache::store(int layer, int pos, const float* k, const float* v) {
  const int b = pos / kBlockTokens, t = pos % kBlockTokens;
  uint8_t* base = pool_->host(page(layer, b));
  for (int h = 0; h < L_.n_kv_heads; ++h) {
    kv_encode_row(L_.type, k + size_t(h) * L_.head_dim, L_.head_dim, base + L_.k_offset(h) + size_t(t) * L_.k_row_bytes);
    if (!L_.v_in_k)
      kv_encode_row(L_.type, v + size_t(h) * L_.head_dim_v, L_.head_dim_v,
                    base + L_.v_offset(h) + size_t(t) * L_.v_row_bytes);
  }
  if (pool_->has_summaries()) {  // bounds of the keys as stored (what attention reads, and a restore rebuilds)
    thread_local std::vector<float> row;
    row.resize(size_t(L_.head_dim));
    for (int h = 0; h < L_.n_kv_heads; ++h) {
      kv_decode_row(L_.type, base + L_.k_offset(h) + size_t(t) * L_.k_row_bytes, L_.head_dim, row.data());
      summarize(page(layer, b), h, t, row.data());
    }
  }
}

void KVCache::commit(int pos0, const int32_t* tokens, int n) {
  CJ_ASSERT(pos0 >= 0 && pos0 + n <= n_ctx_);
  std::copy(tokens, tokens + n, tokens_.begin() + pos0);
  n_tokens_ = pos0 + n;
  for (int b = pos0 / kBlockTokens; (b + 1) * kBlockTokens <= n_tokens_; ++b) {
    const uint64_t prev = b == 0 ? o_.model_id : hashes_[size_t(b - 1)];
    hashes_[size_t(b)] = kv_block_hash(prev, o_.model_id, tokens_.data() + size_t(b) * kBlockTokens, kBlockTokens);
    int pages[KVLayout::kMaxLayers];
    for (int l = 0; l < L_.n_layers; ++l) pages[l] = page(l, b);
    pool_->insert(hashes_[size_t(b)], pages);
  }
  update_hot(n_blocks_used(), n_blocks_used());
}

void KVCache::truncate(int n) {
  CJ_ASSERT(n >= 0 && n <= n_tokens_);
  const int keep = (n + kBlockTokens - 1) / kBlockTokens;
  for (int b = keep; b < max_blocks_; ++b)
    for (int l = 0; l < L_.n_layers; ++l) {
      set_hot(l, b, false);
      assign(l, b, -1);
    }
  n_tokens_ = n;
  update_hot(keep, keep);
}

int KVCache::reuse_prefix(const int32_t* toks, int n) {
  int keep = 0;
  while (keep < n_tokens_ && keep < n && tokens_[size_t(keep)] == toks[keep]) ++keep;
  truncate(keep);
  int b = keep / kBlockTokens;
  uint64_t h = b == 0 ? o_.model_id : hashes_[size_t(b - 1)];
  int pages[KVLayout::kMaxLayers];
  while ((b + 1) * kBlockTokens <= n && b < max_blocks_) {
    const uint64_t key = kv_block_hash(h, o_.model_id, toks + size_t(b) * kBlockTokens, kBlockTokens);
    if (!pool_->lookup(key, pages)) break;
    for (int l = 0; l < L_.n_layers; ++l) {
      if (page(l, b) == pages[l]) continue;
      pool_->ref(pages[l]);  // held by the table
      assign(l, b, pages[l]);
    }
    hashes_[size_t(b)] = key;
    std::copy(toks + size_t(b) * kBlockTokens, toks + size_t(b + 1) * kBlockTokens, tokens_.begin() + size_t(b) * kBlockTokens);
    h = key;
    keep = (b + 1) * kBlockTokens;
    ++b;
  }
  n_tokens_ = keep;
  update_hot(n_blocks_used(), n_blocks_used());
  return keep;
}

void KVCache::share_from(const KVCache& other) {
  CJ_ASSERT(other.pool_ == pool_ && other.n_tokens_ <= n_ctx_);
  truncate(0);
  const int nb = other.n_blocks_used();
  for (int b = 0; b < nb; ++b)
    for (int l = 0; l < L_.n_layers; ++l) {
      const int p = other.page(l, b);
      pool_->ref(p);  // held by this table
      assign(l, b, p);
    }
  std::copy(other.tokens_.begin(), other.tokens_.begin() + other.n_tokens_, tokens_.begin());
  std::copy(other.hashes_.begin(), other.hashes_.begin() + nb, hashes_.begin());
  n_tokens_ = other.n_tokens_;
  update_hot(n_blocks_used(), n_blocks_used());
}

}  // namespace cj
