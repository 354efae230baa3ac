#include "engine/tokenizer/byte_level.h"

#include <array>

#include "engine/base/utf8.h"

namespace cj::tok {
namespace {

struct Tables {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 512> to_byte{};  // code points of the alphabet are < 0x144
  Tables() {
    to_byte.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_cp[b] = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + n++);
      to_byte[to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint32_t byte_to_code_point(uint8_t b) { return tables().to_cp[b]; }

int code_point_to_byte(uint32_t cp) { return cp < 512 ? tables().to_byte[cp] : -1; }

bool unmap_bytes(std::string_view mapped, std::string* out) {
  out->clear();
  bool ok = true;
  for (size_t i = 0; i < mapped.size();) {
    uint32_t cp;
    const int n = utf8::decode(mapped, i, &cp);
    if (n == 0) {
      out->push_back(mapped[i]);
      ok = false;
      ++i;
      continue;
    }
    const int b = code_point_to_byte(cp);
    if (b >= 0) {
      out->push_back(static_cast<char>(b));
    } else {
      out->append(mapped.substr(i, n));
      ok = false;
    }
    i += n;
  }
  return ok;
}

std::string map_bytes(std::string_view raw) {
  std::string out;
  for (char c : raw) utf8::append(out, byte_to_code_point(static_cast<uint8_t>(c)));
  return out;
}

}  // namespace cj::tok
