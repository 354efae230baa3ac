#include "storage/text_decoder.h"

#include <unicode/ucnv.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "engine/base/utf8.h"

namespace cj::storage {
namespace {

std::string normalize_newlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Converts with ICU, failing on the first illegal or unmappable sequence.
Result<std::string> convert(std::string_view bytes, const char* charset, const std::string& name) {
  UErrorCode st = U_ZERO_ERROR;
  UConverter* from = ucnv_open(charset, &st);
  if (U_FAILURE(st)) return make_error(std::string("ICU has no converter for ") + charset);
  std::unique_ptr<UConverter, void (*)(UConverter*)> guard(from, ucnv_close);
  ucnv_setToUCallBack(from, UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &st);
  st = U_ZERO_ERROR;
  std::u16string u16(bytes.size() + 2, u'\0');
  UChar* target = reinterpret_cast<UChar*>(u16.data());
  UChar* target_start = target;
  const char* src = bytes.data();
  ucnv_toUnicode(from, &target, target_start + u16.size(), &src, bytes.data() + bytes.size(), nullptr, true, &st);
  if (U_FAILURE(st)) {
    const size_t off = static_cast<size_t>(src - bytes.data());
    return make_error(name + " is not valid " + charset + " (bad bytes near offset " + std::to_string(off) + ")");
  }
  u16.resize(static_cast<size_t>(target - target_start));
  std::string utf8;
  for (size_t i = 0; i < u16.size(); ++i) {
    uint32_t cp = u16[i];
    if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < u16.size() && u16[i + 1] >= 0xDC00 && u16[i + 1] < 0xE000) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (u16[i + 1] - 0xDC00);
      ++i;
    } else if (cp >= 0xD800 && cp < 0xE000) {
      return make_error(name + " is not valid " + charset + " (unpaired surrogate)");
    }
    utf8::append(utf8, cp);
  }
  return utf8;
}

// Rejects text with NULs or many control characters (a binary file that happened to decode).
Status check_textual(std::string_view s, const std::string& name) {
  size_t controls = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return make_error(name + " looks like a binary file, not text (it contains NUL bytes)");
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\f' && c != '\r' && c != 0x1a) ++controls;
  }
  if (controls > 8 && controls * 100 > s.size()) return make_error(name + " looks like a binary file, not text");
  return Status::Ok();
}

bool looks_like_big5(std::string_view b) {
  size_t pairs = 0, outside_gb2312 = 0;
  for (size_t i = 0; i + 1 < b.size();) {
    const auto c = static_cast<unsigned char>(b[i]), d = static_cast<unsigned char>(b[i + 1]);
    if (c < 0x81 || c == 0xFF) {
      ++i;
    } else if (d >= 0x30 && d <= 0x39) {
      i += 4;  // a GB18030 four-byte sequence: not Big5
      outside_gb2312 = 0;
      pairs = 1;
      break;
    } else {
      ++pairs;
      outside_gb2312 += c < 0xA1 || d < 0xA1;
      i += 2;
    }
  }
  return pairs >= 8 && outside_gb2312 * 5 > pairs;
}

// Fraction of code points that are common in Chinese prose: ASCII, CJK punctuation, the basic CJK block,
// general punctuation and full-width forms.
double plausibility(std::string_view s) {
  size_t total = 0, good = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const int n = utf8::decode(s, i, &cp);
    i += n ? static_cast<size_t>(n) : 1;
    ++total;
    good += cp < 0x80 || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
            (cp >= 0x2010 && cp <= 0x2027) || (cp >= 0xFF01 && cp <= 0xFF5E);
  }
  return total ? static_cast<double>(good) / static_cast<double>(total) : 0;
}

