#include <gtest/gtest.h>
#include <unicode/ucnv.h>

#include <random>

#include "engine/base/utf8.h"
#include "storage/books.h"
#include "storage/chapter_splitter.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/exporter.h"
#include "storage/importer.h"
#include "storage/text_decoder.h"
#include "storage_test_util.h"

using namespace cj;
using namespace cj::storage;
using namespace cj::storage::testing;

namespace {

std::string to_charset(const std::string& utf8, const char* charset) {
  UErrorCode st = U_ZERO_ERROR;
  std::string out(utf8.size() * 4 + 16, '\0');
  const int32_t n = ucnv_convert(charset, "UTF-8", out.data(), static_cast<int32_t>(out.size()), utf8.data(),
                                 static_cast<int32_t>(utf8.size()), &st);
  CJ_ASSERT(U_SUCCESS(st));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::unique_ptr<Database> memdb() {
  auto db = Database::open(":memory:");
  CJ_ASSERT(db.ok());
  return std::move(*db);
}

// The paragraphs of a text: its non-blank lines without indentation.
std::vector<std::string> paragraphs(const std::string& body) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= body.size()) {
    size_t nl = body.find('\n', at);
    if (nl == std::string::npos) nl = body.size();
    std::string l = body.substr(at, nl - at);
    while (!l.empty() && (l[0] == ' ' || l.rfind("\u3000", 0) == 0)) l.erase(0, l[0] == ' ' ? 1 : 3);
    if (!l.empty()) out.push_back(l);
    at = nl + 1;
  }
  return out;
}

const std::string kSmall = "《小书》某人\n\n第一章 开端\n　　第一段。\n第二章：继续\n　　第二段。\n";

}  // namespace

// ---- decoding ----

TEST(TextDecoder, Utf8WithAndWithoutBomAndCrlf) {
  auto a = decode_text("第一章\r\n正文\r\n");
  ASSERT_OK(a);
  EXPECT_EQ(a->text, "第一章\n正文\n");
  EXPECT_EQ(a->encoding, "UTF-8");
  auto b = decode_text("\xEF\xBB\xBF第一章\r正文");
  ASSERT_OK(b);
  EXPECT_EQ(b->text, "第一章\n正文");
  EXPECT_EQ(b->encoding, "UTF-8 (BOM)");
}

TEST(TextDecoder, Gb18030AndUtf16) {
  const std::string text = "第一回 林黛玉进贾府\n　　话说黛玉自那日弃舟登岸。𠀀\n";
  for (const char* cs : {"GB18030", "GBK"}) {
    std::string src = text;
    if (std::string(cs) == "GBK") src = "第一回 林黛玉进贾府\n　　话说黛玉自那日弃舟登岸。\n";
    auto d = decode_text(to_charset(src, cs));
    ASSERT_OK(d);
    EXPECT_EQ(d->text, src) << cs;
    EXPECT_EQ(d->encoding, "GB18030");
  }
  std::string le = to_charset(text, "UTF-16LE"), be = to_charset(text, "UTF-16BE");
  auto l = decode_text("\xFF\xFE" + le);
  ASSERT_OK(l);
  EXPECT_EQ(l->text, text);
  EXPECT_EQ(l->encoding, "UTF-16LE");
  auto b = decode_text("\xFE\xFF" + be);
  ASSERT_OK(b);
  EXPECT_EQ(b->text, text);
  EXPECT_EQ(b->encoding, "UTF-16BE");
}

TEST(TextDecoder, Big5TraditionalChineseIsNotMistakenForGbk) {
  const std::string text = "第一回　甄士隱夢幻識通靈　賈雨村風塵懷閨秀\n　　此開卷第一回也。作者自云：因曾歷過一番夢幻之後，故將真事隱去。\n";
  auto d = decode_text(to_charset(text, "Big5"));
  ASSERT_OK(d);
  EXPECT_EQ(d->encoding, "Big5");
  EXPECT_EQ(d->text, text);
  // The same text in GB18030 stays GB18030.
  auto g = decode_text(to_charset(text, "GB18030"));
  ASSERT_OK(g);
  EXPECT_EQ(g->encoding, "GB18030");
  EXPECT_EQ(g->text, text);
}

