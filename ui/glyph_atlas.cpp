#include "ui/glyph_atlas.h"

#include <backends/imgui_impl_opengl3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "engine/base/utf8.h"

namespace cj::ui {

GlyphAtlas::GlyphAtlas(FontConfig cfg) : cfg_(std::move(cfg)), want_(0x10000, 0) {
  // Always present: ASCII, Latin-1, general and CJK punctuation, full-width forms, the replacement mark.
  auto span = [&](uint32_t lo, uint32_t hi) {
    for (uint32_t c = lo; c <= hi; ++c) want_[c] = 1;
  };
  span(0x20, 0x7E);
  span(0xA0, 0xFF);
  for (uint32_t c : {0x2010, 0x2013, 0x2014, 0x2015, 0x2016, 0x2018, 0x2019, 0x201C, 0x201D, 0x2025,
                     0x2026, 0x2030, 0x2032, 0x2033, 0x203B, 0x25B2, 0x25B3, 0x25B6, 0x25BC, 0xFFFD})
    want_[c] = 1;
  span(0x2190, 0x2193);  // arrows
  span(0x3000, 0x3011);  // CJK punctuation
  span(0x3014, 0x301F);
  span(0xFF01, 0xFF5E);  // full-width forms
  for (uint8_t w : want_) noted_ += w;
}

void GlyphAtlas::note(std::string_view s) {
  if (recording_ && recorded_.size() < (16u << 20)) {
    recorded_.append(s);
    recorded_ += '\n';
  }
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {  // ASCII is always there
      ++i;
      continue;
    }
    uint32_t c;
    const int n = utf8::decode(s, i, &c);
    if (n == 0) {
      ++i;
      continue;
    }
    i += static_cast<size_t>(n);
    if (c < 0x10000 && !want_[c]) {
      want_[c] = 1;
      ++noted_;
      dirty_ = true;
    }
  }
}

void GlyphAtlas::set_scale(float scale) {
  if (scale != cfg_.scale) {
    cfg_.scale = scale;
    dirty_ = true;
  }
}

bool GlyphAtlas::rebuild(bool gl_ready) {
  const auto t0 = std::chrono::steady_clock::now();
  ImGuiIO& io = ImGui::GetIO();
  if (cfg_.preload_common && !preloaded_) {
    // The ~2500 most common simplified hanzi: typing rarely meets a character outside them, so the atlas
    // rarely has to be rebuilt while writing (a rebuild costs one slow frame).
    for (const ImWchar* r = io.Fonts->GetGlyphRangesChineseSimplifiedCommon(); r[0]; r += 2)
      for (uint32_t c = r[0]; c <= r[1] && r[0] >= 0x4E00 && r[1] <= 0x9FFF; ++c)
        if (!want_[c]) want_[c] = 1, ++noted_;
    preloaded_ = true;
  }
  io.Fonts->Clear();
  ranges_.clear();
  for (uint32_t c = 1; c < 0x10000;) {
    if (!want_[c]) {
      ++c;
      continue;
    }
    uint32_t e = c;
    while (e + 1 < 0x10000 && want_[e + 1]) ++e;
    ranges_.push_back(static_cast<ImWchar>(c));
    ranges_.push_back(static_cast<ImWchar>(e));
    c = e + 1;
  }
  ranges_.push_back(0);
  font_found_ = std::filesystem::exists(cfg_.path);
  if (font_found_) {
    ImFontConfig fc;
    fc.FontNo = cfg_.face;
    fc.OversampleH = 1;
    fc.OversampleV = 1;
    fc.PixelSnapH = true;
    ui_ = io.Fonts->AddFontFromFileTTF(cfg_.path.c_str(), cfg_.ui_px * cfg_.scale, &fc, ranges_.Data);
    editor_ = io.Fonts->AddFontFromFileTTF(cfg_.path.c_str(), cfg_.editor_px * cfg_.scale, &fc, ranges_.Data);
    font_found_ = ui_ && editor_;
  }
  if (!font_found_) {
    std::fprintf(stderr,
                 "changjuan: CJK font not found at %s; Chinese text will show as '?' (install fonts-noto-cjk)\n",
                 cfg_.path.c_str());
    io.Fonts->Clear();
    ImFontConfig fc;
    fc.SizePixels = 13.0f * cfg_.scale;
    ui_ = editor_ = io.Fonts->AddFontDefault(&fc);
  }
  io.Fonts->Build();
  io.FontDefault = ui_;
  if (gl_ready) {
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
  }
  missing_.clear();
  if (font_found_)
    for (uint32_t c = 0x21; c < 0x10000; ++c)
      if (want_[c] && c != 0xFFFD && !editor_->FindGlyphNoFallback(static_cast<ImWchar>(c))) missing_.push_back(c);
  dirty_ = false;
  ++generation_;
  last_build_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return font_found_;
}

}  // namespace cj::ui
