#include <gtest/gtest.h>

#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "storage/facts.h"
#include "storage/findings.h"
#include "storage/jobs.h"
#include "storage/kv_snapshots.h"
#include "storage/summaries.h"
#include "storage_test_util.h"

using namespace cj;
using namespace cj::storage;

namespace {
struct Fixture : ::testing::Test {
  std::unique_ptr<Database> db;
  int64_t book = 0;
  void SetUp() override {
    auto d = Database::open(":memory:");
    ASSERT_OK(d);
    db = std::move(*d);
    auto b = Books(*db).create({.title = "书"});
    ASSERT_OK(b);
    book = *b;
  }
};
using Repos = Fixture;
}  // namespace

TEST_F(Repos, ChapterRevisionsKeepEveryText) {
  Chapters ch(*db);
  auto id = ch.add(book, {.heading = "第一章 始", .title = "始", .body = "第一稿"});
  ASSERT_OK(id);
  auto r2 = ch.save(*id, "第二稿", RevisionSource::kWriter, "改了开头");
  ASSERT_OK(r2);
  auto same = ch.save(*id, "第二稿");
  ASSERT_OK(same);
  EXPECT_EQ(*same, *r2);  // saving the same text adds nothing
  auto ai = ch.add_revision(*id, "AI 的稿子", RevisionSource::kAi, "rewrite");
  ASSERT_OK(ai);
  EXPECT_EQ(ch.get(*id)->body, "第二稿");  // a proposal is not current
  auto revs = ch.revisions(*id);
  ASSERT_OK(revs);
  ASSERT_EQ(revs->size(), 3u);
  EXPECT_EQ((*revs)[0].source, "writer");
  EXPECT_EQ((*revs)[2].source, "ai");
  EXPECT_EQ((*revs)[2].number, 3);
  ASSERT_OK(ch.set_current(*id, *ai));
  auto c = ch.get(*id);
  EXPECT_EQ(c->body, "AI 的稿子");
  EXPECT_EQ(c->chars, 6);  // A I space 的 稿 子
  EXPECT_EQ(c->revision_id, *ai);
  EXPECT_EQ(ch.revision((*revs)[0].id)->body, "第一稿");
  // Appending takes the next ordinal; a taken ordinal is an error.
  auto next = ch.add(book, {.title = "二", .body = "x"});
  ASSERT_OK(next);
  EXPECT_EQ(ch.get(*next)->ordinal, 2);
  EXPECT_FALSE(ch.add(book, {.ordinal = 2, .body = "y"}).ok());
  EXPECT_FALSE(ch.save(*id, std::string("\xff")).ok());
  ASSERT_OK(ch.remove(*next));
  EXPECT_FALSE(ch.get(*next).ok());
}

TEST_F(Repos, EntitiesWithAliases) {
  Entities e(*db);
  auto id = e.add(book, "character", "林黛玉", {"黛玉", "颦儿"}, "绛珠仙草");
  ASSERT_OK(id);
  EXPECT_FALSE(e.add(book, "character", "林黛玉").ok());
  EXPECT_FALSE(e.add(book, "dragon", "龙").ok());
  EXPECT_FALSE(e.add(book, "character", "").ok());
  EXPECT_FALSE(e.add(999, "character", "某").ok());
  auto f = e.find(book, "颦儿");
  ASSERT_OK(f);
  ASSERT_TRUE(f->has_value());
  EXPECT_EQ((*f)->name, "林黛玉");
  EXPECT_EQ((*f)->aliases, (std::vector<std::string>{"颦儿", "黛玉"}));
  ASSERT_OK(e.add_alias(*id, "林妹妹"));
  ASSERT_OK(e.remove_alias(*id, "颦儿"));
  ASSERT_OK(e.rename(*id, "林姑娘"));
  ASSERT_OK(e.add(book, "place", "潇湘馆"));
  auto places = e.list(book, "place");
  ASSERT_EQ(places->size(), 1u);
  auto lex = e.lexicon(book);
  ASSERT_OK(lex);
  EXPECT_EQ(lex->size(), 4u);  // 林姑娘 黛玉 林妹妹 潇湘馆
}

