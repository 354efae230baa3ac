// Where the bundled Qwen3 tokenizer.json is: $CHANGJUAN_TOKENIZER if set, else samples/tokenizer/qwen3/ under
// the current directory, beside the executable's ../../ (build/bin → source root) or ../share/changjuan.
#pragma once
#include <string>

#include "engine/base/result.h"

namespace cj::memory {

Result<std::string> bundled_tokenizer_path();

}  // namespace cj::memory
