// NameIndex (studio/check/check_types.h): the longest known name at a position through a trie, with a bound on
// the work per position (issue 20 item 6: the old index built a string for every length at every position, so
// an 800-character name made a check run for minutes), and the name length bound at entity input.
#include <gtest/gtest.h>

#include "storage/books.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "studio/check/check_types.h"

namespace cj::check {
namespace {

BookKnowledge knowledge_of(const std::vector<std::pair<std::string, std::vector<std::string>>>& names) {
  std::vector<storage::Entity> ents;
  int64_t id = 0;
  for (const auto& [n, al] : names) {
    storage::Entity e;
    e.id = ++id;
    e.kind = "character";
    e.name = n;
    e.aliases = al;
    ents.push_back(e);
  }
  return make_knowledge(ents, {});
}

TEST(NameIndex, LongestMatchAndFirstEntityWins) {
  auto k = knowledge_of({{"林黛玉", {"黛玉", "颦儿"}}, {"贾宝玉", {"宝玉"}}, {"宝玉甲", {"黛玉"}}});
  NameIndex idx(k);
  std::u32string t = U"林黛玉笑道宝玉甲来了，黛玉";
  size_t len = 0;
  const KnownEntity* e = idx.match(t, 0, &len);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(len, 3u);
  EXPECT_EQ(e->id, 1);
  e = idx.match(t, 5, &len);  // 宝玉甲 beats its prefix 宝玉
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(len, 3u);
  EXPECT_EQ(e->id, 3);
  e = idx.match(t, 11, &len);  // 黛玉: the alias of the first entity that listed it
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->id, 1);
  EXPECT_EQ(idx.match(t, 3, &len), nullptr);
  EXPECT_TRUE(idx.is_known(U"颦儿"));
  EXPECT_FALSE(idx.is_known(U"颦"));
  EXPECT_EQ(idx.find(U"宝玉")->id, 2);
  EXPECT_EQ(idx.max_len(), 3u);
}

// The worst case for a trie: a name of the maximum length made of one repeated character, and a text of that
// character. Work per position is bounded by the name length (plus the failed step), never by text size.
TEST(NameIndex, WorkPerPositionIsBoundedByTheLongestName) {
  const size_t L = storage::kMaxEntityNameChars;
  std::string name;
  for (size_t i = 0; i < L; ++i) name += "甲";
  auto k = knowledge_of({{name, {}}, {"甲乙", {}}});
  NameIndex idx(k);
  const std::u32string text(200000, U'甲');
  size_t steps = 0, matches = 0;
  for (size_t p = 0; p < text.size(); ++p) {
    size_t len = 0;
    if (idx.match(text, p, &len, &steps)) ++matches;
  }
  EXPECT_EQ(matches, text.size() - L + 1);
  EXPECT_LE(steps, text.size() * (L + 1));
  // An ordinary text: about one step per position.
  std::u32string plain;
  for (int i = 0; i < 50000; ++i) plain += U"乙丙丁甲";
  steps = 0;
  for (size_t p = 0; p < plain.size(); ++p) idx.match(plain, p, nullptr, &steps);
  EXPECT_LE(steps, plain.size() * 2);
}

TEST(NameIndex, OverlongNamesAreLeftOutAndRefusedAtInput) {
  std::string huge;
  for (int i = 0; i < 800; ++i) huge += "名";
  auto k = knowledge_of({{huge, {}}});
  NameIndex idx(k);
  EXPECT_EQ(idx.max_len(), 0u);
  auto db = storage::Database::open(":memory:");
  ASSERT_TRUE(db.ok());
  storage::Book b;
  b.title = "书";
  auto book = storage::Books(**db).create(b);
  ASSERT_TRUE(book.ok());
  storage::Entities ents(**db);
  auto r = ents.add(*book, "character", huge);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("800 characters long; the limit is 32"), std::string::npos) << r.error();
  auto ok = ents.add(*book, "character", "张三", {});
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ents.add_alias(*ok, huge).ok());
  EXPECT_FALSE(ents.rename(*ok, huge).ok());
}

}  // namespace
}  // namespace cj::check
