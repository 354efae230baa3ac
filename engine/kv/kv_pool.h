// The physical KV storage shared by the sequences of one engine: fixed-size pages in tiers with byte budgets set
// by the caller, reference counts (sequences share prefix pages), LRU demotion to the next tier, and the prefix
// cache (full token blocks keyed by a hash chain over the tokens).
//
// Granularity: a page is one layer of one 256-token block (K[n_kv_heads][256][head_dim] then
// V[n_kv_heads][256][head_dim_v]). Attention walks layer by layer, so a per-layer page is the unit it reads; a
// page on a tier the CPU cannot address is staged one KV head at a time into a buffer of the attention task (no
// whole-cache copy), and the budget of a tier can be filled to within one layer-block. The prefix cache keys a whole
// token block (all layers' pages together), since the hash covers tokens, not layers.
//
// Tiers (kv_tier.h): an ordered list of arenas, fastest first — today host RAM, then an optional disk spill file; a
// device tier goes in front. The pool only allocates, releases, reads and copies slots through the arena
// interface. The home tier (a policy, given at creation: the host for the CPU backend, the device for a GPU
// backend) is where pages are written; when a tier has no free slot, its least recently used page that is not hot
// moves to the next tier (recursively), or, on the last tier, a page only the prefix cache holds is dropped. Hot =
// the attention sinks and the recent window of a live sequence. Victims come from LRU lists per tier (cold pages of
// live sequences, and pages only the prefix cache holds): O(1), no scan. Nothing here allocates after create().
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/hash.h"
#include "engine/base/result.h"
#include "engine/format/quant_blocks.h"
#include "engine/kv/kv_tier.h"
#include "engine/model/model_config.h"

namespace cj {

enum class KVType { F32, F16, Q8_0 };
const char* kv_type_name(KVType t);
bool kv_type_from_name(const std::string& s, KVType* out);


// Byte sizes of one page for a model shape and a storage type. The geometry follows the model's attention: n_kv_heads
// heads of K (head_dim) and V (head_dim_v); with v_in_k (multi-head latent attention) one latent row per token of
// kv_lora_rank + rope dimensions and no V section (the value is the first head_dim_v values of the row).
struct KVLayout {
  static constexpr int kBlockTokens = 256;
  static constexpr int kQ8Block = 32;
  static constexpr int kMaxLayers = 512;  // Q8_0: one f16 scale per 32 values
  KVType type = KVType::F16;
  int n_layers = 0, n_kv_heads = 0, head_dim = 0, head_dim_v = 0;
  bool v_in_k = false;                        // no V stored: V is a prefix of each K row
  size_t k_row_bytes = 0, v_row_bytes = 0;    // one token of one head (v_row_bytes 0 with v_in_k)
  size_t k_head_bytes = 0, v_head_bytes = 0;  // kBlockTokens rows of one head
  size_t page_bytes = 0;                      // K of all heads, then V of all heads, rounded to 64
  size_t token_bytes() const { return size_t(n_layers) * n_kv_heads * (k_row_bytes + v_row_bytes); }  // all layers
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
  bool summaries = false;  // per-unit key summaries for page selection (engine/kv_select.h)
};

struct KVPoolStats {
  size_t page_bytes = 0;
  size_t host_budget = 0, disk_budget = 0;  // bytes given
  size_t host_capacity = 0, disk_capacity = 0;  // whole pages within the budget (bytes)
  size_t host_used = 0, disk_used = 0, host_peak = 0, disk_peak = 0;  // bytes of pages in use
  size_t meta_bytes = 0;  // page table and prefix map (host, outside the budget)
  uint64_t demoted = 0, promoted = 0, dropped = 0, disk_reads = 0;
  int cached_blocks = 0;  // token blocks in the prefix cache
  struct Tier {
    KVTier kind = KVTier::None;
    size_t capacity = 0, used = 0, peak = 0;  // bytes
  };
  std::vector<Tier> tiers;  // fastest first
};

class KVPool {
 public:
  // Host RAM (o.host_bytes) and, with o.disk_path, a disk spill file (o.disk_bytes); the host is the home tier.
  static Result<std::unique_ptr<KVPool>> create(const KVLayout& layout, const KVPoolOptions& o);
  // Any tiers, fastest first, pages written on tiers[home]. Budgets are reported as the arenas' capacities.
  static Result<std::unique_ptr<KVPool>> create(const KVLayout& layout, std::vector<std::unique_ptr<KVArena>> tiers,
                                                int home);
  ~KVPool();
  KVPool(const KVPool&) = delete;
  KVPool& operator=(const KVPool&) = delete;

  const KVLayout& layout() const { return L_; }
  int max_pages() const { return int(pages_.size()); }
  int n_tiers() const { return int(tiers_.size()); }
  const KVArena& arena(int t) const { return *tiers_[size_t(t)]; }
  int home_tier() const { return home_; }

