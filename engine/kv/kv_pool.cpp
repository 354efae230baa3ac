#include "engine/kv/kv_pool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace cj {

const char* kv_type_name(KVType t) {
  switch (t) {
    case KVType::F32: return "f32";
    case KVType::F16: return "f16";
    case KVType::Q8_0: return "q8_0";
  }
  return "?";
}
bool kv_type_from_name(const std::string& s, KVType* out) {
  if (s == "f32") *out = KVType::F32;
  else if (s == "f16") *out = KVType::F16;
  else if (s == "q8_0") *out = KVType::Q8_0;
  else return false;
  return true;
}

size_t kv_row_bytes(KVType t, int n) {
  switch (t) {
    case KVType::F32: return size_t(n) * 4;
    case KVType::F16: return size_t(n) * 2;
    case KVType::Q8_0: return size_t(n / KVLayout::kQ8Block) * (2 + KVLayout::kQ8Block);
  }
  return 0;
}

Result<KVLayout> KVLayout::make(const ModelConfig& c, KVType type) {
  if (c.n_layers > kMaxLayers) return make_error("KV cache: more than 512 layers");
  if (c.n_layers <= 0 || c.n_kv_heads <= 0 || c.head_dim <= 0 || c.head_dim_v <= 0)
    return make_error("KV cache: the model shape is empty");
  if (c.kv_v_in_k && (c.n_kv_heads != 1 || c.head_dim_v > c.head_dim))
    return make_error("KV cache: a latent cache has one head whose value is a prefix of its key");
  if (type == KVType::Q8_0 && (c.head_dim % kQ8Block || c.head_dim_v % kQ8Block))
    return make_error("KV cache: q8_0 needs head sizes that are multiples of 32 (this model: " +
                      std::to_string(c.head_dim) + "/" + std::to_string(c.head_dim_v) + "); use --kv-type f16");
  KVLayout L;
  L.type = type;
  L.n_layers = c.n_layers;
  L.n_kv_heads = c.n_kv_heads;
  L.head_dim = c.head_dim;
  L.head_dim_v = c.head_dim_v;
  L.v_in_k = c.kv_v_in_k;
  L.k_row_bytes = kv_row_bytes(type, c.head_dim);
  L.v_row_bytes = L.v_in_k ? 0 : kv_row_bytes(type, c.head_dim_v);
  L.k_head_bytes = L.k_row_bytes * kBlockTokens;
  L.v_head_bytes = L.v_row_bytes * kBlockTokens;
  L.page_bytes = (size_t(c.n_kv_heads) * (L.k_head_bytes + L.v_head_bytes) + 63) / 64 * 64;
  return L;
}

// ---- hashing ---------------------------------------------------------------------------------------------------

namespace {
inline uint64_t mix64(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}
}  // namespace

uint64_t kv_block_hash(uint64_t prev, uint64_t model_id, const int32_t* tokens, int n) {
  uint64_t h = hash_bytes(tokens, size_t(n) * 4, prev ^ mix64(model_id));
  return h < 2 ? h + 2 : h;
}

// ---- pool ------------------------------------------------------------------------------------------------------

Result<std::unique_ptr<KVPool>> KVPool::create(const KVLayout& layout, const KVPoolOptions& o) {
  const size_t pb = layout.page_bytes;
  const size_t ctx_blocks = (size_t(std::max(o.n_ctx, 1)) + KVLayout::kBlockTokens - 1) / KVLayout::kBlockTokens;
  const size_t full = ctx_blocks * size_t(layout.n_layers) * pb;
  const size_t host_budget = o.host_bytes ? o.host_bytes : full;
  const size_t disk_budget = o.disk_path.empty() ? 0 : (o.disk_bytes ? o.disk_bytes : full);
  std::vector<std::unique_ptr<KVArena>> tiers;
  auto host = make_host_arena(pb, int(std::min<size_t>(host_budget / pb, size_t(1) << 30)));
  if (!host.ok()) return make_error(host.error());
  tiers.push_back(std::move(host.value()));
  if (!o.disk_path.empty()) {
    auto disk = make_disk_arena(pb, int(std::min<size_t>(disk_budget / pb, size_t(1) << 30)), o.disk_path);
    if (!disk.ok()) return make_error(disk.error());
    tiers.push_back(std::move(disk.value()));
  }
  auto p = create(layout, std::move(tiers), 0);
  if (!p.ok()) return p;
  if (o.summaries) (*p)->enable_summaries();
  (*p)->host_budget_ = host_budget;
  (*p)->disk_budget_ = disk_budget;
  return p;
}

