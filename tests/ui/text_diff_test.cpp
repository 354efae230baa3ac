// Revision diffs: paragraphs matched, a replaced paragraph diffed by characters.
#include "studio/text_diff.h"

#include <gtest/gtest.h>

#include <string>

namespace cj::ui {
namespace {
using studio::diff_chars;
using studio::diff_text;
using studio::DiffPara;
using studio::DiffPiece;

std::string render(const std::vector<DiffPiece>& ps) {
  std::string s;
  for (const auto& p : ps)
    s += p.kind == DiffPiece::kSame      ? p.text
         : p.kind == DiffPiece::kRemoved ? "[-" + p.text + "]"
                                         : "[+" + p.text + "]";
  return s;
}

TEST(TextDiff, IdenticalTextsAreAllSame) {
  const auto d = diff_text("甲\n乙\n丙", "甲\n乙\n丙");
  ASSERT_EQ(d.size(), 3u);
  for (const auto& p : d) EXPECT_EQ(p.kind, DiffPara::kSame);
}

TEST(TextDiff, AddedRemovedAndChangedParagraphs) {
  const auto d = diff_text("黛玉进府。\n宝玉摔玉。\n贾母搂住。", "黛玉进府。\n宝玉大哭摔玉。\n贾母搂住。\n众人劝慰。");
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].kind, DiffPara::kSame);
  EXPECT_EQ(d[1].kind, DiffPara::kChanged);
  EXPECT_EQ(render(d[1].pieces), "宝玉[+大哭]摔玉。");
  EXPECT_EQ(d[2].kind, DiffPara::kSame);
  EXPECT_EQ(d[3].kind, DiffPara::kAdded);
  EXPECT_EQ(d[3].pieces[0].text, "众人劝慰。");

  const auto r = diff_text("一\n二\n三", "一\n三");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].kind, DiffPara::kRemoved);
  EXPECT_EQ(r[1].pieces[0].text, "二");
}

TEST(TextDiff, CharacterDiffKeepsCodePointsWhole) {
  EXPECT_EQ(render(diff_chars("林黛玉", "林妹妹")), "林[-黛玉][+妹妹]");
  EXPECT_EQ(render(diff_chars("", "新")), "[+新]");
  EXPECT_EQ(render(diff_chars("旧", "")), "[-旧]");
}

TEST(TextDiff, LongChaptersWithOneEditStayExact) {
  std::string a;
  for (int i = 0; i < 3000; ++i) a += "第" + std::to_string(i) + "段，满纸荒唐言。\n";
  std::string b = a;
  b.replace(b.find("第1500段"), std::string("第1500段").size(), "第1500段（改）");
  const auto d = diff_text(a, b);
  int changed = 0;
  for (const auto& p : d) changed += p.kind != DiffPara::kSame;
  EXPECT_EQ(changed, 1);
}

}  // namespace
}  // namespace cj::ui
