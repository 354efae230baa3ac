// UTF-8 helpers: validation, decoding, code-point counts, NFC. All byte offsets are into UTF-8 strings.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cj::utf8 {

// Decodes one code point at s[i]; returns its length in bytes (1..4), or 0 if the sequence is invalid
// (overlong, surrogate, > U+10FFFF, truncated). On success *cp holds the code point.
int decode(std::string_view s, size_t i, uint32_t* cp);

// Appends the UTF-8 encoding of cp (must be a valid scalar value).
void append(std::string& out, uint32_t cp);

// True if s is entirely valid UTF-8. On failure *bad_offset (if given) is the first invalid byte.
bool valid(std::string_view s, size_t* bad_offset = nullptr);

// Number of code points (s must be valid UTF-8; invalid bytes count as one each).
size_t count_code_points(std::string_view s);

// Replaces each invalid byte sequence with U+FFFD.
std::string sanitize(std::string_view s);

// Unicode NFC normalisation (ICU). Input must be valid UTF-8.
std::string nfc(std::string_view s);

// Code points of s (invalid bytes become U+FFFD).
std::vector<uint32_t> to_code_points(std::string_view s);

}  // namespace cj::utf8