void KVPool::enable_summaries() {
  summary_stride_ = size_t(2) * size_t(L_.head_dim) * kSummaryUnits;
  summaries_.assign(pages_.size() * size_t(L_.n_kv_heads) * summary_stride_, 0);
}

Result<std::unique_ptr<KVPool>> KVPool::create(const KVLayout& layout, std::vector<std::unique_ptr<KVArena>> tiers,
                                               int home) {
  if (tiers.empty() || tiers.size() > 8 || home < 0 || home >= int(tiers.size()))
    return make_error("KV pool: bad tier list");
  std::unique_ptr<KVPool> p(new KVPool());
  p->L_ = layout;
  p->home_ = home;
  int n_pages = 0;
  for (auto& t : tiers) {
    if (t->page_bytes() != layout.page_bytes) return make_error("KV pool: a tier has another page size");
    n_pages += t->capacity();
    p->host_budget_ += t->kind() == KVTier::Host ? size_t(t->capacity()) * layout.page_bytes : 0;
    p->disk_budget_ += t->kind() == KVTier::Disk ? size_t(t->capacity()) * layout.page_bytes : 0;
  }
  p->tiers_ = std::move(tiers);
  p->pages_.resize(size_t(n_pages));
  p->free_pages_.reserve(size_t(n_pages));
  for (int i = n_pages - 1; i >= 0; --i) p->free_pages_.push_back(i);
  p->head_.assign(p->tiers_.size() * 2, -1);
  p->tail_.assign(p->tiers_.size() * 2, -1);
  p->peak_.assign(p->tiers_.size(), 0);
  p->staging_.resize(layout.page_bytes);
  size_t cap = 16;
  while (cap < 2 * size_t(n_pages / layout.n_layers + 1)) cap *= 2;
  p->keys_.assign(cap, 0);
  p->map_pages_.assign(cap * size_t(layout.n_layers), -1);
  return p;
}

KVPool::~KVPool() = default;

void KVPool::fail_io(const std::string& what) const {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (!io_failed_.exchange(true)) io_error_ = what + ": " + std::strerror(errno);
}

void KVPool::note_peak(int t) {
  peak_[size_t(t)] = std::max(peak_[size_t(t)], size_t(tiers_[size_t(t)]->used()) * L_.page_bytes);
}

// ---- LRU lists --------------------------------------------------------------------------------------------------

int KVPool::list_of(const Page& g) const {
  if (g.tier < 0 || g.hot > 0) return -1;
  if (g.refs > 0) return 2 * g.tier;
  return g.key_slot >= 0 ? 2 * g.tier + 1 : -1;
}

void KVPool::unlink(int p) {
  Page& g = pages_[p];
  if (g.list < 0) return;
  if (g.prev >= 0) pages_[g.prev].next = g.next;
  else head_[size_t(g.list)] = g.next;
  if (g.next >= 0) pages_[g.next].prev = g.prev;
  else tail_[size_t(g.list)] = g.prev;
  g.list = -1;
  g.prev = g.next = -1;
}

void KVPool::relist(int p) {
  unlink(p);
  Page& g = pages_[p];
  const int l = list_of(g);
  if (l < 0) return;
  g.list = int8_t(l);
  g.prev = tail_[size_t(l)];
  g.next = -1;
  if (g.prev >= 0) pages_[g.prev].next = p;
  else head_[size_t(l)] = p;
  tail_[size_t(l)] = p;
}

void KVPool::ref(int p) {
  if (pages_[p].refs++ == 0) relist(p);
}

