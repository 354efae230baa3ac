// Loading a tokenizer from a path, whatever its kind: tokenizer.json (HF), a llama2.c tokenizer .bin, or a
// GGUF file (its tokenizer.ggml.* keys).
#pragma once
#include <memory>
#include <string>

#include "engine/tokenizer/tokenizer.h"

namespace cj {

Result<VocabSpec> load_vocab_spec(const std::string& path);
Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path);

}  // namespace cj
