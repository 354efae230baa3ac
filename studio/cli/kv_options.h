// The KV-cache options shared by generate, bench and bench-context: one spelling each, one validation.
//   --kv-type f16|f32|q8_0   --host-kv-mb N (or --kv-host-mb)   --kv-dir D (spill file D/changjuan-kv.spill)
//   --kv-disk F (the spill file itself)   --backend cpu|cuda   --device-kv-mb N and --gpu-layers N (the GPU side of
//   --backend cuda; refused rather than ignored on the CPU)
#pragma once
#include <vector>

#include "engine/engine.h"
#include "engine/base/result.h"
#include "studio/args.h"

namespace cj::cli {

std::vector<OptSpec> kv_option_specs();
// `base` followed by the KV options, for a command's option list.
std::vector<OptSpec> with_kv_options(std::vector<OptSpec> base);
// Fills bo's backend, kv_type, kv_host_bytes, kv_disk, device_kv_bytes and gpu_layers from the options; a clear error for a bad value.
Status apply_kv_options(const Args& a, EngineOptions* bo);

}  // namespace cj::cli
