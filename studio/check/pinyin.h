// The sound of a Chinese character for the name-variant check: its toneless pinyin syllable from ICU's
// Han-Latin transliterator (one reading per character, the same for simplified and traditional forms: 張 and 张
// are both "zhang"), and a "near" key that merges the pairs writers confuse when they type or speak:
// zh/z, ch/c, sh/s, n/l (initials) and -n/-ng (finals). Data covers every CJK character ICU knows; nothing
// here is keyed to a book or a name. Results are cached per character; all functions are thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace cj::check {

// "zhang" for 张/張, "lv" for 吕 (ü is written v), "" for a character without a reading (not Han).
std::string pinyin_of(char32_t c);

// The near-sound key of a toneless syllable: "zhang" -> "zan", "ning" -> "lin", "shi" -> "si".
std::string near_sound_key(std::string_view syllable);

// Small integer ids of the syllable and of its near key (0 = no reading): equal ids mean the same sound.
struct SoundIds {
  uint32_t same = 0;
  uint32_t near = 0;
};
SoundIds sound_ids(char32_t c);

}  // namespace cj::check