TEST(TextDecoder, EncodeGivesBackTheBytesDecodeRead) {
  const std::string text = "第一回　甄士隱夢幻識通靈　賈雨村風塵懷閨秀\n　　此開卷第一回也。作者自云：因曾歷過一番夢幻之後，故將真事隱去。\n";
  for (const std::string enc : {"UTF-8", "UTF-8 (BOM)", "GB18030", "Big5", "UTF-16LE", "UTF-16BE", "UTF-32LE"}) {
    auto bytes = encode_text(text, enc);
    ASSERT_OK(bytes);
    auto d = decode_text(*bytes);
    ASSERT_OK(d);
    EXPECT_EQ(d->encoding, enc);
    EXPECT_EQ(d->text, text) << enc;
  }
  EXPECT_EQ(*encode_text("\xF0\xA0\x80\x80", "GB18030"), std::string("\x95\x32\x82\x36", 4));  // U+20000
  // Big5 has no simplified characters: the error names the first one.
  auto big5 = encode_text("賈雨村和贾雨村", "Big5");
  ASSERT_FALSE(big5.ok());
  EXPECT_NE(big5.error().find("“贾”"), std::string::npos) << big5.error();
  EXPECT_FALSE(encode_text("x", "EBCDIC").ok());
}

TEST(TextDecoder, HongloumengInGb18030) {
  const std::string text = strip_cr(slurp(novel_path("红楼梦.txt")));
  auto d = decode_text(to_charset(text, "GB18030"));
  ASSERT_OK(d);
  EXPECT_EQ(d->encoding, "GB18030");
  EXPECT_TRUE(d->text == text);
}

TEST(TextDecoder, RefusesWhatIsNotText) {
  auto e = decode_text("");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().find("empty"), std::string::npos);
  auto bin = decode_text(std::string("\x7f" "ELF\x02\x01\x01\x00\x00\x00", 10));
  ASSERT_FALSE(bin.ok());
  EXPECT_NE(bin.error().find("binary"), std::string::npos) << bin.error();
  // Mostly-UTF-8 with a broken byte: named as broken UTF-8 with its position, not misread as GB18030.
  std::string broken = "第一章 开端\n　　这是正文，这是正文，这是正文。\n第二行\xff坏了\n";
  auto u = decode_text(broken, "x.txt");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().find("not valid UTF-8"), std::string::npos) << u.error();
  EXPECT_NE(u.error().find("line 3"), std::string::npos) << u.error();
  auto ws = decode_text(" \n\n\t ");
  ASSERT_FALSE(ws.ok());
}

TEST(TextDecoder, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    auto d = decode_text(s);
    if (d.ok()) {
      EXPECT_TRUE(utf8::valid(d->text));
    }
  }
}

// ---- headings ----

TEST(ChapterSplitter, RecognizesHeadings) {
  struct Case {
    const char* line;
    const char* title;
  } ok[] = {{"第一章 风起", "风起"},
            {"第十二回  王熙凤毒设相思局　贾天祥正照风月鉴", "王熙凤毒设相思局　贾天祥正照风月鉴"},
            {"第一百二十回  甄士隐详说太虚情", "甄士隐详说太虚情"},
            {"第一二零回  甄士隐详说太虚情", "甄士隐详说太虚情"},
            {"第12章：归来", "归来"},
            {"第１２章　归来", "归来"},
            {"第三卷", ""},
            {"楔子", "楔子"},
            {"序章 黎明", "黎明"},
            {"引子", "引子"},
            {"尾声：多年以后", "多年以后"},
            {"## 第二回 标题", "标题"},
            {"第一章风起云涌", "风起云涌"}};
  for (const auto& c : ok) {
    auto m = parse_heading(c.line);
    ASSERT_TRUE(m.has_value()) << c.line;
    EXPECT_EQ(m->title, c.title) << c.line;
  }
  const char* not_headings[] = {
      "第三回书中说到，宝玉挨了打。",
      "第二回里贾雨村的事，且按下不表。",
      "第一章写得好，第二章更好，读者都这么说，大家都很喜欢这本小说的开头。",
      "第几回来着？",
      "序列号是多少",
      "尾声响起的时候，他哭了。",
      "    第一一九回中乡魁宝玉却尘缘沐皇恩贾家延世泽——",
      "　　第三回，宝玉说道：“好。”",
      "第十回 " "这是一个非常非常非常非常非常非常非常非常非常非常非常非常非常非常非常非常长的句子。",
      "第回 无数字"};
  for (const char* l : not_headings) EXPECT_FALSE(parse_heading(l).has_value()) << l;
}