// UTF-16 saved without a byte order mark. Text has NUL bytes only as halves of UTF-16 code units (every ASCII
// character, and 一 U+4E00 and its kin), so a file with NULs is decoded both ways round and kept when one of the
// two reads as prose (a binary file reads as neither; the wrong byte order turns punctuation into Latin letters).
std::optional<std::pair<std::string, std::string>> decode_utf16_without_bom(std::string_view b, const std::string& name) {
  if (b.size() < 4 || b.size() % 2 != 0 || b.find('\0') == std::string_view::npos) return std::nullopt;
  std::optional<std::pair<std::string, std::string>> best;
  double best_score = 0.8;  // at least this plausible
  for (const char* enc : {"UTF-16LE", "UTF-16BE"}) {
    auto text = convert(b, enc, name);
    if (!text.ok()) continue;
    const double p = plausibility(*text);
    if (p > best_score) {
      best_score = p;
      best = std::make_pair(std::string(enc) + " (no BOM)", std::move(*text));
    }
  }
  return best;
}

size_t line_of(std::string_view s, size_t off) {
  size_t line = 1;
  for (size_t i = 0; i < off && i < s.size(); ++i) line += s[i] == '\n';
  return line;
}

}  // namespace

Result<DecodedText> decode_text(std::string_view b, const std::string& name) {
  if (b.empty()) return make_error(name + " is empty");
  auto starts = [&](std::string_view p) { return b.substr(0, p.size()) == p; };
  DecodedText out;
  std::string utf8;
  if (starts(std::string_view("\xFF\xFE\x00\x00", 4)) || starts(std::string_view("\x00\x00\xFE\xFF", 4))) {
    const bool le = b[0] == '\xFF';
    out.encoding = le ? "UTF-32LE" : "UTF-32BE";
    auto r = convert(b.substr(4), out.encoding.c_str(), name);
    if (!r.ok()) return Error{r.error()};
    utf8 = std::move(*r);
  } else if (starts("\xFF\xFE") || starts("\xFE\xFF")) {
    const bool le = b[0] == '\xFF';
    out.encoding = le ? "UTF-16LE" : "UTF-16BE";
    auto r = convert(b.substr(2), out.encoding.c_str(), name);
    if (!r.ok()) return Error{r.error()};
    utf8 = std::move(*r);
  } else if (auto u16 = decode_utf16_without_bom(b, name)) {
    out.encoding = u16->first;
    utf8 = std::move(u16->second);
  } else {
    std::string_view body = b;
    bool bom = false;
    if (starts("\xEF\xBB\xBF")) {
      body = b.substr(3);
      bom = true;
    }
    CJ_TRY(check_textual(body, name));
    size_t bad = 0;
    if (utf8::valid(body, &bad)) {
      out.encoding = bom ? "UTF-8 (BOM)" : "UTF-8";
      utf8.assign(body);
    } else {
      // Mostly-valid UTF-8 with a few broken sequences is damaged UTF-8, not GB18030: say where.
      size_t good_multi = 0, broken = 0;
      for (size_t i = 0; i < body.size();) {
        uint32_t cp;
        const int n = utf8::decode(body, i, &cp);
        if (n == 0) {
          ++broken;
          ++i;
        } else {
          good_multi += n > 1;
          i += static_cast<size_t>(n);
        }
      }
      if (bom || good_multi > 4 * broken) {
        return make_error(name + " is not valid UTF-8: broken byte sequence at byte " + std::to_string(bad) +
                          " (line " + std::to_string(line_of(body, bad)) + "); fix or re-save the file as UTF-8");
      }
      // GBK text keeps almost all double-byte characters in the GB2312 area (both bytes >= 0xA1); Big5 puts
      // about 40 % of them outside it (second byte 0x40-0x7E) and would decode as rare GBK characters.
      // GBK-encoded traditional characters fall outside GB2312 too, so when both decodings are valid the one
      // with fewer implausible characters (private use, compatibility forms, rare extensions) wins.
      if (looks_like_big5(body)) {
        auto big5 = convert(body, "Big5", name);
        auto gb = convert(body, "GB18030", name);
        if (big5.ok() && (!gb.ok() || plausibility(*big5) > plausibility(*gb))) {
          out.encoding = "Big5";
          utf8 = std::move(*big5);
        }
      }
    }
    if (out.encoding.empty()) {
      auto r = convert(body, "GB18030", name);
      if (!r.ok()) {
        return make_error(name + " is neither UTF-8 nor GB18030/GBK text (first non-UTF-8 byte at offset " +
                          std::to_string(bad) + "); re-save it as UTF-8");
      }
      out.encoding = "GB18030";
      utf8 = std::move(*r);
    }
  }
  CJ_TRY(check_textual(utf8, name));
  if (!utf8.empty() && utf8.substr(0, 3) == "\xEF\xBB\xBF") utf8.erase(0, 3);  // BOM inside UTF-16/32
  out.text = normalize_newlines(utf8);
  if (out.text.find_first_not_of(" \t\n\f") == std::string::npos)
    return make_error(name + " contains no text (only whitespace)");
  return out;
}

