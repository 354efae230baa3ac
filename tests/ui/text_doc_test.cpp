// The editor's document model without a window: editing, grouped undo, movement, CJK line layout.
#include "ui/text_doc.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "engine/base/utf8.h"

namespace cj::ui {
namespace {

// ASCII is 5 px wide, everything else 10 px (a full-width hanzi).
float measure(uint32_t c) { return c < 0x80 ? 5.0f : 10.0f; }

void lay(TextDoc& d, float width = 100) {
  d.set_layout_params(width, 20, 10, measure);
  d.ensure_layout();
}

std::string line_text(const TextDoc& d, int para, int line) {
  const auto& l = d.lines(para)[static_cast<size_t>(line)];
  return d.para(para).substr(static_cast<size_t>(l.begin), static_cast<size_t>(l.end - l.begin));
}

TEST(TextDoc, RoundTripsTextAndNormalizesLineEnds) {
  TextDoc d;
  d.set_text("第一回\r\n甄士隐梦幻识通灵\r贾雨村\n");
  EXPECT_EQ(d.para_count(), 4);
  EXPECT_EQ(d.text(), "第一回\n甄士隐梦幻识通灵\n贾雨村\n");
  EXPECT_EQ(d.para(1), "甄士隐梦幻识通灵");
}

TEST(TextDoc, CountsZiWithoutWhitespace) {
  TextDoc d;
  d.set_text("你好，world\u3000一\n  二。");  // 字数 (text::zishu): 汉字, full-width punctuation, one per word
  EXPECT_EQ(d.zi_count(), 3u + 1u + 2u + 1u);
  EXPECT_EQ(count_zi(" \t\u3000abc"), 1u);
  EXPECT_EQ(count_zi(" \t\u3000\n"), 0u);  // whitespace never counts
}

TEST(TextDoc, TypingGroupsIntoOneUndoStepUntilSealed) {
  TextDoc d;
  d.insert("你");
  d.insert("好");
  d.insert("世界");  // an IME commits a phrase at once
  EXPECT_EQ(d.text(), "你好世界");
  d.seal_undo_group();
  d.insert("！");
  EXPECT_TRUE(d.undo());
  EXPECT_EQ(d.text(), "你好世界");
  EXPECT_TRUE(d.undo());
  EXPECT_EQ(d.text(), "");
  EXPECT_FALSE(d.undo());
  EXPECT_TRUE(d.redo());
  EXPECT_EQ(d.text(), "你好世界");
  EXPECT_EQ(d.caret(), (TextPos{0, 12}));
  EXPECT_TRUE(d.redo());
  EXPECT_EQ(d.text(), "你好世界！");
  EXPECT_FALSE(d.redo());
}

TEST(TextDoc, CaretMoveSealsTheGroupAndNewEditClearsRedo) {
  TextDoc d;
  d.insert("甲乙");
  d.move_left(false, false);
  d.insert("丙");
  EXPECT_EQ(d.text(), "甲丙乙");
  d.undo();
  EXPECT_EQ(d.text(), "甲乙");
  EXPECT_TRUE(d.can_redo());
  d.insert("丁");
  EXPECT_FALSE(d.can_redo());
}

TEST(TextDoc, BackspacesAndDeletesGroup) {
  TextDoc d;
  d.set_text("林黛玉进贾府");
  d.set_caret({0, 18});
  d.backspace();
  d.backspace();
  d.backspace();
  EXPECT_EQ(d.text(), "林黛玉");
  d.set_caret({0, 0});
  d.delete_forward();
  d.delete_forward();
  EXPECT_EQ(d.text(), "玉");
  d.undo();
  EXPECT_EQ(d.text(), "林黛玉");
  EXPECT_EQ(d.caret(), (TextPos{0, 0}));
  d.undo();
  EXPECT_EQ(d.text(), "林黛玉进贾府");
  EXPECT_EQ(d.caret(), (TextPos{0, 18}));
}

TEST(TextDoc, NewlineSplitsAndBackspaceJoinsParagraphs) {
  TextDoc d;
  d.set_text("宝玉黛玉");
  d.set_caret({0, 6});
  d.insert("\n");
  ASSERT_EQ(d.para_count(), 2);
  EXPECT_EQ(d.para(1), "黛玉");
  EXPECT_EQ(d.caret(), (TextPos{1, 0}));
  d.seal_undo_group();
  d.backspace();
  EXPECT_EQ(d.text(), "宝玉黛玉");
  d.undo();
  d.undo();
  EXPECT_EQ(d.text(), "宝玉黛玉");
  EXPECT_EQ(d.para_count(), 1);
}

TEST(TextDoc, PasteReplacesSelectionAndIsItsOwnStep) {
  TextDoc d;
  d.set_text("一二三\n四五六");
  d.set_caret({0, 3});
  d.set_caret({1, 3}, true);
  EXPECT_EQ(d.selected_text(), "二三\n四");
  d.paste("甲\n乙\n丙");
  EXPECT_EQ(d.text(), "一甲\n乙\n丙五六");
  EXPECT_EQ(d.caret(), (TextPos{2, 3}));
  d.undo();
  EXPECT_EQ(d.text(), "一二三\n四五六");
  EXPECT_EQ(d.selected_text(), "二三\n四");
}

TEST(TextDoc, TypingOverSelectionUndoesTogether) {
  TextDoc d;
  d.set_text("贾雨村");
  d.select_all();
  d.insert("甄");
  d.insert("士隐");
  EXPECT_EQ(d.text(), "甄士隐");
  d.undo();
  EXPECT_EQ(d.text(), "贾雨村");
  EXPECT_FALSE(d.can_undo());
}

TEST(TextDoc, DropsControlCharactersButKeepsTabs) {
  TextDoc d;
  d.insert(std::string("a\x01\tb\x7f\xff"));
  EXPECT_EQ(d.text(), "a\tb\xEF\xBF\xBD");
}

TEST(TextDoc, WrapsCjkBetweenAnyCharacters) {
  TextDoc d;
  d.set_text("一二三四五六七八九十甲乙丙丁戊己庚辛壬癸子丑寅卯辰");  // 25 hanzi, 10 per 100 px line
  lay(d);
  ASSERT_EQ(d.lines(0).size(), 3u);
  EXPECT_EQ(line_text(d, 0, 0), "一二三四五六七八九十");
  EXPECT_EQ(line_text(d, 0, 2), "子丑寅卯辰");
  EXPECT_FLOAT_EQ(d.total_height(), 3 * 20 + 10);
}

TEST(TextDoc, ClosingPunctuationHangsInsteadOfStartingALine) {
  TextDoc d;
  d.set_text("一二三四五六七八九十。」甲乙");
  lay(d);
  ASSERT_EQ(d.lines(0).size(), 2u);
  EXPECT_EQ(line_text(d, 0, 0), "一二三四五六七八九十。」");
  EXPECT_EQ(line_text(d, 0, 1), "甲乙");
}

TEST(TextDoc, OpeningPunctuationDoesNotEndALine) {
  TextDoc d;
  d.set_text("一二三四五六七八九「甲」乙");
  lay(d);
  ASSERT_EQ(d.lines(0).size(), 2u);
  EXPECT_EQ(line_text(d, 0, 0), "一二三四五六七八九");
  EXPECT_EQ(line_text(d, 0, 1), "「甲」乙");
}

TEST(TextDoc, LatinWordsWrapAtSpaces) {
  TextDoc d;
  d.set_text("hello world again and again");  // 5 px per letter: 20 letters per line
  lay(d);
  ASSERT_EQ(d.lines(0).size(), 2u);
  EXPECT_EQ(line_text(d, 0, 0), "hello world again ");
  EXPECT_EQ(line_text(d, 0, 1), "and again");
  d.set_text("abcdefghijklmnopqrstuvwxyz");  // one word longer than the line is cut
  lay(d);
  EXPECT_EQ(d.lines(0).size(), 2u);
}

TEST(TextDoc, ReLaysOutOnlyEditedParagraphs) {
  TextDoc d;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "满纸荒唐言，一把辛酸泪！都云作者痴，谁解其中味？\n";
  d.set_text(text);
  lay(d);
  const int before = d.relayout_count();
  EXPECT_GE(before, 200);
  d.set_caret({100, 6});
  d.insert("字");
  d.ensure_layout();
  EXPECT_EQ(d.relayout_count(), before + 1);
  d.set_layout_params(200, 20, 10, measure);  // a new width invalidates everything
  d.ensure_layout();
  EXPECT_EQ(d.relayout_count(), before + 1 + d.para_count());
}

TEST(TextDoc, HitTestAndCaretPositionAgree) {
  TextDoc d;
  d.set_text("一二三四五六七八九十甲乙丙\n子丑");
  lay(d);
  // paragraph 0: two lines (y 0 and 20), gap 10, paragraph 1 at y 50
  EXPECT_EQ(d.hit_test(0, 0), (TextPos{0, 0}));
  EXPECT_EQ(d.hit_test(16, 25), (TextPos{0, 36}));  // line 2 is 甲乙丙: 16 px is past 乙's middle
  EXPECT_EQ(d.hit_test(14, 55), (TextPos{1, 3}));
  EXPECT_EQ(d.hit_test(500, 500), d.doc_end());
  auto [x, y] = d.pos_to_xy({1, 3});
  EXPECT_FLOAT_EQ(x, 10);
  EXPECT_FLOAT_EQ(y, 50);
  bool up = false;
  EXPECT_EQ(d.hit_test(300, 5, &up), (TextPos{0, 30}));  // right of a wrapped line: its end, upstream
  EXPECT_TRUE(up);
}

TEST(TextDoc, VerticalMovesKeepTheColumn) {
  TextDoc d;
  d.set_text("一二三四五六七八九十甲乙丙丁戊\n子\n寅卯辰巳午未");
  lay(d);
  d.set_caret({0, 12});  // x = 40 on line 0
  d.move_down(1, false);
  EXPECT_EQ(d.caret(), (TextPos{0, 42}));  // line 1 starts at byte 30; x 40 -> 4th char
  d.move_down(1, false);
  EXPECT_EQ(d.caret(), (TextPos{1, 3}));  // short line: its end
  d.move_down(1, false);
  EXPECT_EQ(d.caret(), (TextPos{2, 12}));  // column remembered
  d.move_down(1, false);
  EXPECT_EQ(d.caret(), d.doc_end());
  d.move_up(3, true);
  EXPECT_TRUE(d.has_selection());
  EXPECT_EQ(d.anchor(), d.doc_end());
}

TEST(TextDoc, HomeEndFollowVisualLines) {
  TextDoc d;
  d.set_text("一二三四五六七八九十甲乙丙");
  lay(d);
  d.set_caret({0, 6});
  d.move_end(false, false);
  EXPECT_EQ(d.caret(), (TextPos{0, 30}));
  EXPECT_FLOAT_EQ(d.pos_to_xy(d.caret()).second, 0);  // shown at the end of line 0, not the start of line 1
  d.move_home(false, false);
  EXPECT_EQ(d.caret(), (TextPos{0, 0}));
  d.set_caret({0, 33});
  d.move_home(false, true);
  EXPECT_EQ(d.caret(), (TextPos{0, 30}));
  EXPECT_EQ(d.selected_text(), "甲");
  d.move_end(true, false);
  EXPECT_EQ(d.caret(), d.doc_end());
}

TEST(TextDoc, ArrowsCollapseSelectionAndCrossParagraphs) {
  TextDoc d;
  d.set_text("甲乙\n丙");
  d.set_caret({0, 6});
  d.move_right(false, false);
  EXPECT_EQ(d.caret(), (TextPos{1, 0}));
  d.move_left(false, true);
  d.move_left(false, true);
  EXPECT_EQ(d.selected_text(), "乙\n");
  d.move_right(false, false);
  EXPECT_EQ(d.caret(), (TextPos{1, 0}));
  EXPECT_FALSE(d.has_selection());
}

TEST(TextDoc, WordMovesUseIcuWords) {
  TextDoc d;
  d.set_text("今天天气很好 hello world");
  d.set_caret({0, 0});
  d.move_right(true, false);
  EXPECT_EQ(d.caret(), (TextPos{0, 6}));  // 今天
  d.set_caret(d.doc_end());
  d.move_left(true, false);
  EXPECT_EQ(d.para(0).substr(static_cast<size_t>(d.caret().byte)), "world");
  d.backspace(true);  // deletes "hello " back to the word start
  EXPECT_EQ(d.text(), "今天天气很好 world");
}

TEST(TextDoc, ClampKeepsCodePointBoundaries) {
  TextDoc d;
  d.set_text("红楼");
  EXPECT_EQ(d.clamp({0, 4}), (TextPos{0, 3}));
  EXPECT_EQ(d.clamp({5, 99}), (TextPos{0, 6}));
}

// Random edits: undoing everything restores the original, redoing everything the final text.
TEST(TextDoc, RandomEditsUndoAndRedoExactly) {
  std::mt19937 rng(7);
  const char* pieces[] = {"字", "红楼", "\n", "梦。", "a", "「", "」\n\n", "ab c"};
  TextDoc d;
  const std::string original = "第一回\n甄士隐梦幻识通灵\n贾雨村风尘怀闺秀";
  d.set_text(original);
  lay(d);
  for (int i = 0; i < 400; ++i) {
    const int op = static_cast<int>(rng() % 9);
    const TextPos p{static_cast<int>(rng() % static_cast<unsigned>(d.para_count())), static_cast<int>(rng() % 20)};
    switch (op) {
      case 0:
        d.set_caret(p);
        break;
      case 1:
        d.set_caret(p, true);
        break;
      case 2:
      case 3:
        d.insert(pieces[rng() % 8]);
        break;
      case 4:
        d.backspace();
        break;
      case 5:
        d.delete_forward();
        break;
      case 6:
        d.paste(pieces[rng() % 8]);
        break;
      case 7:
        d.move_down(1, rng() % 2);
        break;
      case 8:
        if (rng() % 4 == 0) d.seal_undo_group();
        break;
    }
    ASSERT_TRUE(utf8::valid(d.text()));
    d.ensure_layout();
  }
  const std::string final_text = d.text();
  while (d.undo()) {
  }
  EXPECT_EQ(d.text(), original);
  while (d.redo()) {
  }
  EXPECT_EQ(d.text(), final_text);
}

}  // namespace
}  // namespace cj::ui
