// Which characters a writer confuses in a name, computed for any pair of CJK characters (nothing is listed):
//   同音 the same toneless pinyin (ICU Han-Latin, pinyin.h): 黛/戴, 張/章;
//   近音 the same after merging zh/z, ch/c, sh/s, n/l and -n/-ng: 珍 zhen / 政 zheng, 林 lin / 宁 ning, 志 zhi / 字 zi;
//   形近 glyphs that look alike in the CJK font (glyph_shape.h), similarity >= kShapeThreshold: 玉/王, 己/已.
// Used by the name-variant check and by the variant evaluation (which injects confusions from the same data).
#pragma once
#include <cstdint>
#include <string>

namespace cj::check {

enum Confusion : uint8_t {
  kConfNone = 0,
  kConfSameSound = 1,  // 同音
  kConfNearSound = 2,  // 近音
  kConfShape = 4,      // 形近
};

inline constexpr float kShapeThreshold = 0.75f;

// The rules that hold for the pair (a bit set of Confusion); kConfNone for a == b. 近音 is not set when 同音 is.
uint8_t confusion(char32_t a, char32_t b);

// "同音", "近音", "形近", or several joined with "、" ("同音、形近").
std::string confusion_label(uint8_t rules);

// Whether the shape rule can run (the font is there); otherwise a one-line note for the writer.
bool shape_rule_available();
std::string shape_rule_note();

}  // namespace cj::check
