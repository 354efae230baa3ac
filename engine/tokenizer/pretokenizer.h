// Pre-tokenizers of byte-level BPE, written as hand matchers over ICU character properties (no regex engine):
//   qwen2: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   gpt2:  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Character classes follow Unicode (ICU): \p{L} = general category L*, \p{N} = N*, \s = White_Space (as HF
// tokenizers' Oniguruma and llama.cpp use it). (?i:) also folds U+017F (long s) to s, as Unicode case folding does.
// Bytes that are not valid UTF-8 count as one character each of the class "other" ([^\s\p{L}\p{N}]).
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace cj::pretok {

enum class Kind : uint8_t { kQwen2, kGpt2 };

// Character class bits.
enum : uint8_t { kLetter = 1, kNumber = 2, kSpace = 4, kNewline = 8 /* CR or LF */ };

// Class of a code point (BMP from a table built once from ICU, the rest asked of ICU).
uint8_t char_class(uint32_t cp);

// Scratch buffers reused between calls (one per thread).
struct Scratch {
  std::vector<uint32_t> off;   // [n_chars + 1] byte offset of each character
  std::vector<uint32_t> cp;    // [n_chars] code point (0xFFFFFFFF for an invalid byte)
  std::vector<uint8_t> cls;    // [n_chars] class bits
};

// Splits text into pre-tokens; appends the end offset of each piece to *ends (the first starts at 0).
void split(Kind kind, std::string_view text, Scratch* scratch, std::vector<uint32_t>* ends);

}  // namespace cj::pretok