TEST_F(Repos, FactsAsOfChapter) {
  Entities e(*db);
  auto zs = e.add(book, "character", "张三");
  auto ls = e.add(book, "character", "李四");
  Facts facts(*db);
  Fact alive{.book_id = book, .entity_id = *zs, .predicate = "状态", .value = "活着", .valid_to = 40};
  Fact dead{.book_id = book, .entity_id = *zs, .predicate = "状态", .value = "死亡", .valid_from = 41,
            .source_chapter = 41, .source_offset = 120};
  Fact father{.book_id = book, .entity_id = *zs, .predicate = "父亲", .object_id = *ls};
  ASSERT_OK(facts.add(alive));
  ASSERT_OK(facts.add(dead));
  ASSERT_OK(facts.add(father));
  auto at10 = facts.as_of(book, 10, *zs);
  ASSERT_EQ(at10->size(), 2u);
  EXPECT_EQ((*at10)[0].value + (*at10)[1].value, "活着");  // father has value ""
  auto at41 = facts.as_of(book, 41);
  ASSERT_EQ(at41->size(), 2u);
  bool has_dead = false;
  for (const auto& f : *at41) has_dead |= f.value == "死亡" && f.source_offset == 120;
  EXPECT_TRUE(has_dead);
  EXPECT_FALSE(facts.add({.book_id = book, .entity_id = *zs, .predicate = "x", .valid_from = 5, .valid_to = 4}).ok());
  EXPECT_FALSE(facts.add({.book_id = book, .entity_id = 12345, .predicate = "x"}).ok());
  EXPECT_FALSE(facts.add({.book_id = book, .entity_id = *zs, .predicate = ""}).ok());
  ASSERT_OK(e.remove(*zs));
  EXPECT_EQ(facts.list(book)->size(), 0u);  // cascade
}

TEST_F(Repos, SummariesReplaceAndCover) {
  Summaries s(*db);
  SummaryNode n{.book_id = book, .level = 1, .first_chapter = 3, .last_chapter = 3, .text = "旧", .token_count = 2,
                .source_hash = "h1", .method = "extractive"};
  auto id = s.put(n);
  ASSERT_OK(id);
  n.text = "新";
  n.source_hash = "h2";
  auto id2 = s.put(n);
  ASSERT_OK(id2);
  EXPECT_EQ(*id, *id2);
  EXPECT_EQ(s.get(*id)->text, "新");
  ASSERT_OK(s.put({.book_id = book, .level = 2, .first_chapter = 1, .last_chapter = 10, .text = "卷", .token_count = 1,
                   .source_hash = "h", .method = "extractive"}));
  auto cov = s.covering(book, 3);
  ASSERT_EQ(cov->size(), 2u);
  EXPECT_EQ(s.covering(book, 11)->size(), 0u);
  auto f = s.find(book, 1, 3, 3);
  ASSERT_TRUE(f->has_value());
  EXPECT_EQ((*f)->source_hash, "h2");
  EXPECT_FALSE(s.put({.book_id = book, .first_chapter = 5, .last_chapter = 4, .method = "m"}).ok());
}

