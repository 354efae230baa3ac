#include "engine/kv_pool.h"

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
const char* kv_tier_name(KVTier t) { return t == KVTier::Host ? "host" : t == KVTier::Disk ? "disk" : "none"; }

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
  if (type == KVType::Q8_0 && (c.head_dim % kQ8Block || c.head_dim_v % kQ8Block))
    return make_error("KV cache: q8_0 needs head sizes that are multiples of 32 (this model: " +
                      std::to_string(c.head_dim) + "/" + std::to_string(c.head_dim_v) + "); use --kv-type f16");
  KVLayout L;
  L.type = type;
  L.n_layers = c.n_layers;
  L.n_kv_heads = c.n_kv_heads;
  L.head_dim = c.head_dim;
  L.head_dim_v = c.head_dim_v;
  L.k_row_bytes = kv_row_bytes(type, c.head_dim);
  L.v_row_bytes = kv_row_bytes(type, c.head_dim_v);
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

uint64_t hash_bytes(const void* data, size_t n, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = mix64(seed ^ (0x9e3779b97f4a7c15ull + n));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = mix64(h ^ w) + 0x9e3779b97f4a7c15ull;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p + i, n - i);
  return mix64(h ^ tail ^ (uint64_t(n - i) << 56));
}

uint64_t kv_block_hash(uint64_t prev, uint64_t model_id, const int32_t* tokens, int n) {
  uint64_t h = hash_bytes(tokens, size_t(n) * 4, prev ^ mix64(model_id));
  return h < 2 ? h + 2 : h;
}

// ---- pool ------------------------------------------------------------------------------------------------------

