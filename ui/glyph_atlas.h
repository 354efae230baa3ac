// The font atlas, grown from the text actually shown: Dear ImGui renders only glyphs baked into its atlas (others
// become '?'), and baking all ~30,000 CJK glyphs of Noto Sans CJK at two sizes is slow and huge. So every piece of
// text the UI shows is noted here first (UI strings, chapter titles, the open chapter, typed and pasted text);
// new code points mark the atlas dirty, and rebuild() bakes it again between frames.
#pragma once
#include <imgui.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cj::ui {

struct FontConfig {
  std::string path = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
  int face = 2;         // NotoSansCJK .ttc: 2 = Simplified Chinese, 3 = Traditional
  float ui_px = 17.0f;  // before the UI scale
  float editor_px = 20.0f;
  float scale = 1.0f;
  bool preload_common = true;  // bake the ~2500 common hanzi up front (needs an ImGui context)
};

class GlyphAtlas {
 public:
  explicit GlyphAtlas(FontConfig cfg);

  // Notes every code point of s (UTF-8). Cheap when nothing is new.
  void note(std::string_view s);
  void set_scale(float scale);
  bool dirty() const { return dirty_; }
  // Rebuilds io.Fonts with every noted code point. Call between frames (before NewFrame). If the renderer
  // is up (gl_ready), also re-uploads the texture. Returns false when the font file is missing (the ImGui
  // default font is used then and Chinese shows as '?').
  bool rebuild(bool gl_ready);

  ImFont* ui_font() const { return ui_; }
  ImFont* editor_font() const { return editor_; }
  bool font_found() const { return font_found_; }
  const FontConfig& config() const { return cfg_; }
  size_t noted_count() const { return noted_; }
  int generation() const { return generation_; }  // bumps on every rebuild (layouts depending on widths redo)
  double last_build_ms() const { return last_build_ms_; }
  // Code points that were asked for but the font has no glyph for (after the last rebuild).
  const std::vector<uint32_t>& missing() const { return missing_; }
  // Test hook (--script): with recording on, every string noted is kept until take_recorded(), so that a script
  // can check what a frame showed (chapter labels, findings) without reading pixels.
  void set_recording(bool on) { recording_ = on; }
  std::string take_recorded() { return std::exchange(recorded_, std::string()); }

 private:
  FontConfig cfg_;
  std::vector<uint8_t> want_;  // [0x10000] 1 if the code point is noted (ImWchar is 16-bit in Debian's build)
  ImVector<ImWchar> ranges_;   // must outlive the atlas build: ImGui keeps the pointer
  size_t noted_ = 0;
  bool dirty_ = true;
  bool font_found_ = false;
  bool preloaded_ = false;
  ImFont* ui_ = nullptr;
  ImFont* editor_ = nullptr;
  int generation_ = 0;
  double last_build_ms_ = 0;
  std::vector<uint32_t> missing_;
  bool recording_ = false;
  std::string recorded_;
};

}  // namespace cj::ui
