// The book's own chapter identity (labels, numbers, what the writer types) and import of books as they are found
// in the wild (a table of contents, story collections, hard-wrapped text). Test books: tests/data/books/.
#include <gtest/gtest.h>

#include "storage/chapter_numbering.h"
#include "storage/chapter_splitter.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/importer.h"
#include "storage_test_util.h"

using namespace cj;
using namespace cj::storage;
using namespace cj::storage::testing;

namespace {

std::string book_path(const std::string& name) { return std::string(CJ_TEST_DATA) + "/books/" + name; }

std::unique_ptr<Database> memdb() {
  auto db = Database::open(":memory:");
  CJ_ASSERT(db.ok());
  return std::move(*db);
}

ChapterInfo info(int64_t ordinal, std::string heading, std::string title) {
  ChapterInfo c;
  c.ordinal = ordinal;
  c.heading = std::move(heading);
  c.title = std::move(title);
  return c;
}

// 楔子 + 第一回…第二十四回, as tests/data/books/shuihu-like.txt.
ChapterNumbering shuihu() {
  std::vector<ChapterInfo> v = {info(1, "楔子　张天师祈禳瘟疫", "张天师祈禳瘟疫")};
  const char* cn[] = {"一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五",
                      "十六", "十七", "十八", "十九", "二十", "二十一", "二十二", "二十三", "二十四"};
  for (int i = 0; i < 24; ++i)
    v.push_back(info(i + 2, std::string("第") + cn[i] + "回　题" + std::to_string(i + 1), "题" + std::to_string(i + 1)));
  v[22].heading = "第二十二回　横海郡柴进留宾";
  v[22].title = "横海郡柴进留宾";
  return ChapterNumbering(v);
}

}  // namespace

TEST(ChapterLabel, EveryHeadingStyle) {
  EXPECT_EQ(chapter_label(info(23, "第二十二回　横海郡柴进留宾", "横海郡柴进留宾")), "第二十二回");
  // Renamed: the title no longer ends the heading, the label is still the number.
  EXPECT_EQ(chapter_label(info(23, "第二十二回　横海郡柴进留宾", "新的题目")), "第二十二回");
  EXPECT_EQ(chapter_label(info(3, "　　第一章　序", "序")), "第一章");
  EXPECT_EQ(chapter_label(info(1, "楔子 张天师祈禳瘟疫 洪太尉误走妖魔", "张天师祈禳瘟疫 洪太尉误走妖魔")), "楔子");
  EXPECT_EQ(chapter_label(info(1, "序章：黎明", "黎明")), "序章");
  EXPECT_EQ(chapter_label(info(4, "## 第3章：风起", "风起")), "第3章");
  EXPECT_EQ(chapter_label(info(4, "第１２章　归来", "归来")), "第１２章");
  EXPECT_EQ(chapter_label(info(2, "　　　　　　狂人日记", "狂人日记")), "狂人日记");  // a story's title
  EXPECT_EQ(chapter_label(info(2, "序曲", "序曲")), "序曲");                         // not 序
  EXPECT_EQ(chapter_label(info(0, "", "")), "卷首");
  EXPECT_EQ(chapter_label(info(5, "", "")), "第5章");
}

TEST(ChapterLabel, NumbersAsTheBookWritesThem) {
  EXPECT_EQ(parse_numeral("二十二"), 22);
  EXPECT_EQ(parse_numeral("一百零五"), 105);
  EXPECT_EQ(parse_numeral("一百二十"), 120);
  EXPECT_EQ(parse_numeral("一二零"), 120);
  EXPECT_EQ(parse_numeral("十"), 10);
  EXPECT_EQ(parse_numeral("廿一"), 21);
  EXPECT_EQ(parse_numeral("两千零一"), 2001);
  EXPECT_EQ(parse_numeral("一万一千"), 11000);
  EXPECT_EQ(parse_numeral("２２"), 22);
  EXPECT_EQ(parse_numeral("22"), 22);
  EXPECT_FALSE(parse_numeral("二十二回").has_value());
  EXPECT_FALSE(parse_numeral("三四十").has_value());
  EXPECT_FALSE(parse_numeral("").has_value());
  auto h = heading_label("第一百二十回  甄士隐详说太虚情");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->label, "第一百二十回");
  EXPECT_EQ(h->number, 120);
  EXPECT_EQ(h->unit, "回");
  EXPECT_FALSE(heading_label("第三次见面").has_value());
}

