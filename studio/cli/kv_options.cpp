#include "studio/cli/kv_options.h"

#include <filesystem>
#include <system_error>

namespace cj::cli {

std::vector<OptSpec> kv_option_specs() {
  return {{"kv-type", "T", "KV cache type f16|f32|q8_0 (default f16)"},
          {"host-kv-mb", "MB", "KV host-RAM budget in MiB (default: the whole context; also --kv-host-mb)"},
          {"kv-host-mb", "MB", "same as --host-kv-mb"},
          {"kv-dir", "D", "spill KV blocks beyond the host budget to a file in folder D"},
          {"kv-disk", "F", "spill KV blocks beyond the host budget to file F"},
          {"backend", "B", "cpu|cuda: where the model runs (default cpu)"},
          {"device-kv-mb", "MB", "GPU KV budget of --backend cuda (default: the context, or what fits)"},
          {"gpu-layers", "N", "layers on the GPU with --backend cuda (default: all that fit)"},
          {"kv-select", "K", "decode attends only the best K pages of 32 tokens (1/8, 0.125 or a count) plus sinks "
                             "and the recent window (default off: exact; CPU backend)"}};
}

std::vector<OptSpec> with_kv_options(std::vector<OptSpec> base) {
  for (auto& o : kv_option_specs()) base.push_back(std::move(o));
  return base;
}

Status apply_kv_options(const Args& a, EngineOptions* bo) {
  if (!kv_type_from_name(a.get_or("kv-type", "f16"), &bo->kv_type))
    return make_error("--kv-type must be f16, f32 or q8_0");
  if (a.has("host-kv-mb") && a.has("kv-host-mb")) return make_error("give --host-kv-mb or --kv-host-mb, not both");
  const char* host_opt = a.has("kv-host-mb") ? "kv-host-mb" : "host-kv-mb";
  auto host_mb = a.get_int(host_opt, 0, 0, int64_t(1) << 30);
  if (!host_mb.ok()) return make_error(host_mb.error());
  if (*host_mb < 0) return make_error(std::string("--") + host_opt + " must be positive");
  bo->kv_host_bytes = size_t(*host_mb) << 20;
  auto device_mb = a.get_int("device-kv-mb", 0);
  if (!device_mb.ok()) return make_error(device_mb.error());
  if (*device_mb < 0) return make_error("--device-kv-mb must be positive");
  bo->device_kv_bytes = size_t(*device_mb) << 20;
  auto gpu_layers = a.get_int("gpu-layers", -1);
  if (!gpu_layers.ok()) return make_error(gpu_layers.error());
  if (*gpu_layers < -1) return make_error("--gpu-layers must be 0 or more (or -1 for all that fit)");
  bo->gpu_layers = int(*gpu_layers);
  bo->backend = a.get_or("backend", "cpu");
  if (bo->backend != "cpu" && bo->backend != "cuda") return make_error("--backend must be cpu or cuda");
  if (bo->backend == "cpu" && (bo->device_kv_bytes || bo->gpu_layers > 0))
    return make_error("--device-kv-mb and --gpu-layers set the GPU side of the CUDA backend (--backend cuda); this "
                      "command runs on the CPU (use --host-kv-mb and --kv-dir)");
  if (a.has("kv-dir") && a.has("kv-disk")) return make_error("give --kv-dir or --kv-disk, not both");
  if (a.has("kv-dir")) {
    const std::filesystem::path dir(*a.get("kv-dir"));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
      return make_error("--kv-dir " + dir.string() + ": not a folder that can be created (" + ec.message() + ")");
    bo->kv_disk = (dir / "changjuan-kv.spill").string();
  } else {
    bo->kv_disk = a.get_or("kv-disk", "");
  }
  if (Status s = parse_kv_select(a.get_or("kv-select", "off"), &bo->kv_select); !s.ok()) return s;
  return Status::Ok();
}

std::vector<OptSpec> engine_kv_option_specs() {
  return {{"kv-type", "T", "KV cache type f16|f32|q8_0 (default f16; q8_0 halves the KV memory)"},
          {"kv-host-mb", "MB", "KV host-RAM budget in MiB (default: room for the whole context)"},
          {"host-kv-mb", "MB", "same as --kv-host-mb"},
          {"kv-dir", "D", "KV disk tier: spill blocks beyond the host budget to a file in folder D"},
          {"kv-disk-mb", "MB", "KV disk tier budget in MiB (default: room for the whole context)"}};
}

Status apply_kv_options(const Args& a, studio::EngineSettings* s) {
  if (!kv_type_from_name(a.get_or("kv-type", "f16"), &s->kv_type))
    return make_error("--kv-type must be f16, f32 or q8_0");
  if (a.has("host-kv-mb") && a.has("kv-host-mb")) return make_error("give --host-kv-mb or --kv-host-mb, not both");
  const char* host_opt = a.has("host-kv-mb") ? "host-kv-mb" : "kv-host-mb";
  auto host_mb = a.get_int(host_opt, 0);
  auto disk_mb = a.get_int("kv-disk-mb", 0);
  if (!host_mb.ok()) return make_error(host_mb.error());
  if (!disk_mb.ok()) return make_error(disk_mb.error());
  if (*host_mb < 0) return make_error(std::string("--") + host_opt + " cannot be negative");
  if (*disk_mb < 0) return make_error("--kv-disk-mb cannot be negative");
  s->kv_host_mb = *host_mb;
  s->kv_disk_mb = *disk_mb;
  if (a.has("kv-dir")) {
    const std::filesystem::path dir(*a.get("kv-dir"));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
      return make_error("--kv-dir " + dir.string() + ": not a folder that can be created (" + ec.message() + ")");
    s->kv_disk_dir = dir.string();
  } else if (*disk_mb > 0) {
    return make_error("--kv-disk-mb needs --kv-dir (the folder of the spill file)");
  }
  return Status::Ok();
}

}  // namespace cj::cli