  // A new page on the home tier with one reference, or -1 when the budgets are full (error() says why).
  int alloc();
  void ref(int p);
  void unref(int p);
  int refs(int p) const { return pages_[p].refs; }
  // The slot of page p in its tier (a device backend addresses its own arena by slot).
  int slot_of(int p) const { return pages_[p].slot; }
  bool cached(int p) const { return pages_[p].key_slot >= 0; }
  KVTier tier(int p) const { return pages_[p].tier < 0 ? KVTier::None : tiers_[size_t(pages_[p].tier)]->kind(); }
  // Hot pages (sinks, recent window) are never demoted; counted, so several sequences may mark one page.
  void set_hot(int p, bool hot);
  // CPU memory of page p, which must be on a CPU-addressable tier (the host).
  uint8_t* host(int p) const { return tiers_[size_t(pages_[p].tier)]->host_ptr(pages_[p].slot); }
  // Makes page p resident on the home tier (moving it back from a slower tier, demoting another page if needed)
  // and marks it just written. false when no slot can be freed.
  bool make_writable(int p);
  // n bytes at offset off of page p: a pointer into CPU memory, or the bytes read into dst (other tiers).
  const uint8_t* read(int p, size_t off, size_t n, uint8_t* dst) const;

  // Prefix cache. key = hash chain value of a full token block; pages[n_layers]. insert() adds a reference held
  // by the cache (no-op if the key is present); lookup() fills pages and returns true when every layer's page
  // is still there.
  bool lookup(uint64_t key, int* pages) const;
  void insert(uint64_t key, const int* pages);

  // Page selection: per page and KV head, the max and the min of each key channel over each unit of
  // kSummaryTokens tokens as a pair of bf16 (max rounded up, min rounded down: still bounds), [head_dim]
  // [kSummaryUnits][2] (channel-major, units side by side; the pair is one 32-bit word, max in the low half, the
  // operand layout of VDPBF16PS against a query word (max(q, 0), min(q, 0))). Host memory whatever the page's tier.
  // nullptr without summaries.
  static constexpr int kSummaryTokens = 32;
  static constexpr int kSummaryUnits = KVLayout::kBlockTokens / kSummaryTokens;
  static float summary_max(const uint16_t* s, int d, int u) {
    return q::bf16_to_f32(s[(d * kSummaryUnits + u) * 2]);
  }
  static float summary_min(const uint16_t* s, int d, int u) {
    return q::bf16_to_f32(s[(d * kSummaryUnits + u) * 2 + 1]);
  }
  // x rounded to bf16 towards +inf (up) or -inf (down); x finite.
  static uint16_t bf16_round(float x, bool up) {
    const uint32_t w = q::f32_to_bits(x);
    const uint16_t hi = uint16_t(w >> 16);
    if ((w & 0xffff) == 0) return hi;
    const bool neg = (w >> 31) != 0;  // truncation moves a negative value up, a positive one down
    return neg == up ? hi : uint16_t(hi + 1);
  }
  bool has_summaries() const { return !summaries_.empty(); }
  void enable_summaries();  // allocates them (KVPoolOptions::summaries does this at creation)
  uint16_t* summary(int p, int h) {
    return summaries_.data() + (size_t(p) * size_t(L_.n_kv_heads) + size_t(h)) * summary_stride_;
  }
  const uint16_t* summary(int p, int h) const {
    return summaries_.data() + (size_t(p) * size_t(L_.n_kv_heads) + size_t(h)) * summary_stride_;
  }
  size_t summary_stride() const { return summary_stride_; }  // 16-bit values per page and head

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
    int8_t tier = -1;        // index into tiers_ (-1: free)
    int8_t list = -1;        // LRU list it is on (-1: none: hot, or free)
    int prev = -1, next = -1;  // LRU neighbours (older, newer)
    int64_t key_slot = -1;   // index in the prefix map when cached
  };
  // LRU lists: 2 per tier (live cold pages, cache-only pages); head = least recently used.
  int list_of(const Page& g) const;
  void unlink(int p);
  void relist(int p);  // puts p at the newest end of the list its state calls for (or none)
  int take_slot(int t, int keep);  // a free slot of tier t, making one if needed; keep: a page not to move
  bool move_page(int p, int to);   // p to tier `to` (a slot already taken there)
  void drop_cached(int64_t map_slot);
  void release(int p);   // refs 0 and not cached: back to the free lists
  void fail_io(const std::string& what) const;
  void note_peak(int t);

  KVLayout L_;
  std::vector<std::unique_ptr<KVArena>> tiers_;
  int home_ = 0;
  size_t host_budget_ = 0, disk_budget_ = 0;  // bytes given (reported in the stats and messages)
  std::vector<Page> pages_;
  std::vector<int> free_pages_;
  std::vector<int> head_, tail_;   // [2 * tiers] LRU lists
  std::vector<size_t> peak_;       // [tiers] bytes
  std::vector<uint8_t> staging_;   // one page, for moves between tiers that are not CPU-addressable
  uint64_t demoted_ = 0, promoted_ = 0, dropped_ = 0;
  mutable std::atomic<uint64_t> disk_reads_{0};
  // Prefix map: open addressing, capacity a power of two >= 2 * max blocks; keys_[i] == 0 is empty, a removed
  // entry becomes kTomb. map_pages_[i * n_layers + l] the page of layer l.
  static constexpr uint64_t kTomb = 1;
  std::vector<uint16_t> summaries_;  // [max_pages, n_kv_heads, summary_stride]
  size_t summary_stride_ = 0;
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
