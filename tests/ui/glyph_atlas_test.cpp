// The glyph atlas grows with the text: rare characters from 红楼梦 get real glyphs (no '?' tofu) once noted.
// Needs an ImGui context and the font file, not a window.
#include "ui/glyph_atlas.h"

#include <gtest/gtest.h>
#include <imgui.h>

#include <filesystem>
#include <string>

#include "engine/base/file.h"
#include "engine/base/utf8.h"

namespace cj::ui {
namespace {

class GlyphAtlasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx_ = ImGui::CreateContext();
    if (!std::filesystem::exists(FontConfig{}.path)) GTEST_SKIP() << "fonts-noto-cjk not installed";
  }
  void TearDown() override { ImGui::DestroyContext(ctx_); }
  ImGuiContext* ctx_ = nullptr;
};

bool has_glyph(ImFont* f, uint32_t c) { return f->FindGlyphNoFallback(static_cast<ImWchar>(c)) != nullptr; }

TEST_F(GlyphAtlasTest, RareCharactersGetGlyphsOnceNoted) {
  FontConfig fc;
  fc.preload_common = false;  // only what is noted
  GlyphAtlas atlas(fc);
  atlas.note("长卷");
  ASSERT_TRUE(atlas.rebuild(false));
  // 饫甘餍肥 (ch. 1), 鬟 (丫鬟), 觥, 笏, 盥, 缱绻: rarely used characters the 红楼梦 chapters contain.
  const std::string rare = "饫餍鬟觥笏盥缱绻蘅芜纨绔箸";
  for (uint32_t c : utf8::to_code_points(rare)) EXPECT_FALSE(has_glyph(atlas.editor_font(), c)) << std::hex << c;
  atlas.note("此开卷第一回也：饫甘餍肥之日，丫鬟捧觥，执笏盥手，缱绻蘅芜，纨绔举箸。");
  EXPECT_TRUE(atlas.dirty());
  ASSERT_TRUE(atlas.rebuild(false));
  EXPECT_FALSE(atlas.dirty());
  for (uint32_t c : utf8::to_code_points(rare)) {
    EXPECT_TRUE(has_glyph(atlas.editor_font(), c)) << "U+" << std::hex << c;
    EXPECT_TRUE(has_glyph(atlas.ui_font(), c)) << "U+" << std::hex << c;
  }
  EXPECT_TRUE(atlas.missing().empty());
  // Noting known characters again does not ask for a rebuild.
  atlas.note("饫餍鬟");
  EXPECT_FALSE(atlas.dirty());
}

TEST_F(GlyphAtlasTest, EveryCharacterOfTheSampleBookRenders) {
  auto text = read_file(std::string(CJ_SOURCE_DIR) + "/samples/book/hongloumeng-1-20.txt");
  ASSERT_TRUE(text.ok()) << text.error();
  FontConfig fc;
  fc.preload_common = false;
  GlyphAtlas atlas(fc);
  atlas.note(*text);
  ASSERT_TRUE(atlas.rebuild(false));
  size_t checked = 0;
  for (uint32_t c : utf8::to_code_points(*text)) {
    if (c < 0x21 || c == 0x3000) continue;
    ++checked;
    ASSERT_TRUE(has_glyph(atlas.editor_font(), c)) << "tofu for U+" << std::hex << c;
  }
  EXPECT_GT(checked, 100000u);
  EXPECT_TRUE(atlas.missing().empty());
}

}  // namespace
}  // namespace cj::ui
