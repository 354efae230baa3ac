// The physical KV storage shared by the sequences of one model: fixed-size pages in tiers with byte budgets set
// by the caller, reference counts (sequences share prefix pages), LRU demotion host → disk, and the prefix cache
// (full token blocks keyed by a hash chain over the tokens).
//
// Granularity: a page is one layer of one 256-token block (K[n_kv_heads][256][head_dim] then
// V[n_kv_heads][256][head_dim_v]). Attention walks layer by layer, so a per-layer page is the unit it reads; a
// disk-resident page is staged one KV head at a time into a buffer of the attention task (no whole-cache copy),
// and the host budget can be filled to within one layer-block rather than one all-layer block. The prefix cache
// keys a whole token block (all layers' pages together), since the hash covers tokens, not layers.
//
// Tiers: Host (one arena allocated up front: floor(host_bytes / page_bytes) pages, so the budget is honoured
// exactly) and Disk (a spill file of floor(disk_bytes / page_bytes) page slots, pread/pwrite). Device is
// reserved for the CUDA backend (issue 7): a third arena with the same page ids; nothing here assumes two tiers
// beyond the slot arrays. Pages never move unless a host slot is needed: then the least recently written page
// that is not hot (attention sinks and the recent window of a live sequence are marked hot) is demoted to disk,
// or dropped when only the prefix cache holds it. Nothing here allocates after create().
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/hash.h"
#include "engine/base/result.h"
#include "engine/model/model_config.h"

namespace cj {

enum class KVType { F32, F16, Q8_0 };
const char* kv_type_name(KVType t);
bool kv_type_from_name(const std::string& s, KVType* out);

enum class KVTier : uint8_t { None, Host, Disk };  // Device: issue 7
const char* kv_tier_name(KVTier t);

// Byte sizes of one page for a model shape and a storage type.
struct KVLayout {
  static constexpr int kBlockTokens = 256;
  static constexpr int kQ8Block = 32;
  static constexpr int kMaxLayers = 512;  // Q8_0: one f16 scale per 32 values
  KVType type = KVType::F16;
  int n_layers = 0, n_kv_heads = 0, head_dim = 0, head_dim_v = 0;
  size_t k_row_bytes = 0, v_row_bytes = 0;    // one token of one head
  size_t k_head_bytes = 0, v_head_bytes = 0;  // kBlockTokens rows of one head
  size_t page_bytes = 0;                      // K of all heads, then V of all heads, rounded to 64
  static Result<KVLayout> make(const ModelConfig& c, KVType type);
  size_t k_offset(int h) const { return size_t(h) * k_head_bytes; }
  size_t v_offset(int h) const { return size_t(n_kv_heads) * k_head_bytes + size_t(h) * v_head_bytes; }
};
size_t kv_row_bytes(KVType t, int n);

struct KVPoolOptions {
  size_t host_bytes = 0;   // host tier budget; 0: room for n_ctx tokens of one sequence
  std::string disk_path;   // spill file ("" = no disk tier); created, truncated, removed when the pool goes
  size_t disk_bytes = 0;   // disk tier budget; 0 with a path: room for n_ctx tokens
  int n_ctx = 4096;        // for the defaults above
};

struct KVPoolStats {
  size_t page_bytes = 0;
  size_t host_budget = 0, disk_budget = 0;  // bytes given
  size_t host_capacity = 0, disk_capacity = 0;  // whole pages within the budget (bytes)
  size_t host_used = 0, disk_used = 0, host_peak = 0, disk_peak = 0;  // bytes of pages in use
  size_t meta_bytes = 0;  // page table and prefix map (host, outside the budget)
  uint64_t demoted = 0, promoted = 0, dropped = 0, disk_reads = 0;
  int cached_blocks = 0;  // token blocks in the prefix cache
};

class KVPool {
 public:
  static Result<std::unique_ptr<KVPool>> create(const KVLayout& layout, const KVPoolOptions& o);
  ~KVPool();
  KVPool(const KVPool&) = delete;
  KVPool& operator=(const KVPool&) = delete;