void KVPool::set_hot(int p, bool hot) {
  Page& g = pages_[p];
  const bool was = g.hot > 0;
  g.hot += hot ? 1 : -1;
  if (was != (g.hot > 0)) relist(p);  // cooling down counts as a use: it joins its list as the newest
}

// ---- slots ------------------------------------------------------------------------------------------------------

bool KVPool::move_page(int p, int to) {
  Page& g = pages_[p];
  const int s = tiers_[size_t(to)]->allocate();
  CJ_ASSERT(s >= 0);
  if (!kv_copy(*tiers_[size_t(g.tier)], g.slot, *tiers_[size_t(to)], s, staging_.data())) {
    tiers_[size_t(to)]->release(s);
    fail_io(tiers_[size_t(to)]->describe() + " / " + tiers_[size_t(g.tier)]->describe());
    error_ = io_error_;
    return false;
  }
  tiers_[size_t(g.tier)]->release(g.slot);
  if (to > g.tier) ++demoted_;
  else ++promoted_;
  g.tier = int8_t(to);
  g.slot = s;
  note_peak(to);
  relist(p);
  return true;
}

int KVPool::take_slot(int t, int keep) {
  KVArena& a = *tiers_[size_t(t)];
  if (!a.full()) return 0;
  // The least recently used cold page of this tier moves to the next tier (which makes room the same way).
  // Pages only the prefix cache holds go before cold pages of live sequences. `keep` is hot, so on no list.
  if (t + 1 < int(tiers_.size())) {
    const int victim = head_[size_t(2 * t + 1)] >= 0 ? head_[size_t(2 * t + 1)] : head_[size_t(2 * t)];
    if (victim >= 0 && take_slot(t + 1, keep) == 0) {
      if (!a.full()) return 0;  // making room below dropped a cached block that had a page here
      return move_page(victim, t + 1) ? 0 : -1;
    }
  }
  // Nowhere to move: drop a page only the prefix cache holds (with its whole block).
  const int victim = head_[size_t(2 * t + 1)];
  if (victim >= 0 && victim != keep) {
    drop_cached(pages_[victim].key_slot);
    if (!a.full()) return 0;
  }
  if (error_.empty()) {
    if (head_[size_t(2 * t)] >= 0)
      error_ = "the KV budgets are full: host " + std::to_string(host_budget_ >> 20) + " MiB, disk " +
               std::to_string(disk_budget_ >> 20) + " MiB hold " + std::to_string(pages_.size()) +
               " layer-blocks; raise --kv-host-mb or give --kv-disk with more room";
    else
      error_ = "the KV " + std::string(kv_tier_name(a.kind())) + " budget (" +
               std::to_string((size_t(a.capacity()) * L_.page_bytes) >> 20) +
               " MiB) is full of hot blocks (attention sinks and the recent window of every sequence); raise "
               "--kv-host-mb or run fewer sequences";
  }
  return -1;
}

int KVPool::alloc() {
  error_.clear();
  if (take_slot(home_, -1) < 0) return -1;
  CJ_ASSERT(!free_pages_.empty());  // pages <= slots of all tiers
  const int p = free_pages_.back();
  free_pages_.pop_back();
  Page& g = pages_[p];
  g = Page();
  g.refs = 1;
  g.tier = int8_t(home_);
  g.slot = tiers_[size_t(home_)]->allocate();
  note_peak(home_);
  relist(p);
  return p;
}

void KVPool::release(int p) {
  unlink(p);
  Page& g = pages_[p];
  if (g.tier >= 0) tiers_[size_t(g.tier)]->release(g.slot);
  g = Page();
  free_pages_.push_back(p);
}

void KVPool::unref(int p) {
  Page& g = pages_[p];
  CJ_ASSERT(g.refs > 0);
  if (--g.refs == 0) {
    if (g.key_slot < 0) release(p);
    else relist(p);  // now only the prefix cache holds it
  }
}

bool KVPool::make_writable(int p) {
  Page& g = pages_[p];
  error_.clear();
  if (g.tier != home_) {
    ++g.hot;  // keep it from being chosen while room is made
    relist(p);
    const bool ok = take_slot(home_, p) == 0 && move_page(p, home_);
    --g.hot;
    relist(p);
    if (!ok) return false;
    return true;
  }
  relist(p);  // just written: the newest of its list
  return true;
}

