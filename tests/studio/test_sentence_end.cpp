// Where a draft may end: sentence ends outside quotes, fed piece by piece (pieces may split a character).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "studio/sentence_end.h"

namespace cj::studio {
namespace {

size_t end_of(const std::string& s) { return last_sentence_end(s); }

TEST(SentenceEnds, EndsOutsideQuotesOnly) {
  EXPECT_EQ(end_of("他走了。"), std::string("他走了。").size());
  EXPECT_EQ(end_of("他走了"), 0u);
  // Inside an open quote there is no end: the one before the quote counts.
  EXPECT_EQ(end_of("宝玉来了。只笑说道：“今"), std::string("宝玉来了。").size());
  EXPECT_EQ(end_of("只笑说道：“今日好。”"), std::string("只笑说道：“今日好。”").size());
  // A closing quote after the end belongs to it; text after a comma is not an end.
  EXPECT_EQ(end_of("说：“好！”众人都笑"), std::string("说：“好！").size() + std::string("”").size());
  EXPECT_EQ(end_of("道：“去吧？”"), std::string("道：“去吧？”").size());
  // Runs of marks, ellipses, brackets, corner quotes, nested quotes.
  EXPECT_EQ(end_of("怎么了？！"), std::string("怎么了？！").size());
  EXPECT_EQ(end_of("他想……"), std::string("他想……").size());
  EXPECT_EQ(end_of("（他笑了。）"), std::string("（他笑了。）").size());
  EXPECT_EQ(end_of("「他說：『好。』」"), std::string("「他說：『好。』」").size());
  EXPECT_EQ(end_of("「他說：『好。』"), 0u);
  // Editions that close “…?" with a straight quote; a stray " right after a closing mark.
  EXPECT_EQ(end_of("道：“来了么?\""), std::string("道：“来了么?\"").size());
  EXPECT_EQ(end_of("道：“来。”\""), std::string("道：“来。”\"").size());
  // “ inside “ re-opens rather than nests (so one ” closes it).
  EXPECT_EQ(end_of("道：“你道：“去。”"), std::string("道：“你道：“去。”").size());
  // A paragraph break ends every quote.
  EXPECT_EQ(end_of("道：“来\n他走了。"), std::string("道：“来\n他走了。").size());
  // Western text: a period after a letter, not in a number; an apostrophe is not a quote.
  EXPECT_EQ(end_of("Lily’s ball was red. It"), std::string("Lily’s ball was red.").size());
  EXPECT_EQ(end_of("It cost 3.5"), 0u);
  EXPECT_EQ(end_of("She said, \"Hi.\""), std::string("She said, \"Hi.\"").size());
  EXPECT_EQ(end_of("She said, \"Hi. Go"), 0u);
}

TEST(SentenceEnds, PiecesMaySplitCharactersAndTrailingSpaceKeepsTheEnd) {
  const std::string text = "黛玉笑道：“好。”\n宝玉走了。";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    SentenceEnds e;
    e.append(text.substr(0, cut));
    e.append(text.substr(cut));
    EXPECT_EQ(e.last_end(), text.size()) << cut;
    EXPECT_TRUE(e.at_end()) << cut;
  }
  SentenceEnds e;
  e.append("他走了。");
  e.append("\n");
  EXPECT_TRUE(e.at_end());
  EXPECT_EQ(e.last_end(), std::string("他走了。").size());
  e.append("她");
  EXPECT_FALSE(e.at_end());
  e.append("说：“");
  EXPECT_FALSE(e.at_end());
  e.append("好。");
  EXPECT_FALSE(e.at_end());  // still inside the quote
  e.append("”");
  EXPECT_TRUE(e.at_end());
}

}  // namespace
}  // namespace cj::studio

namespace cj::studio {
namespace {
// A weak model's quotes that never close: the paragraph that ends a sentence is still a place to stop.
TEST(SentenceEnds, ParagraphEndWhenQuotesNeverClose) {
  const std::string p1 = "说：“你们，一言是．宝玉也和你，只见林芳儿．";
  const std::string text = "他走了。\n" + p1 + "\n话说宝玉，便说：“今日";
  SentenceEnds e;
  e.append(text);
  EXPECT_EQ(e.best_end(), std::string("他走了。").size());
  EXPECT_EQ(e.paragraph_end(), std::string("他走了。\n").size() + p1.size());
}
}  // namespace
}  // namespace cj::studio

namespace cj::studio {
namespace {
// Every end of each kind, in order, so a draft can be cut back to the last one under its limit; an end followed
// by closers is one end (it moves past them), not two.
TEST(SentenceEnds, EveryEndOfEachKindInOrder) {
  const std::string a = "他走了。";
  const std::string b = "她说：“好。”";
  const std::string c = "\n道：“来了。又去。";
  SentenceEnds e;
  e.append(a + b + c);
  const std::vector<size_t> best = {a.size(), (a + b).size()};
  EXPECT_EQ(e.best_ends(), best);
  // Inside the quote that never closes: ends, but not outside quotes.
  const size_t lai = (a + b).size() + std::string("\n道：“来了。").size();
  const std::vector<size_t> any = {a.size(), (a + b).size(),
                                   lai, (a + b + c).size()};
  EXPECT_EQ(e.any_ends(), any);
  EXPECT_EQ(e.any_end(), (a + b + c).size());
  // Only the first paragraph ends a sentence at its break.
  EXPECT_EQ(e.paragraph_ends(), std::vector<size_t>{(a + b).size()});
}
}  // namespace
}  // namespace cj::studio
