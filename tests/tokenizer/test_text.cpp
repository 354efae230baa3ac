// Chinese text utilities (engine/base/text.h): sentences and 字数.
#include <gtest/gtest.h>

#include <map>

#include "engine/base/file.h"
#include "engine/base/text.h"

using namespace cj;
using V = std::vector<std::string_view>;

TEST(Sentences, ChinesePunctuationAndClosingQuotes) {
  EXPECT_EQ(text::sentences("他说：“你好。”然后走了。她问：“为什么？！”"),
            (V{"他说：“你好。”", "然后走了。", "她问：“为什么？！”"}));
  EXPECT_EQ(text::sentences("宝玉道：“……”黛玉不答……众人都笑了！"), (V{"宝玉道：“……”", "黛玉不答……", "众人都笑了！"}));
  EXPECT_EQ(text::sentences("「好。」『是！』（完。）"), (V{"「好。」", "『是！』", "（完。）"}));
  EXPECT_EQ(text::sentences("一；二；三"), (V{"一；", "二；", "三"}));
}

TEST(Sentences, WesternStopsAndNumbers) {
  EXPECT_EQ(text::sentences("He left. She stayed! Why? Pi is 3.14 and see example.com now."),
            (V{"He left.", "She stayed!", "Why?", "Pi is 3.14 and see example.com now."}));
  EXPECT_EQ(text::sentences("\"Go.\" He went... Then 他来了.好"), (V{"\"Go.\"", "He went...", "Then 他来了.", "好"}));
}

TEST(Sentences, LinesTrimAndOffsets) {
  const std::string t = "　　第一回　甄士隐梦幻识通灵\r\n\r\n　　此开卷第一回也。作者自云\n";
  const auto s = text::sentences(t);
  EXPECT_EQ(s, (V{"第一回　甄士隐梦幻识通灵", "此开卷第一回也。", "作者自云"}));
  for (const auto& sp : text::split_sentences(t)) EXPECT_LE(sp.end, t.size());
  EXPECT_TRUE(text::sentences("").empty());
  EXPECT_TRUE(text::sentences(" \r\n　\n").empty());
  EXPECT_EQ(text::sentences("a\xFF。b"), (V{"a\xFF。", "b"}));
}

TEST(Sentences, WholeNovelCoversAllHanzi) {
  auto t = read_file(CJ_TEST_DATA "/novels/红楼梦.txt");
  ASSERT_TRUE(t.ok());
  size_t hanzi = 0;
  const auto spans = text::split_sentences(*t);
  EXPECT_GT(spans.size(), 15000u);  // 13.5k 。！？ plus paragraph ends
  uint32_t prev = 0;
  for (const auto& s : spans) {
    EXPECT_GE(s.begin, prev);
    prev = s.end;
    hanzi += text::count_chars(std::string_view(*t).substr(s.begin, s.end - s.begin)).hanzi;
  }
  EXPECT_EQ(hanzi, text::count_chars(*t).hanzi);  // splitting loses no character
}

TEST(Zishu, CountsHanziFullWidthPunctuationAndWords) {
  // 汉字 3 + ： “ ， 。 ” + hello + 2024 = 10; spaces and U+3000 are not counted.
  const auto c = text::count_chars("他说：“hello 2024，好。”　");
  EXPECT_EQ(c.hanzi, 3u);          // 他 说 好
  EXPECT_EQ(c.punct, 5u);          // ： “ ， 。 ”
  EXPECT_EQ(c.western_words, 2u);  // hello, 2024
  EXPECT_EQ(c.spaces, 2u);         // ' ' and U+3000
  EXPECT_EQ(c.zishu(), 10u);
  EXPECT_EQ(c.chinese(), 8u);
  EXPECT_EQ(text::zishu("〇々𠀀\uF900中"), 5u);  // Han script: 〇 々, extension B, a compatibility ideograph
  EXPECT_EQ(text::zishu("〆"), 1u);           // U+3006 is Script=Common: a wide character, not a 汉字
  EXPECT_EQ(text::count_chars("〆").hanzi, 0u);
  EXPECT_EQ(text::zishu("……——·《》【】「」、；！？"), 15u);  // … ×2, — ×2, ·, 10 wide marks
  EXPECT_EQ(text::zishu("ＡＢＣ１２３😀abc,.!"), 8u);      // 7 wide + the word abc; narrow , . ! not
  EXPECT_EQ(text::count_chars("ＡＢＣ１２３😀").other_wide, 7u);
  EXPECT_EQ(text::zishu("％＋￥"), 3u);
  EXPECT_EQ(text::count_chars("a\xFF" "b").invalid, 1u);
  EXPECT_EQ(text::zishu("don't stop, 好的"), 4u);  // don't, stop, 好, 的
  // The examples of engine/base/text.h.
  EXPECT_EQ(text::zishu("他说：“你好。”"), 8u);
  EXPECT_EQ(text::zishu("　　第3章 iPhone 15 上市。\n"), 8u);
  EXPECT_EQ(text::zishu("……——"), 4u);
  EXPECT_EQ(text::zishu("Ｑ阿Q"), 3u);
}

#include "engine/base/segmenter.h"

TEST(SegmenterOnNovel, EveryLexiconNameComesOutWhole) {
  auto t = read_file(CJ_TEST_DATA "/novels/红楼梦.txt");
  ASSERT_TRUE(t.ok());
  const std::string book = t->substr(0, 600000);
  Lexicon lex;
  const std::vector<std::string> names{"贾母", "王熙凤", "林黛玉", "贾宝玉", "凤姐", "袭人"};
  for (const auto& n : names) lex.add(n);
  Segmenter seg;
  seg.set_lexicon(&lex);
  std::map<std::string, size_t> got;
  uint32_t pos = 0;
  for (const auto& s : seg.segment(book)) {
    EXPECT_EQ(s.begin, pos);
    pos = s.end;
    const std::string w = book.substr(s.begin, s.end - s.begin);
    if (s.from_lexicon) ++got[w];
  }
  EXPECT_EQ(pos, book.size());
  for (const auto& n : names) {
    // Occurrences not overlapping a longer name that starts earlier (凤姐 inside 王熙凤姐 cannot happen here).
    size_t expect = 0;
    for (size_t p = book.find(n); p != std::string::npos; p = book.find(n, p + n.size())) ++expect;
    if (n == "凤姐" || n == "王熙凤") continue;  // 王熙凤姐… would let one swallow the other
    EXPECT_EQ(got[n], expect) << n;
    EXPECT_GT(expect, 0u) << n;
  }
}

TEST(SplitList, SplitsAtTheSeparatorsAWriterTypes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(text::split_list("黛玉、颦儿，林妹妹 潇湘妃子"), (V{"黛玉", "颦儿", "林妹妹", "潇湘妃子"}));
  EXPECT_EQ(text::split_list("宝玉,袭人；晴雯;\u3000麝月\t秋纹\n"), (V{"宝玉", "袭人", "晴雯", "麝月", "秋纹"}));
  EXPECT_EQ(text::split_list("、、 ,"), V{});
  EXPECT_EQ(text::split_list("约翰·史密斯"), V{"约翰·史密斯"});
}
