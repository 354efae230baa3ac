#include "engine/kv/device_plan.h"

#include <algorithm>

namespace cj {

namespace {
std::string mib(size_t b) { return std::to_string((b + (size_t(1) << 19)) >> 20) + " MiB"; }
}  // namespace

std::string DevicePlan::summary() const {
  return std::to_string(gpu_layers) + " layers on the device (" + mib(weight_bytes) + " of weights), KV " +
         std::to_string(kv_slots) + " pages (" + mib(kv_bytes) + ")";
}

Result<DevicePlan> plan_device(const DevicePlanInput& in) {
  const int n_layers = int(in.layer_bytes.size());
  if (n_layers == 0 || in.page_bytes == 0) return make_error("device plan: the model shape is empty");
  if (in.gpu_layers < -1 || in.gpu_layers > n_layers)
    return make_error("--gpu-layers must be between 0 and the model's " + std::to_string(n_layers) +
                      " layers (or -1 for all that fit), not " + std::to_string(in.gpu_layers));
  if (in.reserve + in.shared_bytes > in.device_free)
    return make_error("the device has " + mib(in.device_free) + " free; the embeddings and output need " +
                      mib(in.shared_bytes) + " and the scratch " + mib(in.reserve));
  const size_t avail = in.device_free - in.reserve - in.shared_bytes;
  // The KV the plan must leave room for: the budget given, else at least the minimum.
  const size_t kv_floor = in.device_kv_bytes ? in.device_kv_bytes : in.min_kv_bytes;
  auto weights_of = [&](int n) {
    size_t w = 0;
    for (int l = 0; l < n; ++l) w += in.layer_bytes[size_t(l)];
    return w;
  };
  DevicePlan p;
  if (in.gpu_layers >= 0) {
    p.gpu_layers = in.gpu_layers;
    p.weight_bytes = weights_of(p.gpu_layers);
    if (p.weight_bytes + kv_floor > avail)
      return make_error("--gpu-layers " + std::to_string(in.gpu_layers) + " needs " + mib(p.weight_bytes) +
                        " of weights and " + mib(kv_floor) + " of KV on the device, which has " + mib(avail) +
                        " left after the embeddings and scratch (lower --gpu-layers or --device-kv-mb)");
  } else {
    p.gpu_layers = 0;
    size_t w = 0;
    while (p.gpu_layers < n_layers && w + in.layer_bytes[size_t(p.gpu_layers)] + kv_floor <= avail)
      w += in.layer_bytes[size_t(p.gpu_layers++)];
    p.weight_bytes = w;
    if (p.gpu_layers == 0)
      return make_error("not one layer fits on the device: " + mib(avail) + " left after the embeddings and "
                        "scratch, a layer needs " + mib(in.layer_bytes[0]) + " and the KV " + mib(kv_floor));
  }
  const size_t left = avail - p.weight_bytes;
  size_t kv = in.device_kv_bytes;
  if (kv == 0) kv = std::min(left, std::max(in.kv_need_bytes, in.min_kv_bytes));
  if (kv > left)
    return make_error("--device-kv-mb " + mib(kv) + " does not fit: the device has " + mib(left) +
                      " left after " + std::to_string(p.gpu_layers) + " layers of weights");
  p.kv_slots = int(std::min<size_t>(kv / in.page_bytes, size_t(1) << 30));
  if (p.gpu_layers > 0 && size_t(p.kv_slots) * in.page_bytes < in.min_kv_bytes)
    return make_error("the device KV budget " + mib(kv) + " holds fewer pages than one step writes (" +
                      mib(in.min_kv_bytes) + "); raise --device-kv-mb");
  p.kv_bytes = size_t(p.kv_slots) * in.page_bytes;
  return p;
}

Result<std::unique_ptr<KVPool>> make_device_pool(const KVLayout& L, std::unique_ptr<KVArena> device,
                                                 const KVPoolOptions& o) {
  if (!device || device->kind() != KVTier::Device) return make_error("device pool: the first tier is not a device");
  if (device->page_bytes() != L.page_bytes) return make_error("device pool: the device arena's page size differs");
  std::vector<std::unique_ptr<KVArena>> tiers;
  tiers.push_back(std::move(device));
  const int host_slots = int(std::min<size_t>(o.host_bytes / L.page_bytes, size_t(1) << 30));
  if (host_slots > 0) {
    auto h = make_host_arena(L.page_bytes, host_slots);
    if (!h.ok()) return make_error(h.error());
    tiers.push_back(std::move(h.value()));
  }
  if (!o.disk_path.empty()) {
    const int disk_slots = int(std::min<size_t>(o.disk_bytes / L.page_bytes, size_t(1) << 30));
    if (disk_slots > 0) {
      auto d = make_disk_arena(L.page_bytes, disk_slots, o.disk_path);
      if (!d.ok()) return make_error(d.error());
      tiers.push_back(std::move(d.value()));
    }
  }
  return KVPool::create(L, std::move(tiers), /*home=*/0);
}

}  // namespace cj
