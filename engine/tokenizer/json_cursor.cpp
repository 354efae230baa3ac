#include "engine/tokenizer/json_cursor.h"

#include <cstring>

#include "engine/base/utf8.h"

namespace cj::json {

bool Cursor::fail(const char* what) {
  if (err_.empty()) err_ = std::string(what) + " at byte " + std::to_string(i_);
  return false;
}

void Cursor::ws() {
  while (i_ < s_.size()) {
    const char c = s_[i_];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      ++i_;
    } else {
      break;
    }
  }
}

Cursor::Kind Cursor::peek() {
  if (!ok()) return kBad;
  ws();
  if (i_ >= s_.size()) return kEnd;
  switch (s_[i_]) {
    case '{': return kObject;
    case '[': return kArray;
    case '"': return kString;
    case 't': case 'f': return kBool;
    case 'n': return kNull;
    default: {
      const char c = s_[i_];
      if (c == '-' || (c >= '0' && c <= '9')) return kNumber;
      return kBad;
    }
  }
}

bool Cursor::begin_object() {
  if (peek() != kObject) return fail("expected an object");
  ++i_;
  first_ = true;
  return true;
}

bool Cursor::next_key(std::string* key) {
  if (!ok()) return false;
  ws();
  if (i_ >= s_.size()) return fail("unexpected end inside an object");
  if (s_[i_] == '}') {
    ++i_;
    first_ = false;
    return false;
  }
  if (!first_) {
    if (s_[i_] != ',') return fail("expected ',' or '}'");
    ++i_;
  }
  first_ = false;
  if (!read_string(key)) return false;
  ws();
  if (i_ >= s_.size() || s_[i_] != ':') return fail("expected ':'");
  ++i_;
  return true;
}

bool Cursor::begin_array() {
  if (peek() != kArray) return fail("expected an array");
  ++i_;
  first_ = true;
  return true;
}

bool Cursor::next_element() {
  if (!ok()) return false;
  ws();
  if (i_ >= s_.size()) return fail("unexpected end inside an array");
  if (s_[i_] == ']') {
    ++i_;
    first_ = false;
    return false;
  }
  if (!first_) {
    if (s_[i_] != ',') return fail("expected ',' or ']'");
    ++i_;
  }
  first_ = false;
  return true;
}

namespace {
int hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return -1;
  int v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    const char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1;
  }
  return v;
}
}  // namespace

bool Cursor::read_string(std::string* out) {
  if (peek() != kString) return fail("expected a string");
  ++i_;
  out->clear();
  while (true) {
    // Copy the run up to the next quote or backslash in one go.
    const char* p = s_.data() + i_;
    const char* end = s_.data() + s_.size();
    const char* q = p;
    while (q < end && *q != '"' && *q != '\\') ++q;
    out->append(p, q - p);
    i_ = q - s_.data();
    if (q >= end) return fail("unterminated string");
    if (*q == '"') {
      ++i_;
      return true;
    }
    // escape
    if (i_ + 1 >= s_.size()) return fail("bad escape");
    const char e = s_[i_ + 1];
    i_ += 2;
    switch (e) {
      case '"': *out += '"'; break;
      case '\\': *out += '\\'; break;
      case '/': *out += '/'; break;
      case 'b': *out += '\b'; break;
      case 'f': *out += '\f'; break;
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      case 't': *out += '\t'; break;
      case 'u': {
        int cp = hex4(s_, i_);
        if (cp < 0) return fail("bad \\u escape");
        i_ += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // A high surrogate must be followed by \uDC00-\uDFFF.
          int lo = -1;
          if (i_ + 6 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') lo = hex4(s_, i_ + 2);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            i_ += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            cp = 0xFFFD;  // lone surrogate
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        utf8::append(*out, static_cast<uint32_t>(cp));
        break;
      }
      default: return fail("bad escape");
    }
  }
}

bool Cursor::read_int(int64_t* out) {
  if (peek() != kNumber) return fail("expected a number");
  bool neg = false;
  if (s_[i_] == '-') {
    neg = true;
    ++i_;
  }
  int64_t v = 0;
  size_t start = i_;
  while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
    const int d = s_[i_++] - '0';
    if (v > (INT64_MAX - d) / 10) return fail("integer too large");
    v = v * 10 + d;
  }
  if (i_ == start) return fail("expected digits");
  if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return fail("expected an integer");
  *out = neg ? -v : v;
  return true;
}

bool Cursor::read_bool(bool* out) {
  if (peek() != kBool) return fail("expected true/false");
  if (s_.compare(i_, 4, "true") == 0) {
    *out = true;
    i_ += 4;
    return true;
  }
  if (s_.compare(i_, 5, "false") == 0) {
    *out = false;
    i_ += 5;
    return true;
  }
  return fail("expected true/false");
}

bool Cursor::read_null() {
  if (peek() != kNull || s_.compare(i_, 4, "null") != 0) return fail("expected null");
  i_ += 4;
  return true;
}

bool Cursor::skip_scalar() {
  switch (peek()) {
    case kNull: return read_null();
    case kBool: { bool b; return read_bool(&b); }
    case kString: {
      // Skip without unescaping.
      ++i_;
      while (i_ < s_.size()) {
        const char c = s_[i_];
        if (c == '\\') {
          i_ += 2;
        } else if (c == '"') {
          ++i_;
          return true;
        } else {
          ++i_;
        }
      }
      i_ = s_.size();
      return fail("unterminated string");
    }
    case kNumber: {
      ++i_;
      while (i_ < s_.size() && std::strchr("0123456789+-.eE", s_[i_]) != nullptr && s_[i_] != '\0') ++i_;
      return true;
    }
    default: return fail("expected a value");
  }
}

// Iterative: the open containers are a stack of bytes on the heap, so a file nested 100,000 levels deep costs
// 100 KB, not the thread's stack.
bool Cursor::skip_value() {
  std::string open;  // 'a' array, 'o' object, innermost last
  std::string key;
  for (;;) {
    const Kind k = peek();
    if (k == kArray) {
      begin_array();
      open.push_back('a');
    } else if (k == kObject) {
      begin_object();
      open.push_back('o');
    } else if (!skip_scalar()) {
      return false;
    }
    // Close the containers that end here; stop at the next value to skip.
    for (;;) {
      if (open.empty()) return ok();
      if (open.back() == 'a' ? next_element() : next_key(&key)) break;
      if (!ok()) return false;
      open.pop_back();
    }
  }
}

}  // namespace cj::json
