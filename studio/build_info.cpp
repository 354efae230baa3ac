#include "studio/build_info.h"

#include <sqlite3.h>
#include <unicode/uversion.h>

#include <thread>

#include "engine/engine.h"

#ifdef CHANGJUAN_HAVE_CUDA
#include "engine/cuda/device_info.h"
#endif

namespace cj {

nlohmann::json build_info() {
  nlohmann::json j;
  j["version"] = "0.1.0";
  j["sqlite"] = sqlite3_libversion();
  j["icu"] = U_ICU_VERSION;
  j["hardware_threads"] = std::thread::hardware_concurrency();
  j["backends"] = available_backends();  // what runs here, not what was compiled
#ifdef CHANGJUAN_HAVE_CUDA
  j["cuda_compiled"] = true;
  std::string why;
  auto devs = cuda::list_devices(&why);
  j["cuda_devices"] = nlohmann::json::array();
  for (const auto& d : devs) {
    j["cuda_devices"].push_back({{"index", d.index}, {"name", d.name},
                                 {"sm", std::to_string(d.sm_major) + std::to_string(d.sm_minor)},
                                 {"memory_mb", d.total_bytes >> 20}});
  }
  if (devs.empty()) j["cuda_status"] = why;
#else
  j["cuda_compiled"] = false;
#endif
  return j;
}

}  // namespace cj
