// studio::BookSession over a book project (SQLite): chapters from storage, saves as revisions, restore, rename,
// add, search with a place to jump to, entities/facts/findings.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "storage/database.h"
#include "storage/entities.h"
#include "storage/importer.h"
#include "studio/book_session.h"

namespace cj::studio {
namespace {

const char* kNovel =
    "《石头记》\n\n第一回  甄士隐梦幻识通灵\n    此开卷第一回也。林黛玉与贾宝玉。\n\n第二回  贾夫人仙逝扬州城\n"
    "    林如海之女黛玉，年方五岁。\n";

class ProjectSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cj_proj_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "b.cjbook").string();
    auto db = storage::Database::open(path_);
    ASSERT_TRUE(db.ok()) << db.error();
    auto r = storage::import_bytes(**db, kNovel, "石头记.txt");
    ASSERT_TRUE(r.ok()) << r.error();
    book_ = r->book_id;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
  int64_t book_ = 0;
};

TEST_F(ProjectSessionTest, SavesAreRevisionsAndRestoreKeepsEverything) {
  auto b = BookSession::open_project(path_, 0);  // the only book
  ASSERT_TRUE(b.ok()) << b.error();
  BookSession& s = **b;
  EXPECT_TRUE(s.has_revisions());
  EXPECT_EQ(s.book_id(), book_);
  ASSERT_EQ(s.chapters().size(), 2u);
  EXPECT_EQ(s.chapters()[0].title, "第一回  甄士隐梦幻识通灵");
  const std::string original = *s.load_chapter(0);
  EXPECT_NE(original.find("林黛玉"), std::string::npos);

  ASSERT_TRUE(s.save_chapter(0, original + "宝玉笑道：“好妹妹。”").ok());
  EXPECT_EQ(s.chapters()[0].revision, 2);
  auto revs = s.revisions(0);
  ASSERT_TRUE(revs.ok()) << revs.error();
  ASSERT_EQ(revs->size(), 2u);
  EXPECT_EQ((*revs)[0].source, "import");
  EXPECT_EQ((*revs)[1].source, "writer");
  EXPECT_TRUE((*revs)[1].current);
  EXPECT_EQ(*s.revision_text((*revs)[0].id), original);  // the imported text is still there

  ASSERT_TRUE(s.restore_revision(0, (*revs)[0].id).ok());
  EXPECT_EQ(*s.load_chapter(0), original);
  revs = s.revisions(0);
  ASSERT_EQ(revs->size(), 3u);
  EXPECT_EQ((*revs)[2].source, "restore");
  EXPECT_NE((*s.revision_text((*revs)[1].id)).find("好妹妹"), std::string::npos);  // the undone save is kept
  EXPECT_FALSE(s.restore_revision(1, (*revs)[0].id).ok());                         // a revision of another chapter
}

TEST_F(ProjectSessionTest, RenameAndAddChapters) {
  auto b = BookSession::open_project(path_, book_);
  ASSERT_TRUE(b.ok()) << b.error();
  BookSession& s = **b;
  ASSERT_TRUE(s.rename_chapter(1, "林如海捐馆扬州城").ok());
  EXPECT_EQ(s.chapters()[1].title, "第二回  林如海捐馆扬州城");
  EXPECT_FALSE(s.rename_chapter(1, "  ").ok());
  auto i = s.add_chapter("新的一章");
  ASSERT_TRUE(i.ok()) << i.error();
  EXPECT_EQ(*i, 2u);
  EXPECT_EQ(s.chapters()[2].title, "第三回  新的一章");  // numbered like the chapters before it
  ASSERT_TRUE(s.add_chapter("").ok());
  EXPECT_EQ(s.chapters()[3].title, "第四回");
  ASSERT_TRUE(s.add_chapter("第五回 风起").ok());      // a heading as the name is taken as it is
  EXPECT_EQ(s.chapters()[4].title, "第五回  风起");
  ASSERT_TRUE(s.save_chapter(2, "宝玉来了。").ok());
  // Reopened, everything is still there.
  auto again = BookSession::open_project(path_, book_);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ((*again)->chapters().size(), 5u);
  EXPECT_EQ((*again)->chapters()[3].title, "第四回");
  EXPECT_EQ((*again)->chapters()[1].title, "第二回  林如海捐馆扬州城");
  EXPECT_EQ(*(*again)->load_chapter(2), "宝玉来了。");
  EXPECT_EQ((*again)->chapters()[2].zi, 5u);
}

