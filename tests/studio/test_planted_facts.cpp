// The planted-fact evaluation (studio/eval/planted_facts.h) on the first 40 回 of the committed 三国演义: facts are
// planted where it says, named after the book's own characters and objects, never under a name the book already
// has; the outline names owner and object but not the name; the same seed gives the same facts and figures; and
// the planted names reach an 8k-token context of 第三十五回 through the retrieved passages.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/base/file.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/importer.h"
#include "studio/eval/planted_facts.h"

using namespace cj;

namespace {

const Tokenizer& qwen() {
  static std::unique_ptr<Tokenizer> tok = [] {
    auto spec = load_hf_tokenizer_json(std::string(CJ_SOURCE_DIR) + "/samples/tokenizer/qwen3/tokenizer.json");
    CJ_ASSERT_MSG(spec.ok(), "qwen3 tokenizer");
    auto t = Tokenizer::from_vocab(*spec);
    CJ_ASSERT(t.ok());
    return std::move(*t);
  }();
  return *tok;
}

const std::string& first_40() {
  static std::string text = [] {
    auto t = read_file(std::string(CJ_TEST_DATA) + "/novels/三国演义.txt");
    CJ_ASSERT(t.ok());
    return t->substr(0, t->find("第四十一回"));
  }();
  return text;
}

struct EvalRun {
  std::unique_ptr<storage::Database> db;
  int64_t book = 0;
  Result<eval::PlantedFactsReport> rep = make_error("not run");
};

EvalRun run(const eval::PlantedFactsOptions& o) {
  EvalRun r;
  auto db = storage::Database::open(":memory:");
  CJ_ASSERT(db.ok());
  r.db = std::move(*db);
  auto imp = storage::import_bytes(*r.db, first_40(), "三国演义.txt");
  CJ_ASSERT(imp.ok());
  r.book = imp->book_id;
  r.rep = eval::run_planted_facts(*r.db, r.book, qwen(), o);
  return r;
}

eval::PlantedFactsOptions small() {
  eval::PlantedFactsOptions o;
  o.facts = 8;
  o.from = 5;
  o.to = 20;
  o.ask = 35;
  o.budget = 8192;
  o.seed = 7;
  return o;
}

}  // namespace

TEST(PlantedFacts, PlantsFromTheBookAndRecallsThroughPassages) {
  EvalRun r = run(small());
  ASSERT_TRUE(r.rep.ok()) << r.rep.error();
  const auto& rep = *r.rep;
  EXPECT_EQ(rep.chapters, 40);
  EXPECT_FALSE(rep.traditional);
  ASSERT_EQ(rep.facts.size(), 8u);
  const std::string& original = first_40();
  for (const auto& f : rep.facts) {
    // Owner and object come from the book, the owner among its frequent characters; the name is new.
    EXPECT_GE(std::count(rep.owners.begin(), rep.owners.end(), f.owner), 1);
    size_t owner_count = 0;
    for (size_t p = original.find(f.owner); p != std::string::npos; p = original.find(f.owner, p + 1)) ++owner_count;
    EXPECT_GE(owner_count, 50u) << f.owner;
    EXPECT_NE(original.find(f.object), std::string::npos) << f.object;
    EXPECT_EQ(original.find(f.name), std::string::npos) << f.name;
    // Planted once, in the chapter it says, which lies in the range; the outline does not give the name away.
    EXPECT_GE(f.chapter, 5);
    EXPECT_LE(f.chapter, 20);
    auto ch = storage::Chapters(*r.db).get_by_ordinal(r.book, f.ordinal);
    ASSERT_TRUE(ch.ok());
    EXPECT_NE(ch->body.find(f.sentence), std::string::npos);
    EXPECT_NE(f.sentence.find(f.name), std::string::npos);
    EXPECT_NE(f.outline.find(f.owner), std::string::npos);
    EXPECT_NE(f.outline.find(f.measure + f.object), std::string::npos);
    EXPECT_EQ(f.outline.find(f.name), std::string::npos);
    EXPECT_LE(f.tokens, 8192);
    // The budget plan reserved room for passages, because the outline names things of earlier chapters.
    bool reserved = false;
    for (const auto& s : f.shares) reserved = reserved || (s.kind == "passages" && s.reserved > 0);
    EXPECT_TRUE(reserved);
    if (f.recalled) {
      EXPECT_NE(std::find(f.sections.begin(), f.sections.end(), "passages"), f.sections.end());
    }
  }
  EXPECT_GE(rep.recalled, 7) << "planted names in an 8k context of 第三十五回";
}

TEST(PlantedFacts, SameSeedSameFactsAndFigures) {
  auto o = small();
  o.facts = 3;
  EvalRun a = run(o), b = run(o);
  ASSERT_TRUE(a.rep.ok() && b.rep.ok());
  ASSERT_EQ(a.rep->facts.size(), b.rep->facts.size());
  for (size_t i = 0; i < a.rep->facts.size(); ++i) {
    EXPECT_EQ(a.rep->facts[i].sentence, b.rep->facts[i].sentence);
    EXPECT_EQ(a.rep->facts[i].chapter, b.rep->facts[i].chapter);
    EXPECT_EQ(a.rep->facts[i].rank, b.rep->facts[i].rank);
  }
  EXPECT_EQ(a.rep->recalled, b.rep->recalled);
  o.seed = 8;
  EvalRun c = run(o);
  ASSERT_TRUE(c.rep.ok());
  EXPECT_NE(c.rep->facts[0].sentence, a.rep->facts[0].sentence);
}

TEST(PlantedFacts, BadRangesAreRefusedWithOneLine) {
  auto o = small();
  o.to = 41;
  o.ask = 42;
  EvalRun r = run(o);
  ASSERT_FALSE(r.rep.ok());
  EXPECT_NE(r.rep.error().find("40 chapters"), std::string::npos) << r.rep.error();
  o = small();
  o.ask = 42;
  r = run(o);
  ASSERT_FALSE(r.rep.ok());
  EXPECT_NE(r.rep.error().find("at most 41"), std::string::npos) << r.rep.error();
  o = small();
  o.ask = 20;
  r = run(o);
  ASSERT_FALSE(r.rep.ok());
  o = small();
  o.facts = 0;
  r = run(o);
  ASSERT_FALSE(r.rep.ok());
  EXPECT_EQ(r.rep.error().find('\n'), std::string::npos);
}
