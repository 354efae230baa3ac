#include "studio/engine_config.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "engine/format/gguf.h"
#include "engine/model/model.h"
#include "engine/model/model_config.h"
#include "engine/cpu/quant.h"

namespace cj::studio {
namespace {

constexpr int64_t kMiB = int64_t(1) << 20;
constexpr int kBlock = 256;  // KV block: contexts are whole blocks

std::string mib_text(int64_t bytes) {
  char b[48];
  if (bytes >= (int64_t(1) << 30))
    std::snprintf(b, sizeof b, "%.1f GiB", double(bytes) / double(int64_t(1) << 30));
  else
    std::snprintf(b, sizeof b, "%.0f MiB", double(bytes) / double(kMiB));
  return b;
}

}  // namespace

Status validate(const EngineSettings& s) {
  if (s.model_path.empty()) return make_error("no model file is set (settings: model path)");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(s.model_path, ec))
    return make_error("the model file " + s.model_path + " does not exist or is not a file (settings: model path)");
  if (s.threads < 1 || s.threads > 256) return make_error("threads must be between 1 and 256");
  if (s.parallel < 1 || s.parallel > 64) return make_error("parallel requests must be between 1 and 64");
  if (s.step_tokens < 0 || s.step_tokens > 256)
    return make_error("step tokens must be between 1 and 256 (the engine's batch), or 0 for 256");
  if (s.ctx != 0 && (s.ctx < 64 || s.ctx > (1 << 20)))
    return make_error("the context size must be 0 (automatic) or between 64 and 1048576 tokens");
  if (s.kv_host_mb < 0 || s.kv_disk_mb < 0 || s.kv_gpu_mb < 0) return make_error("KV budgets cannot be negative");
  if (s.backend != "cpu" && s.backend != "cuda") return make_error("the backend must be cpu or cuda, not '" + s.backend + "'");
  if (s.kv_gpu_mb > 0 && s.backend != "cuda")
    return make_error("kv_gpu_mb sets the device tier of the CUDA backend; with backend cpu use kv_host_mb and kv_disk_dir");
  if (s.kv_disk_mb > 0 && s.kv_disk_dir.empty()) return make_error("kv_disk_mb needs kv_disk_dir (the folder)");
  if (s.sampling.top_p <= 0) return make_error("top-p must be greater than 0");
  if (s.sampling.temperature > 5) return make_error("temperature above 5 gives noise; use 0..2");
  return Status();
}

size_t ModelInfo::kv_bytes_per_token(KVType t) const {
  const size_t k = kv_row_bytes(t, head_dim), v = kv_row_bytes(t, head_dim_v);
  return size_t(n_layers) * size_t(n_kv_heads) * (k + v);
}

namespace {
ModelInfo info_of(const gguf::File& f, const ModelConfig& c) {
  ModelInfo m;
  m.path = f.path();
  m.arch = arch_name(c.arch);
  m.name = f.get_string("general.name").value_or(std::filesystem::path(f.path()).filename().string());
  m.file_bytes = int64_t(f.file_size());
  m.n_ctx_train = c.n_ctx_train;
  m.n_layers = c.n_layers;
  m.n_embd = c.n_embd;
  m.n_heads = c.n_heads;
  m.n_kv_heads = c.n_kv_heads;
  m.n_vocab = c.n_vocab;
  m.head_dim = c.head_dim;
  m.head_dim_v = c.head_dim_v;
  m.has_tokenizer = f.find("tokenizer.ggml.model") != nullptr;
  std::map<std::string, size_t> bytes_by_type;
  for (const auto& t : f.tensors()) {
    m.params += t.n_elements();
    if (t.dims.size() >= 2) bytes_by_type[dtype_traits(t.type).name] += t.bytes;  // matrices, not norms
  }
  size_t best = 0;
  for (const auto& [name, b] : bytes_by_type)
    if (b > best) best = b, m.quant = name;
  return m;
}
}  // namespace

ModelInfo model_info(const Model& model) { return info_of(model.file(), model.config()); }

Result<ModelInfo> inspect_model(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return make_error(path + ": no such file");
  auto f = gguf::File::open(path);  // maps the file and checks its structure; reads no weights
  if (!f.ok()) return make_error(f.error());
  auto c = config_from_gguf(*f);
  if (!c.ok()) return make_error(path + ": " + c.error());
  return info_of(*f, *c);
}