TEST(ChapterSplitter, TitleLineFrontMatterAndRoundTrip) {
  const std::string text =
      "《石头记》曹雪芹\n\n序言文字，不是标题。\n\n第一回  甲\n正文一\n第三回书中说到的事。\n\n第二回  乙\n正文二";
  SplitBook b = split_chapters(text);
  EXPECT_EQ(b.title, "石头记");
  EXPECT_EQ(b.author, "曹雪芹");
  EXPECT_EQ(b.preamble, "《石头记》曹雪芹\n\n");
  ASSERT_TRUE(b.front_matter.has_value());
  EXPECT_EQ(*b.front_matter, "序言文字，不是标题。\n\n");
  ASSERT_EQ(b.chapters.size(), 2u);
  EXPECT_EQ(b.chapters[0].title, "甲");
  EXPECT_EQ(b.chapters[0].body, "正文一\n第三回书中说到的事。\n\n");
  std::string joined = b.preamble + *b.front_matter;
  for (const auto& c : b.chapters) joined += c.heading + "\n" + c.body;
  EXPECT_EQ(joined, text);
}

TEST(ChapterSplitter, RandomDocumentsSplitAndJoinBackExactly) {
  const std::vector<std::string> pieces = {
      "第一章 风起\n", "第十二回  标题　副题\n", "楔子\n", "尾声：后来\n", "　　正文一段，说了些话。\n", "\n",
      "第三回书中说到，宝玉挨打。\n", "《书名》作者\n", "# 标题\n", "作者：某人\n", "    缩进的行\n", "第一百回\n",
      "序\n", "ABC def\n", "第2章：数字\n", "　　第五回里说的话。\n", "## 第六回 md\n", "\t\n"};
  std::mt19937 rng(5);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()];
    if (text.find_first_not_of(" \t\n") == std::string::npos) continue;
    SplitBook b = split_chapters(text);
    std::string joined = b.preamble + b.front_matter.value_or("");
    for (const auto& c : b.chapters) {
      if (!c.heading.empty()) joined += c.heading + "\n";
      joined += c.body;
    }
    // Markdown prefixes of chapter headings are dropped on purpose; compare without them (a table of contents
    // stays verbatim in the front matter).
    std::string expect = text;
    const size_t verbatim = b.preamble.size() + b.front_matter.value_or("").size();
    for (size_t p = expect.find("## 第", verbatim); p != std::string::npos; p = expect.find("## 第", p))
      if (p == 0 || expect[p - 1] == '\n') expect.erase(p, 3); else ++p;
    ASSERT_EQ(joined, expect) << "input:\n" << text;
    for (const auto& c : b.chapters) ASSERT_TRUE(utf8::valid(c.body));
    // Each chapter's offset is where its heading line (or its headless body) starts in the text.
    size_t prev = 0;
    for (const auto& c : b.chapters) {
      ASSERT_GE(c.begin, prev);
      prev = c.begin;
      if (c.heading.empty()) {
        ASSERT_EQ(text.substr(c.begin, c.body.size()), c.body) << "input:\n" << text;
      } else {
        const size_t nl = text.find('\n', c.begin);
        ASSERT_NE(text.substr(c.begin, nl - c.begin).find(c.heading), std::string::npos) << "input:\n" << text;
        ASSERT_EQ(text.substr(nl + 1, c.body.size()), c.body) << "input:\n" << text;
      }
    }
  }
}

TEST(ChapterSplitter, NoHeadingsIsOneChapter) {
  SplitBook b = split_chapters("只是一段文字。\n又一段。\n");
  ASSERT_EQ(b.chapters.size(), 1u);
  EXPECT_EQ(b.chapters[0].heading, "");
  EXPECT_EQ(b.chapters[0].body, "只是一段文字。\n又一段。\n");
  EXPECT_FALSE(b.front_matter.has_value());
}

