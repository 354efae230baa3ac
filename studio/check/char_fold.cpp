#include "studio/check/char_fold.h"

#include <unicode/translit.h>
#include <unicode/unistr.h>

#include <memory>
#include <mutex>
#include <unordered_map>

#include "engine/base/result.h"

namespace cj::check {

namespace {

struct FoldTable {
  std::mutex mu;
  std::unique_ptr<icu::Transliterator> hant_hans;
  std::unordered_map<char32_t, char32_t> cache;

  FoldTable() {
    UErrorCode st = U_ZERO_ERROR;
    hant_hans.reset(icu::Transliterator::createInstance("Hant-Hans", UTRANS_FORWARD, st));
    CJ_ASSERT_MSG(U_SUCCESS(st) && hant_hans, "ICU Hant-Hans transliterator unavailable (libicu data missing?)");
  }

  char32_t fold(char32_t c) {
    if (c >= 0xFF01 && c <= 0xFF5E) return c - 0xFEE0;  // full-width ASCII
    if (c < 0x3400) return c;
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(c);
    if (it != cache.end()) return it->second;
    icu::UnicodeString s(static_cast<UChar32>(c));
    hant_hans->transliterate(s);
    char32_t out = c;
    if (s.countChar32() == 1) out = char32_t(s.char32At(0));
    cache.emplace(c, out);
    return out;
  }
};

FoldTable& table() {
  static FoldTable t;
  return t;
}

}  // namespace

char32_t fold_char(char32_t c) { return table().fold(c); }

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
