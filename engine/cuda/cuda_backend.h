// The CUDA backend: executes the forward recipe (engine/model/recipe.h) on one NVIDIA GPU with the kernels of
// kernels.h, its KV pages in a device tier (a KVArena in GPU memory) in front of host RAM. Pages that the pool has
// moved to the host are attended on the CPU (engine/kv/attn_pages.h) and merged by log-sum-exp with the device's
// part. Host code only (no CUDA header): built when nvcc is found (CHANGJUAN_HAVE_CUDA).
#pragma once
#include <memory>
#include <string>

#include "engine/backend.h"
#include "engine/kv/device_plan.h"
#include "engine/kv/kv_pool.h"

namespace cj::cuda {

struct CudaOptions {
  int device = 0;
  size_t device_kv_bytes = 0;  // --device-kv-mb (0: what the context needs, or what is left)
  int gpu_layers = -1;         // --gpu-layers (-1: all that fit)
  KVPoolOptions host;          // the host and disk tiers behind the device
  size_t kv_need_bytes = 0;    // pages of the whole context of every sequence
};

struct CudaEngineParts {
  std::unique_ptr<KVPool> pool;
  std::unique_ptr<Backend> backend;
  DevicePlan plan;
};

// Whether a CUDA device can be used, and why not.
bool usable(std::string* why);

// Uploads the weights, makes the device KV tier and the pool, and the backend; a one-line error when the model's
// types or shape are not run here or the plan does not fit.
Result<CudaEngineParts> make_cuda_engine(const Model& m, const Recipe& r, const KVLayout& L, const BackendOptions& o,
                                         const CudaOptions& co);

}  // namespace cj::cuda
