#include <gtest/gtest.h>

#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "storage/facts.h"
#include "storage/summaries.h"
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
    if (f.id == *on_two) {
      EXPECT_EQ(f.chapter, 5);
    }
    if (f.id == *on_five) {
      EXPECT_EQ(f.chapter, 4);
    }
  }
}

TEST_F(ChapterMove, FactsFollowTheirChapters) {
  auto e = Entities(*db).add(book, "character", "张三");
  ASSERT_OK(e);
  Facts fs(*db);
  auto add = [&](std::optional<int64_t> from, std::optional<int64_t> to, std::optional<int64_t> said) {
    auto id = fs.add({.book_id = book, .entity_id = *e, .predicate = "状态", .value = "x", .valid_from = from,
                      .valid_to = to, .source_chapter = said});
    EXPECT_TRUE(id.ok()) << id.error();
    return id.ok() ? *id : 0;
  };
  const int64_t dead_from_4 = add(4, std::nullopt, 4);  // dies in 四
  const int64_t until_2 = add(std::nullopt, 2, 1);
  const int64_t two_to_five = add(2, 5, std::nullopt);
  const int64_t three_to_four = add(3, 4, 3);
  ASSERT_OK(Chapters(*db).move(ids[3], 1));  // 四 to the front: 四一二三五
  EXPECT_EQ(order(), "四一二三五");
  auto f = [&](int64_t id) { return *fs.get(id); };
  EXPECT_EQ(f(dead_from_4).valid_from, 1);  // still "from the chapter where he dies"
  EXPECT_FALSE(f(dead_from_4).valid_to.has_value());
  EXPECT_EQ(f(dead_from_4).source_chapter, 1);
  EXPECT_FALSE(f(until_2).valid_from.has_value());
  EXPECT_EQ(f(until_2).valid_to, 3);  // 二 is now third
  EXPECT_EQ(f(until_2).source_chapter, 2);
  EXPECT_EQ(f(two_to_five).valid_from, 3);
  EXPECT_EQ(f(two_to_five).valid_to, 5);
  EXPECT_FALSE(f(two_to_five).source_chapter.has_value());
  // 三 (now 4) .. 四 (now 1): the ends crossed, the range is what lies between them.
  EXPECT_EQ(f(three_to_four).valid_from, 1);
  EXPECT_EQ(f(three_to_four).valid_to, 4);
}

TEST_F(ChapterMove, ChapterSummariesFollowTheirChapters) {
  Summaries sm(*db);
  for (int64_t c = 1; c <= 5; ++c) {
    ASSERT_OK(sm.put({.book_id = book, .level = 1, .first_chapter = c, .last_chapter = c,
                      .text = "章" + std::to_string(c), .source_hash = "h" + std::to_string(c), .method = "extractive"}));
    ASSERT_OK(sm.put({.book_id = book, .level = 0, .first_chapter = c, .last_chapter = c, .part = 1,
                      .text = "景" + std::to_string(c), .source_hash = "s" + std::to_string(c), .method = "extractive"}));
  }
  ASSERT_OK(sm.put({.book_id = book, .level = 2, .first_chapter = 1, .last_chapter = 5, .text = "卷",
                    .source_hash = "a", .method = "extractive"}));
  ASSERT_OK(Chapters(*db).move(ids[1], 5));  // 二 to the end: 一三四五二
  auto text_at = [&](int level, int64_t c, int64_t part) {
    auto n = sm.find(book, level, c, c, part, "extractive");
    EXPECT_TRUE(n.ok() && n->has_value());
    return n.ok() && n->has_value() ? (*n)->text : std::string();
  };
  EXPECT_EQ(text_at(1, 1, 0), "章1");
  EXPECT_EQ(text_at(1, 2, 0), "章3");
  EXPECT_EQ(text_at(1, 4, 0), "章5");
  EXPECT_EQ(text_at(1, 5, 0), "章2");
  EXPECT_EQ(text_at(0, 5, 1), "景2");
  auto arc = sm.find(book, 2, 1, 5, 0, "extractive");  // ranges stay; their source hashes make them stale
  ASSERT_OK(arc);
  ASSERT_TRUE(arc->has_value());
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