TEST(ChapterNumbering, ABareNumberIsTheBooksOwnNumber) {
  const ChapterNumbering n = shuihu();
  EXPECT_TRUE(n.numbered());
  EXPECT_EQ(n.label(23), "第二十二回");
  EXPECT_EQ(n.number(23), 22);
  EXPECT_EQ(n.number(1), std::nullopt);
  for (const char* ref : {"22", "２２", "二十二", "第二十二回", "第22回", "#23", "横海郡柴进留宾", "第二十二回　横海郡柴进留宾"}) {
    auto r = n.resolve(ref);
    ASSERT_TRUE(r.ok()) << ref << ": " << r.error();
    EXPECT_EQ(*r, 23) << ref;
  }
  EXPECT_EQ(*n.resolve("楔子"), 1);
  EXPECT_EQ(*n.resolve("1"), 2);  // 第一回, not the 楔子
  // Out of range: one line naming what the book has.
  for (const char* ref : {"25", "第二十五回", "0", "#30", "第三十回", "尾声"}) {
    auto r = n.resolve(ref);
    ASSERT_FALSE(r.ok()) << ref;
    EXPECT_EQ(r.error().find('\n'), std::string::npos);
    EXPECT_NE(r.error().find("楔子、第一回–第二十四回"), std::string::npos) << r.error();
  }
  // New chapters continue the book's numbering: 第二十五回 is ordinal 26.
  EXPECT_EQ(*n.resolve_new("25"), 26);
  EXPECT_EQ(*n.resolve_new("第二十五回"), 26);
  EXPECT_EQ(*n.resolve_new("#26"), 26);
  EXPECT_FALSE(n.resolve_new("25", 0).ok());
  EXPECT_EQ(n.next_heading(), "第二十五回");
  EXPECT_EQ(n.label(27), "第二十六回");
  auto range = n.resolve_range("21-22");
  ASSERT_TRUE(range.ok()) << range.error();
  EXPECT_EQ(range->first, 22);
  EXPECT_EQ(range->second, 23);
  auto fresh = n.resolve_range("25-26", true);
  ASSERT_TRUE(fresh.ok()) << fresh.error();
  EXPECT_EQ(fresh->first, 26);
  EXPECT_EQ(fresh->second, 27);
  EXPECT_EQ(*n.resolve_range("第二十一回至第二十二回"), std::make_pair(int64_t{22}, int64_t{23}));
  EXPECT_EQ(*n.resolve_range("22-21"), std::make_pair(int64_t{23}, int64_t{22}));  // empty, not an error
  EXPECT_FALSE(n.resolve_range("22-30").ok());
}

TEST(ChapterNumbering, UnnumberedBooksCountInReadingOrder) {
  const ChapterNumbering n({info(0, "", ""), info(1, "　　　　风起", "风起"), info(2, "　　　　旧船", "旧船"),
                            info(3, "　　　　阿Ｑ的邻居", "阿Ｑ的邻居")});
  EXPECT_FALSE(n.numbered());
  EXPECT_EQ(*n.resolve("2"), 2);
  EXPECT_EQ(*n.resolve("阿Ｑ的邻居"), 3);
  EXPECT_EQ(*n.resolve("卷首"), 0);
  EXPECT_EQ(n.label(2), "旧船");
  EXPECT_FALSE(n.resolve("4").ok());
  EXPECT_EQ(*n.resolve_new("4"), 4);
  EXPECT_EQ(n.next_heading(), "第4章");
}

