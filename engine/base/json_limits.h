// Limits checked on JSON text from outside (a request body, a file header) before a DOM parser sees it: the
// nesting depth and the number of values decide the parser's memory (nlohmann::json spends ~50–100 bytes per
// value, so "[[[[…" or "[1,1,1,…" of a few MB would cost hundreds of MB). One linear pass, no allocation.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace cj {

struct JsonLimits {
  int max_depth = 64;             // arrays/objects open at once
  size_t max_values = 1u << 20;   // scalars + containers
};

// "" when `text` stays within the limits, else a one-line reason ("nested deeper than 64 levels"). Syntax is not
// checked here (the parser does that); strings are skipped with their escapes.
std::string json_limit_violation(std::string_view text, const JsonLimits& limits);

}  // namespace cj
