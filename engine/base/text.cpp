#include "engine/base/text.h"

#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include "engine/base/utf8.h"

namespace cj::text {
namespace {

constexpr uint32_t kInvalid = 0xFFFFFFFFu;

struct Char {
  uint32_t cp;
  uint32_t off;
  uint32_t len;
};

std::vector<Char> decode_all(std::string_view s) {
  std::vector<Char> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const int n = utf8::decode(s, i, &cp);
    if (n == 0) {
      out.push_back({kInvalid, static_cast<uint32_t>(i), 1});
      ++i;
    } else {
      out.push_back({cp, static_cast<uint32_t>(i), static_cast<uint32_t>(n)});
      i += n;
    }
  }
  return out;
}

bool is_space(uint32_t cp) { return cp != kInvalid && u_isUWhiteSpace(static_cast<UChar32>(cp)); }

bool is_terminator(uint32_t cp) {
  switch (cp) {
    case 0x3002:  // 。
    case 0xFF01:  // ！
    case 0xFF1F:  // ？
    case '!': case '?':
    case 0xFF1B: case ';':  // ；
    case 0x2026:  // …
    case 0x22EF:  // ⋯
    case 0xFF61:  // ｡ halfwidth ideographic full stop
    case 0x203C: case 0x2047: case 0x2048: case 0x2049:  // ‼ ⁇ ⁈ ⁉
      return true;
    default:
      return false;
  }
}

bool is_closing(uint32_t cp) {
  switch (cp) {
    case 0x201D: case 0x2019:  // ” ’
    case 0x300D: case 0x300F:  // 」 』
    case 0xFF09: case ')': case ']': case 0x3011:  // ） ) ] 】
    case 0x300B: case 0x3009: case 0x3015: case 0xFF1E:  // 》 〉 〕 ＞
    case '"': case '\'':
    case 0xFF02: case 0xFF07:  // ＂ ＇
      return true;
    default:
      return false;
  }
}

bool is_cjk(uint32_t cp) {
  if (cp == kInvalid) return false;
  UErrorCode st = U_ZERO_ERROR;
  const UScriptCode sc = uscript_getScript(static_cast<UChar32>(cp), &st);
  return sc == USCRIPT_HAN || sc == USCRIPT_HIRAGANA || sc == USCRIPT_KATAKANA || sc == USCRIPT_HANGUL ||
         (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFFEF);
}

}  // namespace

std::vector<Span> split_sentences(std::string_view text) {
  const std::vector<Char> c = decode_all(text);
  const size_t n = c.size();
  std::vector<Span> out;
  auto emit = [&](size_t b, size_t e) {  // character indices [b, e), trimmed
    while (b < e && is_space(c[b].cp)) ++b;
    while (e > b && is_space(c[e - 1].cp)) --e;
    if (b < e) out.push_back({c[b].off, c[e - 1].off + c[e - 1].len});
  };
  size_t start = 0;
  size_t i = 0;
  while (i < n) {
    const uint32_t cp = c[i].cp;
    if (cp == '\n' || cp == '\r' || cp == 0x2029 || cp == 0x2028) {
      emit(start, i);
      start = ++i;
      continue;
    }
    bool ends = is_terminator(cp);
    if (!ends && cp == '.') {
      // A Western full stop (or "...") ends a sentence only when something sentence-like follows.
      size_t j = i;
      while (j < n && c[j].cp == '.') ++j;
      size_t k = j;
      while (k < n && is_closing(c[k].cp)) ++k;
      ends = k == n || k > j || is_space(c[k].cp) || is_cjk(c[k].cp);  // k > j: closing marks follow
      if (ends) {
        i = j - 1;  // the dots form one terminator run
      } else {
        i = j;
        continue;
      }
    }
    if (!ends) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < n && (is_terminator(c[j].cp) || c[j].cp == '.')) ++j;  // "！？" "……" "?!" "。。。"
    while (j < n && is_closing(c[j].cp)) ++j;                           // 。” 。」 ?"
    emit(start, j);
    start = i = j;
  }
  emit(start, n);
  return out;
}

std::vector<std::string_view> sentences(std::string_view text) {
  std::vector<std::string_view> out;
  for (const Span& s : split_sentences(text)) out.push_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

CharCounts count_chars(std::string_view text) {
  CharCounts r;
  bool in_word = false;
  for (size_t i = 0; i < text.size();) {
    uint32_t cp;
    const int n = utf8::decode(text, i, &cp);
    if (n == 0) {
      ++r.invalid;
      in_word = false;
      ++i;
      continue;
    }
    i += n;
    const auto c = static_cast<UChar32>(cp);
    const int8_t gc = u_charType(c);
    const bool punct = gc == U_DASH_PUNCTUATION || gc == U_START_PUNCTUATION || gc == U_END_PUNCTUATION ||
                       gc == U_CONNECTOR_PUNCTUATION || gc == U_OTHER_PUNCTUATION || gc == U_INITIAL_PUNCTUATION ||
                       gc == U_FINAL_PUNCTUATION;
    const bool symbol = gc == U_MATH_SYMBOL || gc == U_CURRENCY_SYMBOL || gc == U_MODIFIER_SYMBOL || gc == U_OTHER_SYMBOL;
    const int eaw = u_getIntPropertyValue(c, UCHAR_EAST_ASIAN_WIDTH);
    const bool wide = eaw == U_EA_FULLWIDTH || eaw == U_EA_WIDE;
    UErrorCode st = U_ZERO_ERROR;
    const bool han = uscript_getScript(c, &st) == USCRIPT_HAN && !punct && !symbol;
    const bool zh_ambiguous = cp == 0x201C || cp == 0x201D || cp == 0x2018 || cp == 0x2019 || cp == 0x2026 ||
                              cp == 0x2014 || cp == 0x2015 || cp == 0x00B7 || cp == 0x22EF;
    const bool fw_symbol = symbol && ((cp >= 0xFF01 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6));
    const bool word_char = !wide && (u_isalnum(c) || cp == '\'' || gc == U_NON_SPACING_MARK);
    if (!word_char) in_word = false;
    if (u_isUWhiteSpace(c)) {
      ++r.spaces;
    } else if (han) {
      ++r.hanzi;
    } else if ((punct && wide) || zh_ambiguous || fw_symbol) {
      ++r.punct;
    } else if (wide) {
      ++r.other_wide;
    } else if (word_char) {
      if (!in_word) ++r.western_words;
      in_word = true;
    } else if (punct || symbol) {
      ++r.western_punct;
    }
  }
  return r;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (size_t i = 0; i < s.size();) {
    size_t n = 0;
    for (std::string_view sep : {"、", "，", "；", "\u3000"})
      if (s.substr(i, sep.size()) == sep) n = sep.size();
    if (!n && (s[i] == ',' || s[i] == ';' || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) n = 1;
    if (n) {
      flush();
      i += n;
    } else {
      cur += s[i++];
    }
  }
  flush();
  return out;
}

}  // namespace cj::text
