#include "studio/check/confusables.h"

#include "studio/check/glyph_shape.h"
#include "studio/check/pinyin.h"

namespace cj::check {

uint8_t confusion(char32_t a, char32_t b) {
  if (a == b) return kConfNone;
  uint8_t r = kConfNone;
  const SoundIds sa = sound_ids(a), sb = sound_ids(b);
  if (sa.same != 0 && sa.same == sb.same) r |= kConfSameSound;
  else if (sa.near != 0 && sa.near == sb.near) r |= kConfNearSound;
  if (GlyphShapes::shared().similarity(a, b) >= kShapeThreshold) r |= kConfShape;
  return r;
}

std::string confusion_label(uint8_t rules) {
  std::string out;
  auto add = [&](const char* s) { out += (out.empty() ? "" : "、") + std::string(s); };
  if (rules & kConfSameSound) add("同音");
  if (rules & kConfNearSound) add("近音");
  if (rules & kConfShape) add("形近");
  return out;
}

bool shape_rule_available() { return GlyphShapes::shared().available(); }
std::string shape_rule_note() { return GlyphShapes::shared().note(); }

}  // namespace cj::check
