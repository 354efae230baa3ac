#include "studio/check/glyph_shape.h"

#define STB_TRUETYPE_IMPLEMENTATION
#define STBTT_STATIC  // private to this file: the UI links Debian's libstb, whose stbtt_* the GUI calls
#include <stb/stb_truetype.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "engine/base/file.h"

namespace cj::check {

namespace {

constexpr int kSize = 64;                     // glyph bitmap: kSize × kSize pixels, one em
constexpr int kWords = kSize * kSize / 64;    // 64-bit words per bitmap
constexpr int kFace = 2;                      // NotoSansCJK .ttc: 2 = Simplified Chinese

using Bits = std::array<uint64_t, kWords>;    // [kSize rows][kSize columns], row-major, bit x of row y

struct Glyph {
  bool ok = false;
  Bits ink{};      // pixels with coverage >= 50 %
  Bits near{};     // ink dilated by one pixel (3×3)
  int ink_count = 0;
  int near_count = 0;
};

int popcount_and(const Bits& a, const Bits& b) {
  int n = 0;
  for (int i = 0; i < kWords; ++i) n += std::popcount(a[size_t(i)] & b[size_t(i)]);
  return n;
}

int popcount(const Bits& a) {
  int n = 0;
  for (uint64_t w : a) n += std::popcount(w);
  return n;
}

}  // namespace

struct GlyphShapes::Impl {
  std::mutex mu;
  std::string font_bytes;
  stbtt_fontinfo font{};
  float scale = 0;
  int baseline = 0;
  bool ok = false;
  std::string note;
  std::unordered_map<char32_t, Glyph> glyphs;
  std::unordered_map<uint64_t, float> pairs;

  // Under mu.
  const Glyph& glyph(char32_t c) {
    auto it = glyphs.find(c);
    if (it != glyphs.end()) return it->second;
    Glyph g;
    const int index = stbtt_FindGlyphIndex(&font, int(c));
    if (index != 0) {
      int w = 0, h = 0, xo = 0, yo = 0;
      unsigned char* bm = stbtt_GetGlyphBitmap(&font, scale, scale, index, &w, &h, &xo, &yo);
      if (bm) {
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) {
            const int X = x + xo, Y = y + yo + baseline;
            if (X < 0 || Y < 0 || X >= kSize || Y >= kSize || bm[y * w + x] < 128) continue;
            g.ink[size_t(Y)] |= uint64_t(1) << X;
          }
        stbtt_FreeBitmap(bm, nullptr);
      }
      for (int y = 0; y < kSize; ++y) {
        uint64_t row = 0;
        for (int dy = -1; dy <= 1; ++dy) {
          const int Y = y + dy;
          if (Y < 0 || Y >= kSize) continue;
          const uint64_t r = g.ink[size_t(Y)];
          row |= r | (r << 1) | (r >> 1);
        }
        g.near[size_t(y)] = row;
      }
      g.ink_count = popcount(g.ink);
      g.near_count = popcount(g.near);
      g.ok = g.ink_count > 0;
    }
    return glyphs.emplace(c, g).first->second;
  }
};

std::string cjk_font_path() {
  if (const char* p = std::getenv("CJ_CJK_FONT"); p && *p) return p;
  return "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
}

GlyphShapes::GlyphShapes(const std::string& path) : impl_(new Impl) {
  auto bytes = read_file(path);
  if (!bytes.ok()) {
    impl_->note = "形近规则未启用：找不到中文字体 " + path + "（安装 fonts-noto-cjk），只按读音检查";
    return;
  }
  impl_->font_bytes = std::move(*bytes);
  const auto* data = reinterpret_cast<const unsigned char*>(impl_->font_bytes.data());
  const int offset = stbtt_GetFontOffsetForIndex(data, kFace);
  if (offset < 0 || !stbtt_InitFont(&impl_->font, data, offset)) {
    impl_->note = "形近规则未启用：字体文件 " + path + " 无法读取，只按读音检查";
    impl_->font_bytes.clear();
    return;
  }
  impl_->scale = stbtt_ScaleForMappingEmToPixels(&impl_->font, float(kSize));
  // The ideographic em box spans 0.88 em above the baseline to 0.12 em below: map it onto the bitmap.
  impl_->baseline = int(std::lround(0.88 * kSize));
  impl_->ok = true;
}

GlyphShapes::~GlyphShapes() { delete impl_; }

GlyphShapes& GlyphShapes::shared() {
  static GlyphShapes s(cjk_font_path());
  return s;
}

std::unique_ptr<GlyphShapes> GlyphShapes::open(const std::string& path) {
  return std::unique_ptr<GlyphShapes>(new GlyphShapes(path));
}

bool GlyphShapes::available() const { return impl_->ok; }
const std::string& GlyphShapes::note() const { return impl_->note; }

float GlyphShapes::similarity(char32_t c, char32_t d) {
  if (!impl_->ok) return -1;
  if (c == d) return 1;
  if (c > d) std::swap(c, d);
  const uint64_t key = (uint64_t(c) << 32) | uint64_t(d);
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (auto it = impl_->pairs.find(key); it != impl_->pairs.end()) return it->second;
  const Glyph& a = impl_->glyph(c);
  const Glyph& b = impl_->glyph(d);
  float s = -1;
  if (a.ok && b.ok) {
    // One direction: how much of x's ink lies near y's, against what y's dilated area would catch by chance.
    auto one = [](const Glyph& x, const Glyph& y) {
      const double all = x.ink_count;
      const double expected = all * double(y.near_count) / double(kSize * kSize);
      const double observed = popcount_and(x.ink, y.near);
      return all - expected <= 0 ? 0.0 : (observed - expected) / (all - expected);
    };
    s = float(0.5 * (one(a, b) + one(b, a)));
  }
  impl_->pairs.emplace(key, s);
  return s;
}

}  // namespace cj::check