// A book with a 楔子: the list shows the book's labels, a reference resolves by the book's own numbers, and a new
// chapter continues them (第二十五回 after 第二十四回, not 第二十六回 from its position).
TEST(ProjectSessionNumbers, TheBooksOwnNumbersInTheListAndForNewChapters) {
  const auto dir = std::filesystem::temp_directory_path() / "cj_proj_numbers";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "s.cjbook").string();
  {
    auto db = storage::Database::open(path);
    ASSERT_TRUE(db.ok()) << db.error();
    ASSERT_TRUE(storage::import_file(**db, std::string(CJ_TEST_DATA) + "/books/shuihu-like.txt").ok());
  }
  auto b = BookSession::open_project(path, 0);
  ASSERT_TRUE(b.ok()) << b.error();
  BookSession& s = **b;
  ASSERT_EQ(s.chapters().size(), 25u);
  EXPECT_EQ(s.chapters()[0].label, "楔子");
  EXPECT_EQ(s.chapters()[0].title, "楔子  张天师祈禳瘟疫　洪太尉误走妖魔");
  EXPECT_EQ(s.chapters()[22].label, "第二十二回");
  EXPECT_EQ(s.chapters()[22].title, "第二十二回  横海郡柴进留宾　景阳冈武松打虎");
  EXPECT_EQ(*s.resolve_chapter("22"), 22u);
  EXPECT_EQ(*s.resolve_chapter("第二十二回"), 22u);
  EXPECT_EQ(*s.resolve_chapter("楔子"), 0u);
  EXPECT_FALSE(s.resolve_chapter("25").ok());
  EXPECT_EQ(s.numbering().next_heading(), "第二十五回");  // what 新建章节 proposes
  auto i = s.add_chapter("");
  ASSERT_TRUE(i.ok()) << i.error();
  EXPECT_EQ(s.chapters()[*i].title, "第二十五回");
  EXPECT_EQ(s.chapters()[*i].label, "第二十五回");
  EXPECT_EQ(*s.resolve_chapter("25"), *i);
  ASSERT_TRUE(s.add_chapter("风雪山神庙").ok());
  EXPECT_EQ(s.chapters().back().title, "第二十六回  风雪山神庙");
  EXPECT_EQ(s.chapter_label(28), "第二十七回");  // a chapter not written yet
  b->reset();
  std::filesystem::remove_all(dir);
}

// A story collection: each story is listed by its title, once (not "风起  风起").
TEST(ProjectSessionNumbers, StoriesAreListedByTheirTitles) {
  const auto dir = std::filesystem::temp_directory_path() / "cj_proj_stories";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "s.cjbook").string();
  {
    auto db = storage::Database::open(path);
    ASSERT_TRUE(db.ok()) << db.error();
    ASSERT_TRUE(storage::import_file(**db, std::string(CJ_TEST_DATA) + "/books/stories-wrapped.txt").ok());
  }
  auto b = BookSession::open_project(path, 0);
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_EQ((*b)->chapters().size(), 5u);
  EXPECT_EQ((*b)->chapters()[2].title, "阿Ｑ的邻居");
  EXPECT_EQ(*(*b)->resolve_chapter("3"), 2u);  // no numbered headings: a bare number counts in reading order
  auto c = (*b)->search_count("阿Q");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->chapters, 1);
  EXPECT_EQ(c->hits, 4);
  b->reset();
  std::filesystem::remove_all(dir);
}

TEST_F(ProjectSessionTest, OutlinesMoveWithTheirChapters) {
  auto b = BookSession::open_project(path_, book_);
  ASSERT_TRUE(b.ok()) << b.error();
  BookSession& s = **b;
  ASSERT_TRUE(s.add_chapter("").ok());  // three chapters: 第一回, 第二回, 第三回
  ASSERT_EQ(s.chapters().size(), 3u);
  const std::string first = s.chapters()[0].title, third = s.chapters()[2].title;
  ASSERT_TRUE(s.save_outline(1, "一的大纲").ok());
  ASSERT_TRUE(s.save_outline(3, "三的大纲").ok());
  ASSERT_TRUE(s.move_chapter(2, 0).ok());  // 第三回 to the front
  EXPECT_EQ(s.chapters()[0].title, third);
  EXPECT_EQ(s.chapters()[1].title, first);
  EXPECT_EQ(*s.outline(1), "三的大纲");
  EXPECT_EQ(*s.outline(2), "一的大纲");
  EXPECT_EQ(*s.outline(3), "");
}