TEST_F(Repos, FindingsJobsAndKvSnapshots) {
  Jobs jobs(*db);
  auto j1 = jobs.create("check", "{\"chapters\":[1,2]}", book);
  auto j2 = jobs.create("summarize");
  ASSERT_OK(j1);
  ASSERT_OK(j2);
  auto claimed = jobs.claim_next("check");
  ASSERT_OK(claimed);
  ASSERT_TRUE(claimed->has_value());
  EXPECT_EQ((*claimed)->id, *j1);
  EXPECT_EQ((*claimed)->status, "running");
  ASSERT_OK(jobs.set_progress(*j1, 0.5, "chapter 1 done", "{\"next\":2}"));
  EXPECT_FALSE(jobs.set_progress(*j1, 1.5, "").ok());
  EXPECT_EQ(*jobs.requeue_stale(-1), 1);  // as after a crash (every lease counts as stale)
  EXPECT_EQ(jobs.get(*j1)->checkpoint.value_or(""), "{\"next\":2}");
  claimed = jobs.claim_next();
  ASSERT_EQ((*claimed)->id, *j1);
  Findings fs(*db);
  auto f = fs.add({.book_id = book, .chapter = 41, .span_begin = 10, .span_end = 14, .kind = "contradiction",
                   .message = "张三第40回已死", .evidence = "fact 2", .subject = "张三", .job_id = *j1});
  ASSERT_OK(f);
  EXPECT_EQ(fs.get(*f)->subject, "张三");
  ASSERT_OK(jobs.finish(*j1, "done", "1 finding", "{\"findings\":1}"));
  EXPECT_EQ(jobs.get(*j1)->progress, 1.0);
  EXPECT_FALSE(jobs.finish(*j1, "running").ok());
  EXPECT_EQ(jobs.list("queued")->size(), 1u);
  ASSERT_OK(fs.set_status(*f, "dismissed"));
  EXPECT_FALSE(fs.set_status(*f, "maybe").ok());
  EXPECT_EQ(fs.list(book, 41, "dismissed")->size(), 1u);
  EXPECT_EQ(fs.list(book, std::nullopt, "open")->size(), 0u);

  KvSnapshots kv(*db);
  auto a = kv.put({.model_hash = "m", .prefix_hash = "p1", .token_count = 100, .file = "a.kv", .bytes = 1000});
  auto b = kv.put({.model_hash = "m", .prefix_hash = "p2", .token_count = 200, .file = "b.kv", .bytes = 2000});
  ASSERT_OK(a);
  ASSERT_OK(b);
  auto hit = kv.find("m", "p1");  // touches p1: now p2 is least recently used
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ((*hit)->file, "a.kv");
  auto lru = kv.list_lru();
  ASSERT_EQ(lru->size(), 2u);
  EXPECT_EQ((*lru)[0].prefix_hash, "p2");
  EXPECT_EQ(*kv.total_bytes(), 3000);
  EXPECT_FALSE(kv.find("m", "nope")->has_value());
  ASSERT_OK(kv.remove(*b));
  EXPECT_EQ(*kv.total_bytes(), 1000);
}

// A snapshot found (touched) is the most recently used even when the others were put in the same millisecond: the
// touch used to take max(its own time + 1, now), which ties with a snapshot put in that millisecond.
TEST_F(Repos, TouchedKvSnapshotIsNewestWithinOneMillisecond) {
  KvSnapshots kv(*db);
  for (int round = 0; round < 300; ++round) {
    const std::string a = "a" + std::to_string(round), b = "b" + std::to_string(round);
    auto ia = kv.put({.model_hash = "m", .prefix_hash = a, .token_count = 1, .file = a, .bytes = 1});
    auto ib = kv.put({.model_hash = "m", .prefix_hash = b, .token_count = 1, .file = b, .bytes = 1});
    ASSERT_OK(ia);
    ASSERT_OK(ib);
    ASSERT_TRUE(kv.find("m", a)->has_value());
    auto lru = kv.list_lru();
    ASSERT_OK(lru);
    ASSERT_EQ(lru->back().prefix_hash, a) << "round " << round;
    ASSERT_OK(kv.remove(*ia));
    ASSERT_OK(kv.remove(*ib));
  }
}

TEST(ChapterLabel, TheBooksOwnLabelNotTheOrdinal) {
  ChapterInfo c;
  c.ordinal = 23;
  c.heading = "第二十二回　横海郡柴进留宾";
  c.title = "横海郡柴进留宾";
  EXPECT_EQ(chapter_label(c), "第二十二回");
  c.heading = "第3章：风起";
  c.title = "风起";
  EXPECT_EQ(chapter_label(c), "第3章");
  c.heading = "楔子";
  c.title = "楔子";
  EXPECT_EQ(chapter_label(c), "楔子");
  c.heading = "";
  c.title = "";
  EXPECT_EQ(chapter_label(c), "第23章");
  c.ordinal = 0;
  EXPECT_EQ(chapter_label(c), "卷首");
}