Result<std::unique_ptr<KVPool>> KVPool::create(const KVLayout& layout, const KVPoolOptions& o) {
  std::unique_ptr<KVPool> p(new KVPool());
  p->L_ = layout;
  const size_t pb = layout.page_bytes;
  const size_t ctx_blocks = (size_t(std::max(o.n_ctx, 1)) + KVLayout::kBlockTokens - 1) / KVLayout::kBlockTokens;
  const size_t full = ctx_blocks * size_t(layout.n_layers) * pb;
  p->host_budget_ = o.host_bytes ? o.host_bytes : full;
  p->disk_budget_ = o.disk_path.empty() ? 0 : (o.disk_bytes ? o.disk_bytes : full);
  p->n_host_ = int(std::min<size_t>(p->host_budget_ / pb, size_t(1) << 30));
  p->n_disk_ = int(std::min<size_t>(p->disk_budget_ / pb, size_t(1) << 30));
  if (p->n_host_ > 0) {
    void* mem = std::aligned_alloc(64, size_t(p->n_host_) * pb);
    if (!mem)
      return make_error("out of memory for the KV host tier (" + std::to_string((size_t(p->n_host_) * pb) >> 20) +
                        " MiB); lower --kv-host-mb");
    std::memset(mem, 0, size_t(p->n_host_) * pb);
    p->host_base_ = static_cast<uint8_t*>(mem);
  }
  if (!o.disk_path.empty()) {
    p->disk_fd_ = ::open(o.disk_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (p->disk_fd_ < 0)
      return make_error("cannot create the KV spill file " + o.disk_path + ": " + std::strerror(errno));
    p->disk_path_ = o.disk_path;
    if (::ftruncate(p->disk_fd_, off_t(size_t(p->n_disk_) * pb)) != 0)
      return make_error("cannot size the KV spill file " + o.disk_path + ": " + std::strerror(errno));
  }
  const int n_pages = p->n_host_ + p->n_disk_;
  p->pages_.resize(size_t(n_pages));
  p->free_pages_.reserve(size_t(n_pages));
  for (int i = n_pages - 1; i >= 0; --i) p->free_pages_.push_back(i);
  for (int i = p->n_host_ - 1; i >= 0; --i) p->free_host_.push_back(i);
  for (int i = p->n_disk_ - 1; i >= 0; --i) p->free_disk_.push_back(i);
  size_t cap = 16;
  while (cap < 2 * size_t(n_pages / layout.n_layers + 1)) cap *= 2;
  p->keys_.assign(cap, 0);
  p->map_pages_.assign(cap * size_t(layout.n_layers), -1);
  return p;
}

KVPool::~KVPool() {
  std::free(host_base_);
  if (disk_fd_ >= 0) {
    ::close(disk_fd_);
    ::unlink(disk_path_.c_str());
  }
}

void KVPool::fail_io(const char* what) const {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (!io_failed_.exchange(true)) io_error_ = std::string("KV spill file ") + disk_path_ + ": " + what + ": " + std::strerror(errno);
}

int KVPool::take_host_slot() {
  if (!free_host_.empty()) {
    int s = free_host_.back();
    free_host_.pop_back();
    return s;
  }
  // Demote the least recently written page that is not hot (live or cache-only alike: LRU by write stamp). When
  // the disk tier has no room, a page only the prefix cache holds is dropped first (a live one cannot go).
  int victim = -1;
  for (int pass = free_disk_.empty() ? 0 : 1; pass < 2 && victim < 0; ++pass)
    for (int p = 0; p < int(pages_.size()); ++p) {
      const Page& g = pages_[p];
      if (g.tier != KVTier::Host || g.hot > 0 || (pass == 0 && g.refs > 0)) continue;
      if (victim < 0 || g.stamp < pages_[victim].stamp) victim = p;
    }
  if (victim < 0 || !demote(victim)) return -1;
  int s = free_host_.back();
  free_host_.pop_back();
  return s;
}

bool KVPool::demote(int p) {
  Page& g = pages_[p];
  if (free_disk_.empty()) {
    // Make room on disk: drop the oldest cache-only disk page.
    int old = -1;
    for (int q = 0; q < int(pages_.size()); ++q)
      if (pages_[q].tier == KVTier::Disk && pages_[q].refs == 0 && (old < 0 || pages_[q].stamp < pages_[old].stamp))
        old = q;
    if (old >= 0) drop_cached(pages_[old].key_slot);
  }
  if (g.tier != KVTier::Host) return true;  // dropped together with its block just now
  if (free_disk_.empty()) {
    if (g.refs == 0) {  // cache-only: drop it
      drop_cached(g.key_slot);
      return true;
    }
    error_ = "the KV budgets are full: host " + std::to_string(host_budget_ >> 20) + " MiB, disk " +
             std::to_string(disk_budget_ >> 20) + " MiB hold " + std::to_string(n_host_ + n_disk_) +
             " layer-blocks; raise --kv-host-mb or give --kv-disk with more room";
    return false;
  }
  const int ds = free_disk_.back();
  const size_t pb = L_.page_bytes;
  if (::pwrite(disk_fd_, host(p), pb, off_t(size_t(ds) * pb)) != ssize_t(pb)) {
    fail_io("write");
    error_ = io_error_;
    return false;
  }
  free_disk_.pop_back();
  free_host_.push_back(g.slot);
  g.slot = ds;
  g.tier = KVTier::Disk;
  ++demoted_;
  disk_peak_ = std::max(disk_peak_, size_t(n_disk_ - int(free_disk_.size())) * pb);
  return true;
}

int KVPool::alloc() {
  error_.clear();
  const int s = take_host_slot();  // may drop cached pages, which frees page ids too
  if (s < 0) {
    if (error_.empty())
      error_ = "the KV host budget (" + std::to_string(host_budget_ >> 20) +
               " MiB) is full of hot blocks (attention sinks and the recent window); raise --kv-host-mb";
    return -1;
  }
  CJ_ASSERT(!free_pages_.empty());  // pages <= host slots + disk slots
  const int p = free_pages_.back();
  free_pages_.pop_back();
  Page& g = pages_[p];
  g = Page();
  g.refs = 1;
  g.slot = s;
  g.tier = KVTier::Host;
  g.stamp = ++clock_;
  host_peak_ = std::max(host_peak_, size_t(n_host_ - int(free_host_.size())) * L_.page_bytes);
  return p;
}

void KVPool::release(int p) {
  Page& g = pages_[p];
  if (g.tier == KVTier::Host) free_host_.push_back(g.slot);
  else if (g.tier == KVTier::Disk) free_disk_.push_back(g.slot);
  g = Page();
  free_pages_.push_back(p);
}

void KVPool::unref(int p) {
  Page& g = pages_[p];
  CJ_ASSERT(g.refs > 0);
  if (--g.refs == 0 && g.key_slot < 0) release(p);
}

bool KVPool::make_writable(int p) {
  Page& g = pages_[p];
  if (g.tier == KVTier::Disk) {
    ++g.hot;  // keep it from being chosen while we make room
    const int s = take_host_slot();
    --g.hot;
    if (s < 0) return false;
    const size_t pb = L_.page_bytes;
    if (::pread(disk_fd_, host_base_ + size_t(s) * pb, pb, off_t(size_t(g.slot) * pb)) != ssize_t(pb)) {
      fail_io("read");
      error_ = io_error_;
      free_host_.push_back(s);
      return false;
    }
    free_disk_.push_back(g.slot);
    g.slot = s;
    g.tier = KVTier::Host;
    ++promoted_;
    host_peak_ = std::max(host_peak_, size_t(n_host_ - int(free_host_.size())) * pb);
  }
  g.stamp = ++clock_;
  return true;
}

const uint8_t* KVPool::read(int p, size_t off, size_t n, uint8_t* dst) const {
  const Page& g = pages_[p];
  if (g.tier == KVTier::Host) return host(p) + off;
  disk_reads_.fetch_add(1, std::memory_order_relaxed);
  if (::pread(disk_fd_, dst, n, off_t(size_t(g.slot) * L_.page_bytes + off)) != ssize_t(n)) {
    fail_io("read");
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
  s.host_capacity = size_t(n_host_) * pb;
  s.disk_capacity = size_t(n_disk_) * pb;
  s.host_used = size_t(n_host_ - int(free_host_.size())) * pb;
  s.disk_used = size_t(n_disk_ - int(free_disk_.size())) * pb;
  s.host_peak = host_peak_;
  s.disk_peak = disk_peak_;
  s.meta_bytes = pages_.size() * sizeof(Page) + keys_.size() * 8 + map_pages_.size() * 4 +
                 (free_pages_.capacity() + free_host_.capacity() + free_disk_.capacity()) * 4;
  s.demoted = demoted_;
  s.promoted = promoted_;
  s.dropped = dropped_;
  s.disk_reads = disk_reads_.load();
  s.cached_blocks = cached_;
  return s;
}

}  // namespace cj
