// What this build and machine offer: version, backends, library versions. Used by `changjuan-cli info`.
#pragma once
#include <nlohmann/json.hpp>

namespace cj {
nlohmann::json build_info();
}