TEST(ChapterSplitter, NewHeadingsFollowThePreviousOnesNumbering) {
  EXPECT_EQ(heading_for(21, "第二十回 王熙凤正言弹妒意　林黛玉俏语谑娇音"), "第二十一回");
  EXPECT_EQ(heading_for(10, "第九回"), "第十回");
  EXPECT_EQ(heading_for(11, "第十回"), "第十一回");
  EXPECT_EQ(heading_for(100, "第九十九章 终"), "第一百章");
  EXPECT_EQ(heading_for(105, "第一百零四回"), "第一百零五回");
  EXPECT_EQ(heading_for(110, "第一百零九回"), "第一百一十回");
  EXPECT_EQ(heading_for(1010, "第一千零九节"), "第一千零一十节");
  EXPECT_EQ(heading_for(2000, "第一千九百九十九回"), "第二千回");
  EXPECT_EQ(heading_for(4, "## 第3章：数字"), "第4章");
  EXPECT_EQ(heading_for(4, "第３章"), "第4章");
  EXPECT_EQ(heading_for(2, "楔子"), "第2章");
  EXPECT_EQ(heading_for(1, ""), "第1章");
  EXPECT_EQ(heading_for(12000, "第一万一千回"), "第12000回");  // beyond 9999: digits
  // What it writes is a heading the splitter recognizes.
  for (int n : {1, 9, 10, 19, 20, 99, 101, 110, 999, 1001, 9999})
    EXPECT_TRUE(parse_heading(heading_for(n, "第一回")).has_value()) << n;
}

// ---- import / export ----

TEST(Importer, HongloumengHas120ChaptersWithTitlesAndRoundTrips) {
  auto db = memdb();
  auto r = import_file(*db, novel_path("红楼梦.txt"));
  ASSERT_OK(r);
  EXPECT_EQ(r->chapters, 120);
  EXPECT_EQ(r->title, "红楼梦");
  EXPECT_FALSE(r->front_matter);
  auto list = Chapters(*db).list(r->book_id);
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 120u);
  for (size_t i = 0; i < list->size(); ++i) EXPECT_EQ((*list)[i].ordinal, static_cast<int64_t>(i + 1));
  EXPECT_EQ((*list)[0].title, "甄士隐梦幻识通灵　贾雨村风尘怀闺秀");
  EXPECT_EQ((*list)[2].title, "贾雨村夤缘复旧职　林黛玉抛父进京都");
  EXPECT_EQ((*list)[118].title, "中乡魁宝玉却尘缘　沐皇恩贾家延世泽");
  EXPECT_EQ((*list)[119].title, "甄士隐详说太虚情　贾雨村归结红楼梦");
  auto book = Books(*db).get(r->book_id);
  ASSERT_OK(book);
  EXPECT_EQ(book->author, "曹雪芹");
  auto txt = export_book(*db, r->book_id, ExportFormat::kText);
  ASSERT_OK(txt);
  EXPECT_TRUE(*txt == strip_cr(slurp(novel_path("红楼梦.txt")))) << "txt export differs from the imported file";
}

TEST(Importer, SanguoHas120ChaptersAndRoundTrips) {
  auto db = memdb();
  auto r = import_file(*db, novel_path("三国演义.txt"));
  ASSERT_OK(r);
  EXPECT_EQ(r->chapters, 120);
  auto c1 = Chapters(*db).get_by_ordinal(r->book_id, 1);
  ASSERT_OK(c1);
  EXPECT_EQ(c1->title, "宴桃园豪杰三结义 斩黄巾英雄首立功");
  EXPECT_EQ(c1->chars, static_cast<int64_t>(utf8::count_code_points(c1->body)));
  auto txt = export_book(*db, r->book_id, ExportFormat::kText);
  ASSERT_OK(txt);
  EXPECT_TRUE(*txt == strip_cr(slurp(novel_path("三国演义.txt"))));
}