TEST(ChapterNumbering, ANumberTwoChaptersCarryIsAnErrorNamingThem) {
  const ChapterNumbering n({info(1, "第一卷 起", "起"), info(2, "第一章 甲", "甲"), info(3, "第二章 乙", "乙"),
                            info(4, "第二卷 承", "承"), info(5, "第一章 丙", "丙")});
  auto r = n.resolve("第一章");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("#2, #5"), std::string::npos) << r.error();
  EXPECT_EQ(*n.resolve("第二卷"), 4);  // the unit decides between 第一卷/第一章 only when both carry the number
  EXPECT_EQ(*n.resolve("乙"), 3);
  EXPECT_EQ(n.next_heading(), "第二章");
}

TEST(ChapterNumbering, NewChaptersFollowTheBookNotThePosition) {
  auto db = memdb();
  auto r = import_file(*db, book_path("shuihu-like.txt"));
  ASSERT_OK(r);
  EXPECT_EQ(r->chapters, 25);
  EXPECT_EQ(r->first_label, "楔子");
  EXPECT_EQ(r->last_label, "第二十四回");
  auto n = ChapterNumbering::load(*db, r->book_id);
  ASSERT_OK(n);
  EXPECT_EQ(n->label(23), "第二十二回");
  EXPECT_EQ(n->next_heading(), "第二十五回");  // not 第二十六回 (its ordinal)
  // Chinese numerals after a book written in digits stay digits, and the other way round.
  EXPECT_EQ(ChapterNumbering({info(1, "第1章 甲", "甲"), info(2, "第2章 乙", "乙")}).next_heading(), "第3章");
  EXPECT_EQ(ChapterNumbering({info(1, "楔子", "楔子"), info(2, "第一百二十回 终", "终")}).next_heading(), "第一百二十一回");
  // Chapters after the last numbered one (尾声) come before the next number.
  EXPECT_EQ(ChapterNumbering({info(1, "第九十九章 甲", "甲"), info(2, "尾声", "尾声")}).next_heading(), "第一百章");
}

// ---- import as found in the wild ----

TEST(ImportWild, ATableOfContentsStaysInTheFrontMatter) {
  // The structure of downloaded classics (儒林外史): a title line, an author line, every 回目 listed with full-width
  // spaces, then the text from 第一回 again.
  const char* cn[] = {"一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"};
  std::string toc, text;
  for (int i = 0; i < 12; ++i) {
    const std::string t = std::string("甲") + cn[i] + "回事　　　　乙" + cn[i] + "回事";
    toc += std::string("第") + cn[i] + "回　　　　" + t + (i % 3 == 0 ? " " : "") + "\n";
    text += std::string("第") + cn[i] + "回　" + t + "\n正文" + cn[i] + "，說了些話。\n再說一句。\n";
  }
  auto db = memdb();
  auto r = import_bytes(*db, "某書\n\n清·某人著\n\n" + toc + "\n" + text, "某書.gb18030.txt");
  ASSERT_OK(r);
  EXPECT_EQ(r->toc_lines, 12);
  EXPECT_TRUE(r->front_matter);
  EXPECT_EQ(r->chapters, 13);  // 12 + 卷首
  EXPECT_EQ(r->title, "某書");  // the short first line, not the file name
  auto list = Chapters(*db).list(r->book_id);
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 13u);
  EXPECT_EQ((*list)[1].title, "甲一回事　　　　乙一回事");
  EXPECT_EQ((*list)[12].title, "甲十二回事　　　　乙十二回事");
  auto fm = Chapters(*db).get((*list)[0].id);
  EXPECT_NE(fm->body.find("第十二回　　　　甲十二回事"), std::string::npos);
  for (size_t i = 1; i < list->size(); ++i) EXPECT_GT((*list)[i].zi, 5) << i;
  EXPECT_EQ(r->toc_lines, 12);
  EXPECT_TRUE(r->front_matter);
}

TEST(ImportWild, ShortChaptersThatDoNotStartAgainAreNoTableOfContents) {
  SplitBook b = split_chapters("第一章\n\n第二章\n\n第三章\n\n第四章 正文\n这里才有字。\n第五章\n又有字。\n");
  EXPECT_EQ(b.toc_lines, 0);
  EXPECT_EQ(b.chapters.size(), 5u);
}

