// Decoding imported text files to UTF-8 with LF line ends. Detects: UTF-8 (with or without BOM), UTF-16 LE/BE
// and UTF-32 LE/BE with a BOM, and GB18030 (a superset of GBK and GB2312) when the bytes are not UTF-8 — or
// Big5 (traditional Chinese) when the double-byte pattern says so and the bytes are valid Big5.
// Refuses, with a message that says why: empty files, binary files (NUL bytes, control characters), UTF-8 with
// broken sequences (the byte offset and line are given), bytes that are neither UTF-8 nor GB18030.
#pragma once
#include <string>
#include <string_view>

#include "engine/base/result.h"

namespace cj::storage {

struct DecodedText {
  std::string text;      // valid UTF-8, "\r\n" and lone "\r" turned into "\n", no BOM
  std::string encoding;  // "UTF-8", "UTF-8 (BOM)", "UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE", "GB18030", "Big5"
};

// `name` is used in error messages (the file name).
Result<DecodedText> decode_text(std::string_view bytes, const std::string& name = "the file");

// The inverse of decode_text, for saving a file back as it was read: `utf8` becomes bytes of `encoding` (a
// DecodedText::encoding value), with the byte order mark that name implies ("UTF-8 (BOM)", "UTF-16LE" — read with a
// BOM — but not "UTF-16LE (no BOM)"). Line ends are the caller's. Fails, naming the character, when the encoding
// cannot hold one (Big5 has no simplified characters).
Result<std::string> encode_text(std::string_view utf8, const std::string& encoding);

// A 64-bit FNV-1a hash of `s` as 16 hex digits (re-import detection, summary source hashes). Not cryptographic.
std::string content_hash(std::string_view s);

}  // namespace cj::storage