TEST(Importer, MarkdownExportReimportsToTheSameChapters) {
  auto db = memdb();
  auto r = import_bytes(*db, "《小书》某人\n\n前言一段。\n\n" + kSmall.substr(kSmall.find("第一章")), "a.txt");
  ASSERT_OK(r);
  EXPECT_TRUE(r->front_matter);
  auto md = export_book(*db, r->book_id, ExportFormat::kMarkdown);
  ASSERT_OK(md);
  EXPECT_NE(md->find("## 第一章 开端\n"), std::string::npos) << *md;
  auto r2 = import_bytes(*db, *md, "a.md");
  ASSERT_OK(r2);
  auto a = Chapters(*db).list(r->book_id), b = Chapters(*db).list(r2->book_id);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    auto ca = Chapters(*db).get((*a)[i].id), cb = Chapters(*db).get((*b)[i].id);
    EXPECT_EQ(ca->heading, cb->heading);
    EXPECT_EQ(ca->title, cb->title);
    EXPECT_EQ(paragraphs(ca->body), paragraphs(cb->body));  // Markdown paragraphs: no indents, blank lines between
  }
  auto b2 = Books(*db).get(r2->book_id);
  EXPECT_EQ(b2->title, "小书");
  EXPECT_EQ(b2->author, "某人");
}

TEST(Importer, ReimportIsRefusedUnlessReplaceOrDuplicate) {
  auto db = memdb();
  auto r = import_bytes(*db, kSmall, "s.txt");
  ASSERT_OK(r);
  auto again = import_bytes(*db, kSmall, "s.txt");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("already imported"), std::string::npos) << again.error();
  // CRLF or a BOM does not make it a different text.
  auto crlf = import_bytes(*db, "\xEF\xBB\xBF" "《小书》某人\r\n\r\n第一章 开端\r\n　　第一段。\r\n第二章：继续\r\n　　第二段。\r\n", "s2.txt");
  EXPECT_FALSE(crlf.ok());
  auto rep = import_bytes(*db, kSmall, "s.txt", {.replace = true});
  ASSERT_OK(rep);
  EXPECT_EQ(rep->replaced_book_id, r->book_id);
  EXPECT_FALSE(Books(*db).get(r->book_id).ok());
  auto dup = import_bytes(*db, kSmall, "s.txt", {.title = "副本", .allow_duplicate = true});
  ASSERT_OK(dup);
  auto all = Books(*db).list();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].title, "副本");
}

TEST(Importer, GarbageNeverLeavesAHalfBook) {
  auto db = memdb();
  for (std::string bad : {std::string(""), std::string("\x00\x01\x02", 3), std::string("第一章\n\xff\xfe\xfd正文正文正文正文")}) {
    auto r = import_bytes(*db, bad, "bad.txt");
    EXPECT_FALSE(r.ok());
  }
  EXPECT_EQ(*db->query_int("SELECT count(*) FROM books"), 0);
  EXPECT_EQ(*db->query_int("SELECT count(*) FROM chapters"), 0);
  std::mt19937 rng(11);
  for (int i = 0; i < 200; ++i) {
    std::string s = kSmall;
    for (int k = 0; k < 3; ++k) s[rng() % s.size()] = static_cast<char>(rng());
    auto r = import_bytes(*db, s, "f.txt", {.allow_duplicate = true});
    if (r.ok()) {
      EXPECT_EQ(*Chapters(*db).count(r->book_id), r->chapters);
    }
  }
  EXPECT_EQ(*db->query_text("PRAGMA integrity_check"), "ok");
}

