// Folding a book's characters for character discovery, one code point for one (offsets stay): traditional to
// simplified with the timeline's fold_han (reign_eras.h: ICU Traditional-Simplified per character; 張→张, 說→说:
// the surname list and the speech markers are written once, in simplified characters, and hold for
// traditional books), and full-width letters and digits to ASCII (阿Ｑ = 阿Q). Thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace cj::check {

char32_t fold_char(char32_t c);
std::u32string fold_text(std::u32string_view s);

}  // namespace cj::check
