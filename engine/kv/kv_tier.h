// A KV tier: an arena of fixed-size page slots with allocate / release / read / write. The pool (kv_pool.h) keeps
// an ordered list of tiers, fastest first, and moves pages between neighbours with kv_copy; it never looks inside
// a tier. Host RAM and a disk spill file implement it here; a device tier (GPU memory, the CUDA backend) implements
// the same class and is put in front of the list, without touching the pool's logic.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/result.h"

namespace cj {

enum class KVTier : uint8_t { None, Host, Disk, Device };
const char* kv_tier_name(KVTier t);

class KVArena {
 public:
  KVArena(size_t page_bytes, int slots);
  virtual ~KVArena() = default;
  KVArena(const KVArena&) = delete;
  KVArena& operator=(const KVArena&) = delete;

  virtual KVTier kind() const = 0;
  // Memory the CPU can address for a slot (null when the tier is not CPU-addressable: disk, device).
  virtual uint8_t* host_ptr(int slot) { (void)slot; return nullptr; }
  // n bytes at offset off of a slot; false on an I/O error (describe() names the tier for the message).
  virtual bool read(int slot, size_t off, size_t n, uint8_t* dst) const = 0;
  virtual bool write(int slot, size_t off, const uint8_t* src, size_t n) = 0;
  virtual std::string describe() const = 0;

  size_t page_bytes() const { return page_bytes_; }
  int capacity() const { return slots_; }
  int used() const { return slots_ - int(free_.size()); }
  bool full() const { return free_.empty(); }
  int allocate();  // a free slot, or -1
  void release(int slot);

 private:
  size_t page_bytes_;
  int slots_;
  std::vector<int> free_;
};

// Host RAM: one aligned allocation of `slots` pages, made up front (the budget is honoured exactly).
Result<std::unique_ptr<KVArena>> make_host_arena(size_t page_bytes, int slots);
// A spill file of `slots` pages (pread/pwrite), created and sized now, removed when the arena goes.
Result<std::unique_ptr<KVArena>> make_disk_arena(size_t page_bytes, int slots, const std::string& path);

// Copies one page from a slot of one tier to a slot of another (through host memory of either, or `staging`,
// page_bytes large, when neither is CPU-addressable). false on an I/O error.
bool kv_copy(const KVArena& from, int from_slot, KVArena& to, int to_slot, uint8_t* staging);

}  // namespace cj
