// The context inspector's words: the builder's degradation steps and section reasons said in Chinese with the book's
// chapter labels, and the synopsis named for what it covers (not 全书梗概).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/chapter_splitter.h"
#include "studio/context_words.h"

namespace cj::studio {
namespace {

bool has_latin(const std::string& s) {
  for (char c : s)
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return false;
}

// A book with a 楔子 and 第一回 … 第三十回 (ordinals 1 … 31): labels and ordinals differ by one.
storage::ChapterNumbering book() {
  std::vector<storage::ChapterInfo> chs;
  storage::ChapterInfo c;
  c.ordinal = 1;
  c.heading = "楔子";
  chs.push_back(c);
  for (int n = 1; n <= 30; ++n) {
    c.ordinal = n + 1;
    c.heading = storage::heading_for(n, "第一回");
    chs.push_back(c);
  }
  return storage::ChapterNumbering(chs);
}

TEST(ContextWords, EveryDegradationStepInChineseWithTheBooksLabels) {
  const auto n = book();
  ASSERT_EQ(n.label(2), "第一回");
  memory::Context c;
  c.arcs = {{1, 11}, {12, 21}};  // 楔子–第十回, 第十一回–第二十回
  // Every step memory/context_builder.cpp's ladder can take.
  const std::vector<std::string> steps = {"verbatim chapters 2",
                                          "verbatim chapters 1",
                                          "chapter summaries of arc 1 replaced by the arc summary",
                                          "chapter summaries of arc 2 replaced by the arc summary",
                                          "shorter chapter summaries",
                                          "no verbatim chapter",
                                          "shorter arc summaries",
                                          "fewer entity sheets",
                                          "arc summary 1 dropped",
                                          "shorter synopsis",
                                          "no synopsis",
                                          "oldest chapter summaries dropped (3)",
                                          "passage reserve 512 tokens",
                                          "no reserved passages",
                                          "current text cut to its last 200 tokens"};
  for (const auto& s : steps) {
    const std::string w = step_words(s, c, n);
    EXPECT_FALSE(has_latin(w)) << s << " → " << w;
  }
  EXPECT_EQ(step_words("chapter summaries of arc 2 replaced by the arc summary", c, n),
            "第十一回至第二十回的章节摘要改用卷摘要");
  EXPECT_EQ(step_words("arc summary 1 dropped", c, n), "去掉楔子至第十回的卷摘要");
  EXPECT_EQ(step_words("verbatim chapters 2", c, n), "前文原文减到 2 章");
}

TEST(ContextWords, SectionsNamedAndExplainedInChinese) {
  const auto n = book();
  memory::Context c;
  c.arcs = {{1, 11}, {12, 21}};
  c.synopsis_last = 21;
  c.degradations = {"shorter synopsis", "arc summary 1 dropped"};
  const int64_t N = 24;  // 第二十三回
  // The synopsis is the one as of the last arc before N: named 前文梗概, its reach in the book's labels.
  EXPECT_EQ(section_name("synopsis"), "前文梗概");
  for (const char* k : {"synopsis", "arc_summaries", "chapter_summaries", "entity_sheets", "passages", "verbatim",
                        "after_cursor", "current_text", "book_context"})
    EXPECT_FALSE(has_latin(section_name(k))) << k;
  const std::string syn = section_reason({"synopsis", 10, {}, "synopsis of chapters up to 第二十回 (…)"}, c, n, N);
  EXPECT_NE(syn.find("写到第二十回为止"), std::string::npos) << syn;
  EXPECT_NE(syn.find("第二十三回"), std::string::npos) << syn;
  EXPECT_EQ(syn.find("全书"), std::string::npos) << syn;
  const std::string arcs = section_reason({"arc_summaries", 10, {12, 13}, "arcs finished before …"}, c, n, N);
  EXPECT_NE(arcs.find("第十一回至第二十回"), std::string::npos) << arcs;
  EXPECT_NE(arcs.find("最早的 1 卷"), std::string::npos) << arcs;
  const std::vector<memory::SectionInfo> secs = {
      {"chapter_summaries", 10, {2, 3, 4}, "chapters before 第二十三回 not shown verbatim"},
      {"entity_sheets", 10, {N}, "3 of 7 entities mentioned in the working text, facts established before 第二十三回"},
      {"passages", 10, {5, 9}, "4 passages (a few sentences each) ranked by BM25 …"},
      {"verbatim", 10, {22, 23}, "2 chapters right before 第二十三回"},
      {"verbatim", 10, {23}, "the end of 第二十二回 (the whole chapter does not fit)"}};
  for (const auto& s : secs) {
    const std::string r = section_reason(s, c, n, N);
    EXPECT_FALSE(has_latin(r)) << s.kind << " → " << r;
  }
  EXPECT_NE(section_reason(secs[1], c, n, N).find("共提到 7 个"), std::string::npos);
  EXPECT_NE(section_reason(secs[3], c, n, N).find("第二十一回至第二十二回"), std::string::npos);
  EXPECT_EQ(section_reason(secs[4], c, n, N), "第二十二回的结尾（整章放不下）");
}

}  // namespace
}  // namespace cj::studio