MachineInfo probe_machine() {
  MachineInfo m;
  m.hardware_threads = int(std::max(1u, std::thread::hardware_concurrency()));
  const auto backends = available_backends();  // the engine's own answer: a CUDA backend built and a device present
  m.cuda_backend = std::find(backends.begin(), backends.end(), "cuda") != backends.end();
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (key == "MemTotal:") m.ram_total_bytes = kb * 1024;
    else if (key == "MemAvailable:") m.ram_available_bytes = kb * 1024;
  }
  if (m.ram_total_bytes == 0) {  // not Linux: sysconf
    const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && size > 0) m.ram_total_bytes = int64_t(pages) * size;
  }
  if (m.ram_available_bytes == 0) m.ram_available_bytes = m.ram_total_bytes / 2;
  return m;
}

int64_t free_disk_bytes(const std::string& dir) {
  struct statvfs v;
  if (statvfs(dir.c_str(), &v) != 0) return -1;
  return int64_t(v.f_bavail) * int64_t(v.f_frsize);
}

namespace {
// Bytes the KV cache may take: the host budget (or the RAM left after the model with a quarter kept free for the
// system and the app) plus the disk tier.
int64_t kv_room(const ModelInfo& m, const EngineSettings& s, const MachineInfo& mc) {
  int64_t host = 0;
  if (s.kv_host_mb > 0) {
    host = s.kv_host_mb * kMiB;
  } else {
    const int64_t after_model = mc.ram_available_bytes - m.file_bytes;
    host = std::max<int64_t>(0, after_model - after_model / 4);
  }
  int64_t disk = 0;
  if (!s.kv_disk_dir.empty()) {
    if (s.kv_disk_mb > 0) {
      disk = s.kv_disk_mb * kMiB;
    } else {
      const int64_t free = free_disk_bytes(s.kv_disk_dir);
      if (free > 0) disk = free / 2;
    }
  }
  return host + disk;
}
}  // namespace

int auto_context(const ModelInfo& m, const EngineSettings& s, const MachineInfo& mc) {
  const int trained = m.n_ctx_train > 0 ? m.n_ctx_train : 4096;
  const size_t per_token = std::max<size_t>(1, m.kv_bytes_per_token(s.kv_type));
  // Every sequence of the engine (s.parallel) may hold the whole context: the room is theirs together.
  const int64_t fits = kv_room(m, s, mc) / int64_t(per_token) / std::max(1, s.parallel);
  int64_t ctx = std::min<int64_t>(trained, fits);
  ctx = ctx / kBlock * kBlock;
  return int(std::clamp<int64_t>(ctx, kBlock, 1 << 20));
}

int resolved_context(const ModelInfo& m, const EngineSettings& s, const MachineInfo& mc) {
  return s.ctx > 0 ? s.ctx : auto_context(m, s, mc);
}