TEST(ImportWild, AStoryCollectionIsOneChapterPerStory) {
  auto db = memdb();
  auto r = import_file(*db, book_path("stories-wrapped.txt"));
  ASSERT_OK(r);
  EXPECT_TRUE(r->stories);
  EXPECT_EQ(r->chapters, 5);
  EXPECT_FALSE(r->front_matter);
  EXPECT_EQ(r->sections, 3);
  auto list = Chapters(*db).list(r->book_id);
  ASSERT_OK(list);
  std::vector<std::string> labels;
  for (const auto& c : *list) labels.push_back(chapter_label(c));
  EXPECT_EQ(labels, (std::vector<std::string>{"风起", "旧船", "阿Ｑ的邻居", "桥", "雪夜"}));
  // The story's own 第一章… are its sections; the centred date line closing a story stays in it.
  auto aq = Chapters(*db).get((*list)[2].id);
  EXPECT_NE(aq->body.find("第一章　序"), std::string::npos);
  EXPECT_NE(aq->body.find("第三章　续优胜记略"), std::string::npos);
  EXPECT_NE(Chapters(*db).get((*list)[1].id)->body.find("一九二一年十月"), std::string::npos);
}

TEST(ImportWild, ACentredBookTitleBeforeTheChaptersIsNoStoryCollection) {
  SplitBook b = split_chapters(
      "　　　　　　　　石头记\n\n　　　　　　　　曹雪芹\n\n第一回 甲\n　　正文一，说了些话，又说了些话。\n第二回 乙\n　　正文二。\n");
  EXPECT_FALSE(b.stories);
  EXPECT_EQ(b.chapters.size(), 2u);
}

TEST(ImportWild, HardWrappedTextIsReflowed) {
  const std::string text = strip_cr(slurp(book_path("stories-wrapped.txt")));
  EXPECT_EQ(detect_wrap_width(text), 72);
  auto db = memdb();
  auto r = import_bytes(*db, text, "s.txt");
  ASSERT_OK(r);
  EXPECT_EQ(r->wrap_width, 72);
  EXPECT_GT(r->reflowed, 10);
  auto list = Chapters(*db).list(r->book_id);
  ASSERT_OK(list);
  for (const auto& c : *list) {
    const std::string body = Chapters(*db).get(c.id)->body;
    // Every line is a paragraph (indented), a section heading or blank: no line break inside a sentence.
    size_t at = 0;
    while (at < body.size()) {
      size_t nl = body.find('\n', at);
      if (nl == std::string::npos) nl = body.size();
      const std::string line = body.substr(at, nl - at);
      EXPECT_TRUE(line.empty() || line.rfind("　", 0) == 0) << c.title << ": «" << line << "»";
      at = nl + 1;
    }
  }
  auto first = Chapters(*db).get((*list)[0].id);
  EXPECT_NE(first->body.find("屋顶上的瓦片被吹得满街都是"), std::string::npos);
  EXPECT_NE(first->body.find("院子里的粮食。\n"), std::string::npos);
  // Latin words across a line break keep a space.
  int64_t joined = 0;
  std::string wide(34, 'x');
  EXPECT_EQ(reflow(wide + " end\nnext line\n", 38, &joined), wide + " end next line\n");
  EXPECT_EQ(joined, 1);
}

TEST(ImportWild, BooksWithOneLineParagraphsAreNotWrapped) {
  EXPECT_EQ(detect_wrap_width(strip_cr(slurp(novel_path("红楼梦.txt")))), 0);
  EXPECT_EQ(detect_wrap_width(strip_cr(slurp(novel_path("三国演义.txt")))), 0);
  EXPECT_EQ(detect_wrap_width(strip_cr(slurp(book_path("shuihu-like.txt")))), 0);
  // Verse: many equal short lines are not a wrap width.
  std::string verse;
  for (int i = 0; i < 40; ++i) verse += "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。\n";
  EXPECT_EQ(detect_wrap_width(verse), 0);
}
