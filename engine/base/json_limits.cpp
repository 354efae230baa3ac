#include "engine/base/json_limits.h"

namespace cj {

std::string json_limit_violation(std::string_view s, const JsonLimits& limits) {
  int depth = 0;
  size_t values = 0;
  bool in_value = false;  // inside a scalar (number, true, false, null) already counted
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      ++values;
      in_value = false;
      for (++i; i < s.size() && s[i] != '"'; ++i)
        if (s[i] == '\\') ++i;
    } else if (c == '[' || c == '{') {
      ++values;
      in_value = false;
      if (++depth > limits.max_depth)
        return "nested deeper than " + std::to_string(limits.max_depth) + " levels";
    } else if (c == ']' || c == '}') {
      in_value = false;
      if (depth > 0) --depth;
    } else if (c == ',' || c == ':' || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      in_value = false;
    } else if (!in_value) {
      in_value = true;
      ++values;
    }
    if (values > limits.max_values) return "more than " + std::to_string(limits.max_values) + " values";
  }
  return "";
}

}  // namespace cj
