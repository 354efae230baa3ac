// Lenient parsing of JSON written by a language model. Models wrap JSON in ```json fences, put prose around
// it, leave trailing commas, and get cut off by the token limit in the middle of an array. parse_model_json()
// repairs those (in that order: fences and prose, trailing commas, truncation — the last complete element of
// the outermost array is kept) and reports what it could not repair. It never throws and never crashes.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"

namespace cj::check {

struct ParsedJson {
  nlohmann::json value;
  bool repaired = false;     // the text was not valid JSON as it came
  std::string repairs;       // what was done ("fence", "trailing comma", "truncated array"), comma-separated
};

Result<ParsedJson> parse_model_json(std::string_view text);

}  // namespace cj::check
