// Factories of the concrete tokenizers (engine/tokenizer.cpp picks one from VocabSpec::model).
#pragma once
#include <memory>

#include "engine/tokenizer/tokenizer.h"

namespace cj::tok {

Result<std::unique_ptr<Tokenizer>> make_byte_level_bpe(const VocabSpec& spec);  // model "gpt2"
Result<std::unique_ptr<Tokenizer>> make_sentencepiece_bpe(const VocabSpec& spec);  // model "llama"

// Token types (VocabSpec::token_types, as GGUF numbers them).
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

}  // namespace cj::tok
