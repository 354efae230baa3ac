// changjuan-cli info: version, compiled backends, visible GPUs.
#include <cstdio>

#include "studio/build_info.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_info(const Args& a) {
  const auto j = build_info();
  if (a.has("json")) {
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("changjuan %s\nSQLite %s, ICU %s, %d hardware threads\n", j["version"].get<std::string>().c_str(),
              j["sqlite"].get<std::string>().c_str(), j["icu"].get<std::string>().c_str(),
              j["hardware_threads"].get<int>());
  std::string runs;
  for (const auto& b : j["backends"]) runs += (runs.empty() ? "" : ", ") + b.get<std::string>();
  std::printf("backends that run here: %s\n", runs.c_str());
  if (!j["cuda_compiled"].get<bool>()) {
    std::printf("CUDA backend: not compiled (nvcc was not found at build time)\n");
  } else if (j["cuda_devices"].empty()) {
    std::printf("CUDA backend: compiled; no usable GPU (%s)\n", j["cuda_status"].get<std::string>().c_str());
  } else {
    for (const auto& d : j["cuda_devices"])
      std::printf("CUDA device %d: %s (sm_%s, %d MB)\n", d["index"].get<int>(), d["name"].get<std::string>().c_str(),
                  d["sm"].get<std::string>().c_str(), d["memory_mb"].get<int>());
  }
  return 0;
}

Registrar reg({.name = "info",
               .summary = "show the version, compiled backends and visible GPUs",
               .options = {{"json", "", "print JSON"}},
               .run = run_info});

}  // namespace
}  // namespace cj::cli
