#include "studio/check/char_fold.h"

#include <unordered_map>

#include "studio/check/reign_eras.h"

namespace cj::check {

// One folding of traditional characters for the checks: the timeline's (reign_eras.h, ICU
// Traditional-Simplified per character, 乾 kept), plus full-width letters and digits.
char32_t fold_char(char32_t c) {
  if (c >= 0xFF01 && c <= 0xFF5E) return c - 0xFEE0;  // full-width ASCII
  return fold_han(c);
}

std::u32string fold_text(std::u32string_view s) {
  std::u32string out(s);
  std::unordered_map<char32_t, char32_t> local;  // fewer locks: a book has a few thousand distinct characters
  for (char32_t& c : out) {
    if (c < 0x3400 && !(c >= 0xFF01 && c <= 0xFF5E)) continue;
    auto it = local.find(c);
    if (it == local.end()) it = local.emplace(c, fold_char(c)).first;
    c = it->second;
  }
  return out;
}

}  // namespace cj::check