TEST_F(ProjectSessionTest, SearchPointsAtTheFirstOccurrence) {
  auto b = BookSession::open_project(path_, book_);
  ASSERT_TRUE(b.ok());
  auto hits = (*b)->search("黛玉", 10);
  ASSERT_TRUE(hits.ok()) << hits.error();
  ASSERT_EQ(hits->size(), 2u);
  for (const auto& h : *hits) {
    const std::string body = *(*b)->load_chapter(h.chapter);
    EXPECT_EQ(body.substr(h.byte, h.length), "黛玉");
    EXPECT_EQ(body.find("黛玉"), h.byte);
    EXPECT_NE(h.snippet.find("黛玉"), std::string::npos);
  }
  EXPECT_FALSE((*b)->search("，", 10).ok());  // no letters: storage says so
}

TEST_F(ProjectSessionTest, EntitiesFactsFindingsAndErrors) {
  {
    auto db = storage::Database::open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(storage::Entities(**db).add(book_, "character", "林黛玉", {"黛玉", "颦儿"}).ok());
  }
  auto b = BookSession::open_project(path_, book_);
  ASSERT_TRUE(b.ok());
  auto e = (*b)->entities();
  ASSERT_TRUE(e.ok()) << e.error();
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].aliases.size(), 2u);
  EXPECT_TRUE((*b)->facts().ok());
  EXPECT_TRUE((*b)->findings().ok());
  EXPECT_TRUE((*b)->jobs().ok());
  EXPECT_EQ((*b)->chapter_index_of_ordinal(2), 1);

  auto bad = BookSession::open_project(path_, 99);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("99"), std::string::npos);
  EXPECT_FALSE(BookSession::open_project((dir_ / "missing.cjbook").string(), 1).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "missing.cjbook"));  // opening never creates a project
}

TEST_F(ProjectSessionTest, EntitiesAndFactsAreAddedAndRemovedInTheApp) {
  auto b = BookSession::open_project(path_, book_);
  ASSERT_TRUE(b.ok());
  BookSession& s = **b;
  auto id = s.add_entity("character", " 贾宝玉 ", {"宝玉", " 宝二爷", "", "贾宝玉"}, "衔玉而生");
  ASSERT_TRUE(id.ok()) << id.error();
  auto e = s.entities();
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].name, "贾宝玉");  // trimmed; the name itself and empty aliases dropped
  EXPECT_EQ((*e)[0].aliases, (std::vector<std::string>{"宝二爷", "宝玉"}));
  EXPECT_FALSE(s.add_entity("character", "  ", {}, "").ok());
  EXPECT_FALSE(s.add_entity("character", "贾宝玉", {}, "").ok());  // names are unique in a book
  EXPECT_FALSE(s.add_entity("dragon", "敖丙", {}, "").ok());

  storage::Fact f;
  f.entity_id = *id;
  f.predicate = "状态";
  f.value = "出家";
  f.valid_from = 2;
  auto fid = s.add_fact(f);
  ASSERT_TRUE(fid.ok()) << fid.error();
  auto facts = s.facts();
  ASSERT_EQ(facts->size(), 1u);
  EXPECT_EQ((*facts)[0].book_id, book_);
  EXPECT_EQ((*facts)[0].origin, "writer");
  EXPECT_TRUE((*facts)[0].holds_at(2));
  EXPECT_FALSE((*facts)[0].holds_at(1));
  f.valid_from = 3;
  f.valid_to = 1;
  EXPECT_FALSE(s.add_fact(f).ok());  // inverted range
  f.valid_to = std::nullopt;
  f.predicate = "";
  EXPECT_FALSE(s.add_fact(f).ok());

  ASSERT_TRUE(s.remove_fact(*fid).ok());
  EXPECT_TRUE(s.facts()->empty());
  ASSERT_TRUE(s.add_fact({.entity_id = *id, .predicate = "年龄", .value = "十三岁"}).ok());
  ASSERT_TRUE(s.remove_entity(*id).ok());  // and its facts
  EXPECT_TRUE(s.entities()->empty());
  EXPECT_TRUE(s.facts()->empty());
}

TEST(CodePoints, ByteOffsets) {
  EXPECT_EQ(byte_offset_of_code_point("林黛玉a", 0), 0u);
  EXPECT_EQ(byte_offset_of_code_point("林黛玉a", 2), 6u);
  EXPECT_EQ(byte_offset_of_code_point("林黛玉a", 4), 10u);
  EXPECT_EQ(byte_offset_of_code_point("林黛玉a", 99), 10u);
}

}  // namespace
}  // namespace cj::studio
