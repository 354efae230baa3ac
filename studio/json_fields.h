// Typed reads of JSON fields that came from outside (settings files, job rows, request bodies): a field of the
// wrong type or out of its C++ type's range is an error naming the field, never a library exception or a silent
// truncation (nlohmann's get<int>() of 4294971392 gives 4096).
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"

namespace cj::studio {

// Reads j[key] into *out when present (absent or null: *out unchanged). `what` prefixes errors ("setting").
template <typename T>
Status json_field(const nlohmann::json& j, const char* key, T* out, const std::string& what) {
  if (!j.is_object()) return make_error(what + ": not a JSON object");
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status();
  const nlohmann::json& v = *it;
  const std::string name = what + " " + key;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) return make_error(name + " must be a string");
    *out = v.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) return make_error(name + " must be true or false");
    *out = v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) return make_error(name + " must be a whole number");
    const bool fits = v.is_number_unsigned()
                          ? v.get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max())
                          : (std::is_signed_v<T> ? v.get<int64_t>() >= int64_t(std::numeric_limits<T>::min()) &&
                                                       v.get<int64_t>() <= int64_t(std::numeric_limits<T>::max())
                                                 : v.get<int64_t>() >= 0);
    if (!fits) return make_error(name + " is out of range");
    *out = v.get<T>();
  } else {
    static_assert(std::is_floating_point_v<T>);
    if (!v.is_number()) return make_error(name + " must be a number");
    const double d = v.get<double>();
    if (!(d >= -double(std::numeric_limits<T>::max()) && d <= double(std::numeric_limits<T>::max())))
      return make_error(name + " is out of range");
    *out = T(d);
  }
  return Status();
}

}  // namespace cj::studio