  const KVLayout& layout() const { return L_; }
  int max_pages() const { return int(pages_.size()); }

  // A new page on the host tier with one reference, or -1 when the budgets are full (error() says why).
  int alloc();
  void ref(int p) { ++pages_[p].refs; }
  void unref(int p);
  int refs(int p) const { return pages_[p].refs; }
  bool cached(int p) const { return pages_[p].key_slot >= 0; }
  KVTier tier(int p) const { return pages_[p].tier; }
  // Hot pages (sinks, recent window) are never demoted; counted, so several sequences may mark one page.
  void set_hot(int p, bool hot) { pages_[p].hot += hot ? 1 : -1; }
  // Host memory of page p, which must be on the host tier.
  uint8_t* host(int p) const { return host_base_ + size_t(pages_[p].slot) * L_.page_bytes; }
  // Makes page p host-resident (reading it back from disk, demoting another page if needed) and marks it just
  // written. false when no host slot can be freed.
  bool make_writable(int p);
  // n bytes at offset off of page p: a pointer into the host tier, or the bytes read into dst (disk).
  const uint8_t* read(int p, size_t off, size_t n, uint8_t* dst) const;

  // Prefix cache. key = hash chain value of a full token block; pages[n_layers]. insert() adds a reference held
  // by the cache (no-op if the key is present); lookup() fills pages and returns true when every layer's page
  // is still there.
  bool lookup(uint64_t key, int* pages) const;
  void insert(uint64_t key, const int* pages);

  KVPoolStats stats() const;
  // Set when a disk read or write failed (the attention then saw zeros); the backend reports it.
  const std::string& io_error() const { return io_error_; }
  bool has_io_error() const { return io_failed_.load(std::memory_order_relaxed); }
  const std::string& error() const { return error_; }

 private:
  KVPool() = default;
  struct Page {
    int refs = 0;
    int hot = 0;
    int slot = -1;           // slot in its tier
    KVTier tier = KVTier::None;
    uint64_t stamp = 0;      // last write
    int64_t key_slot = -1;   // index in the prefix map when cached
  };
  int take_host_slot();  // frees one if needed
  bool demote(int p);    // host → disk (or drop when only cached)
  void drop_cached(int64_t map_slot);
  void release(int p);   // refs 0 and not cached: back to the free lists
  void fail_io(const char* what) const;

  KVLayout L_;
  std::vector<Page> pages_;
  std::vector<int> free_pages_, free_host_, free_disk_;
  uint8_t* host_base_ = nullptr;
  size_t host_budget_ = 0, disk_budget_ = 0;
  int n_host_ = 0, n_disk_ = 0;
  int disk_fd_ = -1;
  std::string disk_path_;
  uint64_t clock_ = 0;
  size_t host_peak_ = 0, disk_peak_ = 0;
  uint64_t demoted_ = 0, promoted_ = 0, dropped_ = 0;
  mutable std::atomic<uint64_t> disk_reads_{0};
  // Prefix map: open addressing, capacity a power of two >= 2 * max blocks; keys_[i] == 0 is empty, a removed
  // entry becomes kTomb. map_pages_[i * n_layers + l] the page of layer l.
  static constexpr uint64_t kTomb = 1;
  std::vector<uint64_t> keys_;
  std::vector<int> map_pages_;
  int cached_ = 0;
  mutable std::atomic<bool> io_failed_{false};
  mutable std::string io_error_;
  std::string error_;
};

// h_b = hash(h_{b-1}, model id, tokens of block b); h_{-1} = model id. Never 0 or 1 (the map's empty/tomb).
uint64_t kv_block_hash(uint64_t prev, uint64_t model_id, const int32_t* tokens, int n);

}  // namespace cj
