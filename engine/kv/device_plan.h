// Host-side decisions of a device backend, kept apart from any device code so that they are tested without a GPU:
// how many layers run on the device (--gpu-layers), how many KV pages the device tier holds (--device-kv-mb), and
// the pool of tiers a device backend writes into (the device arena in front of host RAM and the optional spill
// file, pages written on the device). The CUDA backend (engine/cuda) calls these with what the driver reports; the
// tests call them with a fake device arena and made-up memory sizes.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/kv/kv_pool.h"

namespace cj {

struct DevicePlanInput {
  size_t device_free = 0;          // bytes the device reports free
  size_t reserve = 0;              // bytes held back for scratch, workspaces and the runtime
  std::vector<size_t> layer_bytes; // weights of each layer on the device ([n_layers])
  size_t shared_bytes = 0;         // weights every plan uploads (token embedding, output norm and matrix)
  size_t page_bytes = 0;           // one KV page (one layer of one 256-token block)
  int gpu_layers = -1;             // layers on the device: -1 = as many as fit (all when they do)
  size_t device_kv_bytes = 0;      // device KV budget: 0 = what the context needs, or what is left if less
  size_t kv_need_bytes = 0;        // pages of the device layers for the whole context of every sequence
  size_t min_kv_bytes = 0;         // the least device KV a plan may have (the blocks being written)
};

struct DevicePlan {
  int gpu_layers = 0;        // the first gpu_layers layers run on the device, the rest on the CPU
  size_t weight_bytes = 0;   // device bytes of weights
  int kv_slots = 0;          // device KV pages
  size_t kv_bytes = 0;       // kv_slots * page_bytes
  std::string summary() const;
};

// The plan, or a one-line error naming the sizes that do not fit.
Result<DevicePlan> plan_device(const DevicePlanInput& in);

// The pool of a device backend: `device` (kind Device) in front of host RAM (o.host_bytes) and, with o.disk_path,
// the spill file; pages are written on the device, and the least recently used cold pages move to the host.
Result<std::unique_ptr<KVPool>> make_device_pool(const KVLayout& L, std::unique_ptr<KVArena> device,
                                                 const KVPoolOptions& o);

}  // namespace cj