const uint8_t* KVPool::read(int p, size_t off, size_t n, uint8_t* dst) const {
  const Page& g = pages_[p];
  KVArena& a = *tiers_[size_t(g.tier)];
  if (uint8_t* h = a.host_ptr(g.slot)) return h + off;
  disk_reads_.fetch_add(1, std::memory_order_relaxed);
  if (!a.read(g.slot, off, n, dst)) {
    fail_io(a.describe() + ": read");
    std::memset(dst, 0, n);
  }
  return dst;
}

bool KVPool::lookup(uint64_t key, int* pages) const {
  const size_t mask = keys_.size() - 1;
  for (size_t i = key & mask, n = 0; n < keys_.size(); i = (i + 1) & mask, ++n) {
    if (keys_[i] == 0) return false;
    if (keys_[i] == key) {
      for (int l = 0; l < L_.n_layers; ++l) pages[l] = map_pages_[i * size_t(L_.n_layers) + size_t(l)];
      return true;
    }
  }
  return false;
}

void KVPool::insert(uint64_t key, const int* pages) {
  const size_t mask = keys_.size() - 1;
  int64_t free_at = -1;
  for (size_t i = key & mask, n = 0; n < keys_.size(); i = (i + 1) & mask, ++n) {
    if (keys_[i] == key) return;
    if (keys_[i] == kTomb && free_at < 0) free_at = int64_t(i);
    if (keys_[i] == 0) {
      if (free_at < 0) free_at = int64_t(i);
      break;
    }
  }
  if (free_at < 0) return;  // cannot happen: capacity is twice the pages
  for (int l = 0; l < L_.n_layers; ++l)
    if (pages_[pages[l]].key_slot >= 0) return;  // a page belongs to one cached block at most
  keys_[size_t(free_at)] = key;
  for (int l = 0; l < L_.n_layers; ++l) {
    map_pages_[size_t(free_at) * L_.n_layers + l] = pages[l];
    pages_[pages[l]].key_slot = free_at;
    relist(pages[l]);
  }
  ++cached_;
}

void KVPool::drop_cached(int64_t slot) {
  if (slot < 0) return;
  keys_[size_t(slot)] = kTomb;
  --cached_;
  ++dropped_;
  for (int l = 0; l < L_.n_layers; ++l) {
    int& p = map_pages_[size_t(slot) * L_.n_layers + l];
    pages_[p].key_slot = -1;
    if (pages_[p].refs == 0) release(p);
    p = -1;
  }
}

KVPoolStats KVPool::stats() const {
  KVPoolStats s;
  const size_t pb = L_.page_bytes;
  s.page_bytes = pb;
  s.host_budget = host_budget_;
  s.disk_budget = disk_budget_;
  for (size_t t = 0; t < tiers_.size(); ++t) {
    const KVArena& a = *tiers_[t];
    KVPoolStats::Tier ts;
    ts.kind = a.kind();
    ts.capacity = size_t(a.capacity()) * pb;
    ts.used = size_t(a.used()) * pb;
    ts.peak = peak_[t];
    s.tiers.push_back(ts);
    if (a.kind() == KVTier::Host) {
      s.host_capacity += ts.capacity;
      s.host_used += ts.used;
      s.host_peak += ts.peak;
    } else if (a.kind() == KVTier::Disk) {
      s.disk_capacity += ts.capacity;
      s.disk_used += ts.used;
      s.disk_peak += ts.peak;
    }
  }
  s.meta_bytes = pages_.size() * sizeof(Page) + keys_.size() * 8 + map_pages_.size() * 4 + free_pages_.capacity() * 4 +
                 summaries_.size() * 2;
  s.demoted = demoted_;
  s.promoted = promoted_;
  s.dropped = dropped_;
  s.disk_reads = disk_reads_.load();
  s.cached_blocks = cached_;
  return s;
}

}  // namespace cj