TEST(Importer, FiftyMegabytesWithoutHeadingsIsAClearError) {
  auto db = memdb();
  std::string line = "　　这是一段没有章节标题的文字，重复很多次。\n";
  std::string big;
  big.reserve(50u << 20);
  while (big.size() < (50u << 20)) big += line;
  auto r = import_bytes(*db, big, "huge.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("no chapter headings"), std::string::npos) << r.error();
  EXPECT_EQ(*db->query_int("SELECT count(*) FROM books"), 0);
}

TEST(Importer, SmallFileWithoutHeadingsIsOneChapter) {
  auto db = memdb();
  auto r = import_bytes(*db, "一段故事。\n又一段。\n", "短篇.txt");
  ASSERT_OK(r);
  EXPECT_EQ(r->chapters, 1);
  EXPECT_EQ(r->title, "短篇");
  auto txt = export_book(*db, r->book_id, ExportFormat::kText);
  EXPECT_EQ(*txt, "一段故事。\n又一段。\n");
}

TEST(Importer, Gb18030FileImports) {
  TempDir dir;
  ASSERT_OK(write_file_atomic(dir.file("gbk.txt"), to_charset(kSmall, "GB18030")));
  auto db = memdb();
  auto r = import_file(*db, dir.file("gbk.txt"));
  ASSERT_OK(r);
  EXPECT_EQ(r->encoding, "GB18030");
  EXPECT_EQ(r->chapters, 2);
  EXPECT_EQ(*export_book(*db, r->book_id, ExportFormat::kText), kSmall);
}

TEST(Exporter, MarkdownHasHeadingsAndPlainParagraphsNoCodeBlocks) {
  auto db = memdb();
  // 红楼梦's layout: four-space indented paragraphs; a story collection's: centred titles and 全角 indents.
  auto r = import_file(*db, novel_path("红楼梦.txt"));
  ASSERT_OK(r);
  auto md = export_book(*db, r->book_id, ExportFormat::kMarkdown);
  ASSERT_OK(md);
  size_t lines = 0, at = 0;
  bool prev_blank = true;
  while (at < md->size()) {
    size_t nl = md->find('\n', at);
    if (nl == std::string::npos) nl = md->size();
    const std::string l = md->substr(at, nl - at);
    at = nl + 1;
    ++lines;
    // Markdown reads a line indented by 4 spaces (or a tab) after a blank line as code.
    ASSERT_FALSE(l.rfind("    ", 0) == 0 || l.rfind("\t", 0) == 0 || l.rfind("\u3000", 0) == 0 || l.rfind(" ", 0) == 0)
        << "line " << lines << ": «" << l << "»";
    // Every paragraph stands alone (a single newline would join two paragraphs into one).
    if (!l.empty() && l.rfind("## ", 0) != 0 && l.rfind("# ", 0) != 0) {
      ASSERT_TRUE(prev_blank) << "line " << lines << " continues a paragraph: «" << l << "»";
    }
    prev_blank = l.empty();
  }
  EXPECT_NE(md->find("\n## 第一回  甄士隐梦幻识通灵　贾雨村风尘怀闺秀\n\n此开卷第一回也"), std::string::npos);

  auto s = import_file(*db, std::string(CJ_TEST_DATA) + "/books/stories-wrapped.txt");
  ASSERT_OK(s);
  auto smd = export_book(*db, s->book_id, ExportFormat::kMarkdown);
  ASSERT_OK(smd);
  EXPECT_NE(smd->find("\n## 阿Ｑ的邻居\n\n### 第一章　序\n\n我要给阿Ｑ的邻居写一篇传"), std::string::npos) << *smd;
  EXPECT_EQ(smd->find("## 　"), std::string::npos);
  // The Markdown imports back as the same five stories.
  auto back = import_bytes(*db, *smd, "s.md");
  ASSERT_OK(back);
  EXPECT_EQ(back->chapters, 5);
  auto a = Chapters(*db).list(s->book_id), b = Chapters(*db).list(back->book_id);
  ASSERT_OK(a);
  ASSERT_OK(b);
  for (size_t i = 0; i < a->size(); ++i) EXPECT_EQ(chapter_label((*a)[i]), chapter_label((*b)[i]));
}

TEST(Exporter, ChaptersHoldingOnlyAnUnacceptedDraftAreNamed) {
  auto db = memdb();
  auto r = import_bytes(*db, kSmall, "s.txt");
  ASSERT_OK(r);
  Chapters ch(*db);
  auto id = ch.add(r->book_id, {3, "第三章", "第三章", ""});
  ASSERT_OK(id);
  ASSERT_OK(ch.add_revision(*id, "　　模型写的草稿。", RevisionSource::kAi, "AI draft"));
  auto id4 = ch.add(r->book_id, {4, "第四章", "第四章", ""});  // empty, no draft: not named
  ASSERT_OK(id4);
  auto names = unaccepted_drafts(*db, r->book_id);
  ASSERT_OK(names);
  EXPECT_EQ(*names, std::vector<std::string>{"第三章"});
  auto revs = ch.revisions(*id);
  ASSERT_OK(revs);
  ASSERT_OK(ch.set_current(*id, revs->back().id));  // accepted: exported, no longer named
  names = unaccepted_drafts(*db, r->book_id);
  ASSERT_OK(names);
  EXPECT_TRUE(names->empty());
}
