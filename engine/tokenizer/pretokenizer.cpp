#include "engine/tokenizer/pretokenizer.h"

#include <unicode/uchar.h>

#include <memory>

#include "engine/base/utf8.h"

namespace cj::pretok {
namespace {

uint8_t icu_class(uint32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  uint8_t k = 0;
  const int8_t t = u_charType(c);
  switch (t) {
    case U_UPPERCASE_LETTER: case U_LOWERCASE_LETTER: case U_TITLECASE_LETTER: case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      k |= kLetter;
      break;
    case U_DECIMAL_DIGIT_NUMBER: case U_LETTER_NUMBER: case U_OTHER_NUMBER:
      k |= kNumber;
      break;
    default: break;
  }
  if (u_isUWhiteSpace(c)) k |= kSpace;
  if (cp == '\r' || cp == '\n') k |= kNewline;
  return k;
}

const uint8_t* bmp_table() {
  static const std::unique_ptr<uint8_t[]> table = [] {
    std::unique_ptr<uint8_t[]> t(new uint8_t[0x10000]);
    for (uint32_t cp = 0; cp < 0x10000; ++cp) t[cp] = icu_class(cp);
    return t;
  }();
  return table.get();
}

constexpr uint32_t kInvalid = 0xFFFFFFFFu;

inline bool is_other(uint8_t c) { return (c & (kLetter | kNumber | kSpace)) == 0; }

inline uint32_t lower_ascii(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp == 0x17F) return 's';  // LATIN SMALL LETTER LONG S folds to s
  return cp;
}

// Length in characters of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
inline size_t contraction(const uint32_t* cp, size_t i, size_t n, bool fold) {
  if (cp[i] != '\'' || i + 1 >= n) return 0;
  const uint32_t a = fold ? lower_ascii(cp[i + 1]) : cp[i + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= n) return 0;
  const uint32_t b = fold ? lower_ascii(cp[i + 2]) : cp[i + 2];
  if ((a == 'r' || a == 'v') && b == 'e') return 3;
  if (a == 'l' && b == 'l') return 3;
  return 0;
}

// Whitespace alternatives shared by both patterns, at a whitespace character i.
// with_newline_rule: qwen2's \s*[\r\n]+ comes first.
inline size_t whitespace(const uint8_t* cls, size_t i, size_t n, bool with_newline_rule) {
  size_t e = i;
  size_t last_nl = SIZE_MAX;
  while (e < n && (cls[e] & kSpace)) {
    if (cls[e] & kNewline) last_nl = e;
    ++e;
  }
  if (with_newline_rule && last_nl != SIZE_MAX) return last_nl + 1 - i;  // \s*[\r\n]+
  if (e == n) return e - i;                                               // \s+(?!\S) at the end
  if (e - i >= 2) return e - i - 1;                                       // \s+(?!\S): leave one before \S
  return e - i;                                                           // \s+
}

size_t match_qwen2(const uint32_t* cp, const uint8_t* cls, size_t i, size_t n) {
  const uint8_t c = cls[i];
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (size_t k = contraction(cp, i, n, true)) return k;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  size_t j = SIZE_MAX;
  if (c & kLetter) {
    j = i;
  } else if (!(c & (kNewline | kNumber)) && i + 1 < n && (cls[i + 1] & kLetter)) {
    j = i + 1;
  }
  if (j != SIZE_MAX) {
    while (j < n && (cls[j] & kLetter)) ++j;
    return j - i;
  }
  // \p{N}
  if (c & kNumber) return 1;
  // ' '?[^\s\p{L}\p{N}]+[\r\n]*
  j = SIZE_MAX;
  if (cp[i] == ' ' && i + 1 < n && is_other(cls[i + 1])) {
    j = i + 1;
  } else if (is_other(c)) {
    j = i;
  }
  if (j != SIZE_MAX) {
    while (j < n && is_other(cls[j])) ++j;
    while (j < n && (cls[j] & kNewline)) ++j;
    return j - i;
  }
  return whitespace(cls, i, n, true);
}

size_t match_gpt2(const uint32_t* cp, const uint8_t* cls, size_t i, size_t n) {
  if (size_t k = contraction(cp, i, n, false)) return k;
  const size_t s = (cp[i] == ' ' && i + 1 < n) ? 1 : 0;  // optional leading space
  const uint8_t c = cls[i + s];
  for (uint8_t want : {kLetter, kNumber}) {
    if (c & want) {
      size_t j = i + s;
      while (j < n && (cls[j] & want)) ++j;
      return j - i;
    }
  }
  if (is_other(c)) {
    size_t j = i + s;
    while (j < n && is_other(cls[j])) ++j;
    return j - i;
  }
  // s == 1 and the next char is whitespace, or cls[i] is whitespace.
  return whitespace(cls, i, n, false);
}

}  // namespace

uint8_t char_class(uint32_t cp) { return cp < 0x10000 ? bmp_table()[cp] : icu_class(cp); }

void split(Kind kind, std::string_view text, Scratch* sc, std::vector<uint32_t>* ends) {
  const uint8_t* table = bmp_table();
  const size_t nb = text.size();
  sc->off.resize(nb + 1);
  sc->cp.resize(nb);
  sc->cls.resize(nb);
  uint32_t* off = sc->off.data();
  uint32_t* cps = sc->cp.data();
  uint8_t* cls = sc->cls.data();
  size_t n = 0;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  for (size_t i = 0; i < nb;) {
    const uint8_t b = s[i];
    off[n] = static_cast<uint32_t>(i);
    if (b < 0x80) {
      cps[n] = b;
      cls[n] = table[b];
      ++i;
    } else {
      uint32_t cp;
      const int len = utf8::decode(text, i, &cp);
      if (len == 0) {
        cps[n] = kInvalid;
        cls[n] = 0;  // "other"
        ++i;
      } else {
        cps[n] = cp;
        cls[n] = cp < 0x10000 ? table[cp] : icu_class(cp);
        i += len;
      }
    }
    ++n;
  }
  off[n] = static_cast<uint32_t>(nb);
  for (size_t i = 0; i < n;) {
    const size_t k = kind == Kind::kQwen2 ? match_qwen2(cps, cls, i, n) : match_gpt2(cps, cls, i, n);
    i += k;
    ends->push_back(off[i]);
  }
}

}  // namespace cj::pretok
