#include <gtest/gtest.h>

#include "engine/base/segmenter.h"

using namespace cj;

namespace {
std::string join(const std::vector<std::string>& w) {
  std::string s;
  for (const auto& x : w) s += (s.empty() ? "" : "|") + x;
  return s;
}
}  // namespace

TEST(Segmenter, IcuSplitsNamesItDoesNotKnow) {
  Segmenter seg;
  // Without the lexicon ICU's dictionary breaks 贾母 apart (DESIGN.md); this pins why the overlay exists.
  const auto w = seg.words("贾母笑道");
  EXPECT_EQ(std::find(w.begin(), w.end(), "贾母"), w.end()) << "ICU now knows 贾母: " << join(w);
}

TEST(Segmenter, LexiconOverlayKeepsNamesWhole) {
  Lexicon lex;
  for (const char* n : {"贾母", "王熙凤", "林黛玉", "贾府"}) lex.add(n);
  Segmenter seg;
  seg.set_lexicon(&lex);
  const auto w = seg.words("贾母笑道：“王熙凤和林黛玉都在贾府。”");
  for (const char* n : {"贾母", "王熙凤", "林黛玉", "贾府"})
    EXPECT_NE(std::find(w.begin(), w.end(), n), w.end()) << n << " missing in " << join(w);
}

TEST(Segmenter, LongestLexiconMatchWins) {
  Lexicon lex;
  lex.add("林黛");
  lex.add("林黛玉");
  Segmenter seg;
  seg.set_lexicon(&lex);
  const auto w = seg.words("林黛玉来了");
  ASSERT_FALSE(w.empty());
  EXPECT_EQ(w[0], "林黛玉");
}

TEST(Segmenter, SegmentsCoverTheInputExactly) {
  Lexicon lex;
  lex.add("宝玉");
  Segmenter seg;
  seg.set_lexicon(&lex);
  const std::string text = "宝玉道：“Hello 2024年！”\r\n  第二行\xFF末尾";
  const auto segs = seg.segment(text);
  uint32_t pos = 0;
  for (const auto& s : segs) {
    EXPECT_EQ(s.begin, pos);
    EXPECT_LT(s.begin, s.end);
    pos = s.end;
  }
  EXPECT_EQ(pos, text.size());
}

TEST(Segmenter, EmptyInput) {
  Segmenter seg;
  EXPECT_TRUE(seg.segment("").empty());
}