MachineCheck validate_for_machine(const EngineSettings& s, const ModelInfo& m, const MachineInfo& mc) {
  MachineCheck r;
  r.model_bytes = m.file_bytes;
  r.ctx = resolved_context(m, s, mc);
  const int64_t per_token = int64_t(m.kv_bytes_per_token(s.kv_type));
  r.kv_bytes = per_token * r.ctx * std::max(1, s.parallel);  // the pool: the context for each sequence
  // Backend cuda: the device tier holds the first kv_gpu_mb (0 = the whole context; the engine lowers it to what
  // the GPU has free when it loads), the host tier what is left.
  if (s.backend == "cuda") {
    if (!mc.cuda_backend)
      r.errors.push_back("这台机器不能用 GPU（没有 NVIDIA 显卡，或程序没有带 CUDA 编译）：运行位置改回 CPU");
    r.kv_device_bytes = s.kv_gpu_mb > 0 ? std::min(s.kv_gpu_mb * kMiB, r.kv_bytes) : r.kv_bytes;
  }
  const int64_t host_budget = s.kv_host_mb > 0 ? s.kv_host_mb * kMiB : r.kv_bytes;
  r.kv_host_bytes = std::min(host_budget, r.kv_bytes - r.kv_device_bytes);
  r.kv_disk_bytes = r.kv_bytes - r.kv_device_bytes - r.kv_host_bytes;
  if (s.threads > mc.hardware_threads)
    r.warnings.push_back("线程数 " + std::to_string(s.threads) + " 多于本机的 " + std::to_string(mc.hardware_threads) +
                         " 个硬件线程，反而会变慢");
  if (m.n_ctx_train > 0 && r.ctx > m.n_ctx_train)
    r.warnings.push_back("上下文 " + std::to_string(r.ctx) + " 令牌超过模型训练时的长度 " +
                         std::to_string(m.n_ctx_train) + "，超出部分质量会下降");
  if (r.kv_disk_bytes > 0) {
    if (s.kv_disk_dir.empty()) {
      r.errors.push_back("KV 主机内存预算 " + mib_text(host_budget) + " 装不下 " + std::to_string(r.ctx) + " 令牌的 KV 缓存（" +
                         mib_text(r.kv_bytes) + "）：调大预算、缩小上下文，或设置磁盘分层的文件夹");
    } else {
      std::error_code ec;
      if (!std::filesystem::is_directory(s.kv_disk_dir, ec)) {
        r.errors.push_back("磁盘分层的文件夹 " + s.kv_disk_dir + " 不存在");
      } else {
        const int64_t free = free_disk_bytes(s.kv_disk_dir);
        const int64_t disk_budget = s.kv_disk_mb > 0 ? s.kv_disk_mb * kMiB : r.kv_disk_bytes;
        if (disk_budget < r.kv_disk_bytes)
          r.errors.push_back("KV 内存预算加磁盘预算（" + mib_text(host_budget + disk_budget) + "）装不下 " +
                             std::to_string(r.ctx) + " 令牌的 KV 缓存（" + mib_text(r.kv_bytes) + "）");
        else if (free >= 0 && free < r.kv_disk_bytes)
          r.errors.push_back("磁盘分层的文件夹只剩 " + mib_text(free) + "，放不下溢出的 " + mib_text(r.kv_disk_bytes));
      }
    }
  }
  // RAM: the weights are mapped (the page cache holds them while they are used) plus the KV host tier.
  const int64_t need = m.file_bytes + r.kv_host_bytes;
  if (mc.ram_total_bytes > 0 && need > mc.ram_total_bytes)
    r.errors.push_back("模型 " + mib_text(m.file_bytes) + " 加 KV 缓存 " + mib_text(r.kv_host_bytes) + " 超过本机内存 " +
                       mib_text(mc.ram_total_bytes) + "：换小一些的模型或量化，缩小上下文，或用磁盘分层");
  else if (mc.ram_available_bytes > 0 && need > mc.ram_available_bytes)
    r.warnings.push_back("模型加 KV 缓存共 " + mib_text(need) + "，多于本机现在空闲的 " + mib_text(mc.ram_available_bytes) +
                         "，会用到交换区、变慢");
  if (s.kv_type == KVType::Q8_0 && (m.head_dim % 32 != 0 || m.head_dim_v % 32 != 0))
    r.errors.push_back("KV 类型 q8_0 要求注意力头的维度是 32 的倍数（此模型为 " + std::to_string(m.head_dim) + "）：改用 f16");
  if (!m.has_tokenizer) r.errors.push_back("模型文件里没有分词器（tokenizer.ggml.*），无法使用");
  return r;
}

EngineOptions engine_options(const EngineSettings& s, int ctx) {
  EngineOptions bo;
  bo.backend = s.backend;
  bo.n_threads = s.threads;
  bo.max_sequences = s.parallel;
  bo.n_ctx = ctx;
  bo.kv_type = s.kv_type;
  bo.kv_host_bytes = size_t(s.kv_host_mb) * size_t(kMiB);
  bo.device_kv_bytes = size_t(s.kv_gpu_mb) * size_t(kMiB);
  if (!s.kv_disk_dir.empty()) {
    static std::atomic<int> n{0};  // one spill file per engine, also within one process
    bo.kv_disk = (std::filesystem::path(s.kv_disk_dir) /
                  ("changjuan-kv-" + std::to_string(getpid()) + "-" + std::to_string(n++) + ".spill"))
                     .string();
    bo.kv_disk_bytes = size_t(s.kv_disk_mb) * size_t(kMiB);
  }
  return bo;
}

}  // namespace cj::studio
