// GPT-2's byte-level alphabet: every byte is shown as a printable code point (printable Latin-1 bytes as
// themselves, the others as U+0100 + n), so that BPE vocabularies can be stored as text.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace cj::tok {

// Code point that stands for byte b.
uint32_t byte_to_code_point(uint8_t b);
// Byte for a code point of the alphabet, or -1.
int code_point_to_byte(uint32_t cp);
// Mapped text -> raw bytes. False if a character is outside the alphabet (then *out holds the text's own UTF-8
// for those characters).
bool unmap_bytes(std::string_view mapped, std::string* out);
// Raw bytes -> mapped text.
std::string map_bytes(std::string_view raw);

}  // namespace cj::tok
