#include <gtest/gtest.h>

#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/findings.h"
#include "storage_test_util.h"

using namespace cj;
using namespace cj::storage;

namespace {
struct ChapterMove : ::testing::Test {
  std::unique_ptr<Database> db;
  int64_t book = 0;
  std::vector<int64_t> ids;  // chapters 一..五 at ordinals 1..5
  void SetUp() override {
    auto d = Database::open(":memory:");
    ASSERT_OK(d);
    db = std::move(*d);
    auto b = Books(*db).create({.title = "书"});
    ASSERT_OK(b);
    book = *b;
    for (const char* t : {"一", "二", "三", "四", "五"}) {
      auto id = Chapters(*db).add(book, {.title = t, .body = std::string("正文") + t});
      ASSERT_OK(id);
      ids.push_back(*id);
    }
  }
  std::string order() {
    std::string s;
    auto l = Chapters(*db).list(book);
    EXPECT_TRUE(l.ok());
    int64_t want = 1;
    for (const auto& c : *l) {
      EXPECT_EQ(c.ordinal, want++);  // no gaps, no duplicates
      s += c.title;
    }
    return s;
  }
};
}  // namespace

TEST_F(ChapterMove, ForwardAndBackKeepOrdinalsDense) {
  Chapters ch(*db);
  ASSERT_OK(ch.move(ids[0], 4));  // 一 after 四
  EXPECT_EQ(order(), "二三四一五");
  ASSERT_OK(ch.move(ids[4], 1));  // 五 to the front
  EXPECT_EQ(order(), "五二三四一");
  ASSERT_OK(ch.move(ids[2], 3));  // 三 already at 3: nothing changes
  EXPECT_EQ(order(), "五二三四一");
  EXPECT_EQ(ch.get(ids[0])->body, "正文一");  // text and revisions travel with the chapter
  EXPECT_EQ(ch.revisions(ids[0])->size(), 1u);
}

TEST_F(ChapterMove, FindingsFollowTheirChapter) {
  Findings fs(*db);
  auto on_two = fs.add({.book_id = book, .chapter = 2, .kind = "name", .message = "二"});
  auto on_five = fs.add({.book_id = book, .chapter = 5, .kind = "name", .message = "五"});
  ASSERT_OK(on_two);
  ASSERT_OK(on_five);
  ASSERT_OK(Chapters(*db).move(ids[1], 5));  // 二 to the end: 三四五 shift up
  auto all = fs.list(book);
  ASSERT_OK(all);
  for (const auto& f : *all) {
    if (f.id == *on_two) EXPECT_EQ(f.chapter, 5);
    if (f.id == *on_five) EXPECT_EQ(f.chapter, 4);
  }
}

TEST_F(ChapterMove, BadTargetsAreErrorsAndChangeNothing) {
  Chapters ch(*db);
  auto r = ch.move(ids[0], 9);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("no chapter at ordinal 9"), std::string::npos);
  EXPECT_FALSE(ch.move(ids[0], 0).ok());
  EXPECT_FALSE(ch.move(12345, 1).ok());
  EXPECT_EQ(order(), "一二三四五");
}
