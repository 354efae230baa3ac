// A forward-only JSON reader for large, trusted-shape files (tokenizer.json is 11 MB: a DOM is too slow to
// build). The caller walks the document: objects key by key, arrays element by element, skipping what it does
// not need. Errors stop the walk; error() says where.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cj::json {

class Cursor {
 public:
  explicit Cursor(std::string_view text) : s_(text) {}

  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject, kEnd, kBad };
  Kind peek();  // kind of the next value (skips whitespace)

  bool begin_object();                 // consumes '{'
  bool next_key(std::string* key);     // next key of the current object (consumes ':'); false at '}' or on error
  bool begin_array();                  // consumes '['
  bool next_element();                 // true if another element follows (consumes ','); false at ']' or error
  bool read_string(std::string* out);  // unescapes \uXXXX (with surrogate pairs) and the short escapes
  bool read_int(int64_t* out);
  bool read_bool(bool* out);
  bool read_null();
  bool skip_value();  // any value, however deeply nested (iterative)

  bool ok() const { return err_.empty(); }
  const std::string& error() const { return err_; }
  size_t offset() const { return i_; }

 private:
  bool fail(const char* what);
  bool skip_scalar();
  void ws();
  std::string_view s_;
  size_t i_ = 0;
  bool first_ = false;  // at the first element/key of the innermost container
  std::string err_;
};

}  // namespace cj::json
