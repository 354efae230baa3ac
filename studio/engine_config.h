// One engine configuration, from the writer's choice to the KV pool. The same struct (EngineSettings) is filled
// by settings.json (studio/settings.h: engine_settings(Settings)), by the GUI's 模型与设置 dialog (which edits
// a Settings) and by the CLI's engine options (studio/cli/studio_cli.h), and engine_options() is the one place
// where it becomes the engine's options. Nothing else reads a context size or a KV budget.
//
// A context size of 0 means "what this machine can hold": the model's trained length, lowered until the KV
// cache of that many tokens fits the host budget (or, without one, the RAM left once the model is mapped) plus
// the disk tier. validate_for_machine() checks the choice against the model file and the machine and says, in
// Chinese, what will not fit.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/engine.h"
#include "engine/kv/kv_pool.h"
#include "engine/model/model.h"
#include "engine/sampler.h"

namespace cj::studio {

struct EngineSettings {
  std::string model_path;
  int threads = 2;
  int ctx = 0;                 // tokens the KV cache holds; 0 = automatic (auto_context)
  KVType kv_type = KVType::F16;
  int64_t kv_host_mb = 0;      // KV host-RAM budget in MiB; 0 = room for the whole context
  std::string kv_disk_dir;     // folder for the KV disk tier ("" = none): blocks beyond the host budget spill there
  int64_t kv_disk_mb = 0;      // disk tier budget in MiB; 0 with a folder = room for the whole context
  int64_t kv_gpu_mb = 0;       // the device tier of the CUDA backend (refused with backend cpu)
  SamplerParams sampling;      // defaults for requests that do not set their own
  bool chat = false;           // wrap prompts as a ChatML user turn (instruction-tuned models)
  int parallel = 1;            // requests decoded together (sequences of the engine; the KV budgets are shared)
  int step_tokens = 0;         // the scheduler's tokens per step: every running decode, then prefill chunks up to
                               // this (0: the engine's n_batch, 256); smaller keeps the others' tokens coming
                               // faster while a long prompt is read, larger reads a prompt in fewer steps
  std::string backend = "cpu"; // cpu | cuda (engine/engine.h available_backends)
};

// Checks the settings before anything is loaded; the message names the setting.
Status validate(const EngineSettings& s);

// What the settings dialog shows about a model file, read from its GGUF header (nothing is loaded).
struct ModelInfo {
  std::string path;
  std::string arch;             // llama, qwen2, qwen3
  std::string name;             // general.name, else the file name
  int64_t file_bytes = 0;
  int64_t params = 0;           // elements of all tensors
  int n_ctx_train = 0;          // the context length it was trained for (0: the file does not say)
  int n_layers = 0, n_embd = 0, n_heads = 0, n_kv_heads = 0, n_vocab = 0;
  std::string quant;            // the weight type holding most bytes (Q4_K, Q8_0, F16, …)
  bool has_tokenizer = false;
  size_t kv_bytes_per_token(KVType t) const;  // keys and values of every layer for one token
  int head_dim = 0, head_dim_v = 0;
};
Result<ModelInfo> inspect_model(const std::string& path);
ModelInfo model_info(const Model& m);  // the same for a model already loaded

// The machine as the settings are checked against it.
struct MachineInfo {
  int64_t ram_total_bytes = 0;
  int64_t ram_available_bytes = 0;  // MemAvailable: what can be used without swapping
  int hardware_threads = 1;
  bool cuda_backend = false;        // a CUDA backend can run here (engine's available_backends())
};
MachineInfo probe_machine();
// Free bytes on the file system holding `dir` (-1 when unknown).
int64_t free_disk_bytes(const std::string& dir);

// The largest context (a multiple of 256 tokens, at least 256) whose KV cache fits what the settings and the
// machine give it, at most the model's trained length (4096 when the file does not say).
int auto_context(const ModelInfo& m, const EngineSettings& s, const MachineInfo& mc);
// s.ctx, or auto_context() when it is 0.
int resolved_context(const ModelInfo& m, const EngineSettings& s, const MachineInfo& mc);

struct MachineCheck {
  int ctx = 0;                  // the context that will be used
  int64_t kv_bytes = 0;         // the KV cache: ctx tokens for each of the `parallel` sequences
  int64_t kv_device_bytes = 0;  // of which on the GPU (backend cuda: the device tier comes first)
  int64_t kv_host_bytes = 0;    // of which in RAM (the rest on disk)
  int64_t kv_disk_bytes = 0;
  int64_t model_bytes = 0;
  std::vector<std::string> errors;    // will not work (Chinese, naming the setting)
  std::vector<std::string> warnings;  // will work, worse (beyond the trained length, little RAM left, …)
  bool ok() const { return errors.empty(); }
};
// Checks the settings against the model and the machine: a CUDA backend where one can run, RAM for the weights
// and the KV host tier, the disk tier's folder and free space, threads, the trained length.
MachineCheck validate_for_machine(const EngineSettings& s, const ModelInfo& m, const MachineInfo& mc);

// THE mapping from the studio's configuration to the engine's options (context `ctx` already resolved). The
// disk tier's spill file is named per process inside kv_disk_dir.
EngineOptions engine_options(const EngineSettings& s, int ctx);

}  // namespace cj::studio