Result<std::string> encode_text(std::string_view utf8, const std::string& encoding) {
  if (encoding == "UTF-8") return std::string(utf8);
  if (encoding == "UTF-8 (BOM)") return "\xEF\xBB\xBF" + std::string(utf8);
  const std::string no_bom = " (no BOM)";
  const bool bom = encoding.size() < no_bom.size() || encoding.compare(encoding.size() - no_bom.size(), no_bom.size(), no_bom) != 0;
  const std::string charset = bom ? encoding : encoding.substr(0, encoding.size() - no_bom.size());
  std::string out;
  if (bom && charset == "UTF-16LE") out = "\xFF\xFE";
  else if (bom && charset == "UTF-16BE") out = "\xFE\xFF";
  else if (bom && charset == "UTF-32LE") out = std::string("\xFF\xFE\x00\x00", 4);
  else if (bom && charset == "UTF-32BE") out = std::string("\x00\x00\xFE\xFF", 4);
  else if (charset != "GB18030" && charset != "Big5") return make_error("cannot write text as " + encoding);
  std::u16string u16;
  u16.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    uint32_t cp;
    const int n = utf8::decode(utf8, i, &cp);
    if (n == 0) return make_error("the text is not valid UTF-8 at byte " + std::to_string(i));
    i += static_cast<size_t>(n);
    if (cp >= 0x10000) {
      u16 += static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
      u16 += static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      u16 += static_cast<char16_t>(cp);
    }
  }
  UErrorCode st = U_ZERO_ERROR;
  UConverter* to = ucnv_open(charset.c_str(), &st);
  if (U_FAILURE(st)) return make_error("ICU has no converter for " + charset);
  std::unique_ptr<UConverter, void (*)(UConverter*)> guard(to, ucnv_close);
  ucnv_setFromUCallBack(to, UCNV_FROM_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &st);
  st = U_ZERO_ERROR;
  const size_t head = out.size();
  out.resize(head + u16.size() * 4 + 8);
  char* target = out.data() + head;
  const UChar* src = reinterpret_cast<const UChar*>(u16.data());
  const UChar* src_end = src + u16.size();
  ucnv_fromUnicode(to, &target, out.data() + out.size(), &src, src_end, nullptr, true, &st);
  if (U_FAILURE(st)) {
    // The character the converter stopped at (it has consumed it already).
    size_t at = static_cast<size_t>(src - reinterpret_cast<const UChar*>(u16.data()));
    std::string ch;
    if (at > 0) {
      uint32_t cp = u16[at - 1];
      if (cp >= 0xDC00 && cp < 0xE000 && at > 1) cp = 0x10000 + ((uint32_t(u16[at - 2]) - 0xD800) << 10) + (cp - 0xDC00);
      utf8::append(ch, cp);
    }
    return make_error(charset + " cannot hold the character " + (ch.empty() ? std::string("?") : "“" + ch + "”") +
                      "; save the text as UTF-8 instead");
  }
  out.resize(static_cast<size_t>(target - out.data()));
  return out;
}

std::string content_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace cj::storage
