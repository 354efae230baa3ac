// The KV-cache options shared by generate, bench and bench-context: one spelling each, one validation.
//   --kv-type f16|f32|q8_0   --host-kv-mb N (or --kv-host-mb)   --kv-dir D (spill file D/changjuan-kv.spill)
//   --kv-disk F (the spill file itself)   --device-kv-mb N (the GPU tier: needs the CUDA backend; these commands
//   run on the CPU, so a positive value is refused rather than ignored)
#pragma once
#include <vector>

#include "engine/engine.h"
#include "engine/base/result.h"
#include "studio/args.h"

namespace cj::cli {

std::vector<OptSpec> kv_option_specs();
// `base` followed by the KV options, for a command's option list.
std::vector<OptSpec> with_kv_options(std::vector<OptSpec> base);
// Fills bo's kv_type, kv_host_bytes and kv_disk from the options; a clear error for a bad value.
Status apply_kv_options(const Args& a, EngineOptions* bo);

}  // namespace cj::cli
