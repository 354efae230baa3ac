// The shape of a Chinese character for the name-variant check: each glyph is rendered from the CJK font the
// app already depends on (fonts-noto-cjk's NotoSansCJK-Regular.ttc, the Simplified Chinese face, which also
// draws traditional characters) with stb_truetype into a 64×64 bitmap, and two characters are compared by how
// much of each one's ink lies on (within one pixel of) the other's, corrected for chance: a dense glyph
// covers much of any other by accident, so the score is (observed − expected) / (all − expected), averaged
// both ways (1 = same glyph, ~0 = unrelated). 玉/王 0.95, 己/已 0.95, 未/末 0.96, 瑜/谕 0.89, 操/燥 0.85,
// 亮/高 0.96; unrelated pairs of complex characters stay below ~0.75.
//
// Nothing is listed: any character the font draws can be compared. Glyphs are rendered at first use and kept
// (512 bytes each); pair scores are cached. Without the font file (CJ_CJK_FONT overrides the path) the shape
// rule is off and note() says so in one line; callers fall back to sound only. Thread-safe.
#pragma once
#include <memory>
#include <string>

namespace cj::check {

class GlyphShapes {
 public:
  // The process-wide instance (loads the font at cjk_font_path() on first use).
  static GlyphShapes& shared();
  // An instance for another font file (tests: a missing font).
  static std::unique_ptr<GlyphShapes> open(const std::string& path);

  bool available() const;
  // "" when available, else one line for the writer: why the shape rule is off.
  const std::string& note() const;
  // Chance-corrected similarity of the two glyphs in [-1, 1]; 1 for c == d; -1 when either glyph is missing
  // or the font is not available.
  float similarity(char32_t c, char32_t d);

  struct Impl;
  ~GlyphShapes();

 private:
  explicit GlyphShapes(const std::string& path);
  Impl* impl_;
};

// The default font path (the Debian package's), overridden by the environment variable CJ_CJK_FONT.
std::string cjk_font_path();

}  // namespace cj::check
