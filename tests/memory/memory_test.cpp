// Memory: summary-tree staleness, facts as of chapter N, extractive summaries of 红楼梦, the context builder's
// budget (2k–256k Qwen tokens) and prefix stability, the abstractive summarizer with a fake generator.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "engine/base/file.h"
#include "engine/base/text.h"
#include "engine/base/utf8.h"
#include "storage/summaries.h"
#include "engine/tokenizer/tokenizer.h"
#include "memory/abstractive_summarizer.h"
#include "memory/context_builder.h"
#include "memory/entity_sheets.h"
#include "memory/extractive_summarizer.h"
#include "memory/retrieval.h"
#include "memory/summary_tree.h"
#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "storage/facts.h"
#include "storage/importer.h"

using namespace cj;
using namespace cj::memory;

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

std::unique_ptr<storage::Database> memdb() {
  auto db = storage::Database::open(":memory:");
  CJ_ASSERT(db.ok());
  return std::move(*db);
}

// 红楼梦 imported once, with a few characters and an extractive tree (shared by the tests below).
struct Hlm {
  std::unique_ptr<storage::Database> db;
  int64_t book = 0;
};
Hlm& hlm() {
  static Hlm h = [] {
    Hlm x;
    x.db = memdb();
    auto r = storage::import_file(*x.db, std::string(CJ_TEST_DATA) + "/novels/红楼梦.txt");
    CJ_ASSERT_MSG(r.ok(), "import 红楼梦");
    x.book = r->book_id;
    storage::Entities ents(*x.db);
    CJ_ASSERT(ents.add(x.book, "character", "林黛玉", {"黛玉", "颦儿"}).ok());
    CJ_ASSERT(ents.add(x.book, "character", "贾宝玉", {"宝玉"}).ok());
    CJ_ASSERT(ents.add(x.book, "character", "薛宝钗", {"宝钗"}).ok());
    CJ_ASSERT(ents.add(x.book, "character", "王熙凤", {"凤姐"}).ok());
    CJ_ASSERT(ents.add(x.book, "character", "贾母", {}).ok());
    auto dy = ents.find(x.book, "林黛玉");
    storage::Fact f;
    f.book_id = x.book;
    f.entity_id = (**dy).id;
    f.predicate = "状态";
    f.value = "死亡";
    f.valid_from = 98;
    CJ_ASSERT(storage::Facts(*x.db).add(f).ok());
    SummaryTree tree(*x.db, &qwen());
    ExtractiveSummarizer ex;
    auto st = tree.build(x.book, ex);
    CJ_ASSERT_MSG(st.ok(), "tree build");
    return x;
  }();
  return h;
}

int64_t add_book(storage::Database& db, int chapters) {
  storage::Book b;
  b.title = "测试";
  auto id = storage::Books(db).create(b);
  CJ_ASSERT(id.ok());
  for (int i = 1; i <= chapters; ++i) {
    storage::NewChapter c;
    c.ordinal = i;
    c.heading = "第" + std::to_string(i) + "章";
    c.title = "第" + std::to_string(i) + "章";
    for (int p = 0; p < 6; ++p)
      c.body += "　　张三在第" + std::to_string(i) + "章的第" + std::to_string(p) +
                "段里走进城门，看见李四正在茶馆里喝茶。两人说起家乡的旧事，不觉天色已晚。\n";
    CJ_ASSERT(storage::Chapters(db).add(*id, c).ok());
  }
  return *id;
}

}  // namespace

TEST(SummaryTree, EditMarksOnlyItsPathStaleAndRebuildTouchesOnlyThose) {
  auto db = memdb();
  int64_t book = add_book(*db, 12);
  TreeOptions o;
  o.arc_size = 5;
  o.scene_zi = 100;
  SummaryTree tree(*db, &qwen(), o);
  ExtractiveSummarizer ex;
  auto first = tree.build(book, ex);
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first->kept, 0u);
  auto none = tree.stale(book, "extractive");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // Scenes per chapter: 6 paragraphs of ~40 字 with scene_zi 100 -> several scenes.
  auto plan = tree.plan(book, "extractive");
  ASSERT_TRUE(plan.ok());
  size_t scenes7 = 0;
  for (auto& p : *plan) scenes7 += p.level == 0 && p.first_chapter == 7;
  ASSERT_GE(scenes7, 2u);

  auto ch = storage::Chapters(*db).get_by_ordinal(book, 7);
  ASSERT_TRUE(ch.ok());
  std::string body = ch->body;
  body.replace(body.find("张三"), 6, "王五");  // only the first scene changes
  ASSERT_TRUE(storage::Chapters(*db).save(ch->id, body).ok());
  auto stale = tree.stale(book, "extractive");
  ASSERT_TRUE(stale.ok());
  std::set<std::tuple<int, int64_t, int64_t, int64_t>> got;
  for (auto& n : *stale) got.insert({n.level, n.first_chapter, n.last_chapter, n.part});
  // Chapter 7's scene and chapter nodes, its arc, and the synopses as of arc 6–10 and 11–12 (not the one as of
  // arc 1–5, which does not cover chapter 7).
  std::set<std::tuple<int, int64_t, int64_t, int64_t>> want{
      {0, 7, 7, 0}, {1, 7, 7, 0}, {2, 6, 10, 0}, {3, 1, 10, 0}, {3, 1, 12, 0}};
  EXPECT_EQ(got, want);
  auto again = tree.build(book, ex);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->built, want.size());
  EXPECT_EQ(again->removed, 0u);
  auto after = tree.stale(book, "extractive");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());

  // A new chapter 13 joins arc 11–13 (arc 11–12 is removed) and the book node; arcs 1–5 and 6–10 stay.
  storage::NewChapter c13;
  c13.ordinal = 13;
  c13.title = "第13章";
  c13.body = "李四离开了城门。张三独自回家。\n";
  ASSERT_TRUE(storage::Chapters(*db).add(book, c13).ok());
  auto st3 = tree.stale(book, "extractive");
  ASSERT_TRUE(st3.ok());
  std::set<int> levels;
  for (auto& n : *st3) {
    levels.insert(n.level);
    if (n.level == 2) {
      EXPECT_EQ(n.first_chapter, 11);
    }
    if (n.level <= 1) {
      EXPECT_EQ(n.first_chapter, 13);
    }
  }
  EXPECT_EQ(levels, (std::set<int>{0, 1, 2, 3}));
  auto b3 = tree.build(book, ex);
  ASSERT_TRUE(b3.ok());
  EXPECT_EQ(b3->removed, 2u);  // arc 11–12 and the synopsis as of it (1–12)
  auto syn = storage::Summaries(*db).list(book, 3);
  ASSERT_TRUE(syn.ok());
  std::vector<int64_t> ends;
  for (auto& n : *syn) ends.push_back(n.last_chapter);
  std::sort(ends.begin(), ends.end());
  EXPECT_EQ(ends, (std::vector<int64_t>{5, 10, 13}));  // one synopsis per arc
}

TEST(SummaryTree, CancelledBuildResumes) {
  auto db = memdb();
  int64_t book = add_book(*db, 40);
  TreeOptions o;
  o.threads = 1;
  SummaryTree tree(*db, nullptr, o);
  ExtractiveSummarizer ex;
  auto a = tree.build(book, ex, [](const BuildProgress&) { return false; });
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->cancelled);
  EXPECT_GT(a->built, 0u);
  auto b = tree.build(book, ex);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->kept, a->built);
  auto st = tree.stale(book, "extractive");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->empty());
}

TEST(EntitySheets, FactsAsOfChapterEdgeCases) {
  auto db = memdb();
  int64_t book = add_book(*db, 3);
  storage::Entities ents(*db);
  auto zs = ents.add(book, "character", "张三", {"三郎"});
  auto ls = ents.add(book, "character", "李四");
  ASSERT_TRUE(zs.ok() && ls.ok());
  storage::Facts facts(*db);
  auto add = [&](int64_t e, std::string p, std::string v, std::optional<int64_t> from, std::optional<int64_t> to,
                 std::optional<int64_t> obj = std::nullopt) {
    storage::Fact f;
    f.book_id = book;
    f.entity_id = e;
    f.predicate = p;
    f.value = v;
    f.valid_from = from;
    f.valid_to = to;
    f.object_id = obj;
    ASSERT_TRUE(facts.add(f).ok());
  };
  add(*zs, "状态", "活着", std::nullopt, 40);
  add(*zs, "状态", "死亡", 41, std::nullopt);
  add(*zs, "住在", "城东", 1, 10);      // valid_to inclusive
  add(*zs, "住在", "城西", 11, std::nullopt);
  add(*zs, "结义兄弟", "", 5, std::nullopt, *ls);
  add(*ls, "状态", "病故", 100, 100);  // a one-chapter range
  auto sheet = [&](int64_t n, const std::string& name) {
    auto s = entity_sheets(*db, book, n);
    EXPECT_TRUE(s.ok());
    for (auto& x : *s)
      if (x.name == name) return x;
    ADD_FAILURE() << name;
    return EntitySheet{};
  };
  EXPECT_FALSE(sheet(40, "张三").dead);
  EXPECT_EQ(render_sheet(sheet(40, "张三")).find("已故"), std::string::npos);
  EXPECT_NE(render_sheet(sheet(40, "张三")).find("活着"), std::string::npos);
  auto d = sheet(41, "张三");
  EXPECT_TRUE(d.dead);
  EXPECT_EQ(d.dead_since, 41);
  EXPECT_NE(render_sheet(d).find("已故（第41章起）"), std::string::npos);
  EXPECT_TRUE(sheet(500, "张三").dead);
  std::string s10 = render_sheet(sheet(10, "张三")), s11 = render_sheet(sheet(11, "张三"));
  EXPECT_NE(s10.find("城东"), std::string::npos);
  EXPECT_EQ(s10.find("城西"), std::string::npos);
  EXPECT_NE(s11.find("城西"), std::string::npos);
  EXPECT_EQ(s11.find("城东"), std::string::npos);
  EXPECT_EQ(render_sheet(sheet(4, "张三")).find("李四"), std::string::npos);
  EXPECT_NE(render_sheet(sheet(5, "张三")).find("结义兄弟：李四"), std::string::npos);
  EXPECT_NE(render_sheet(sheet(1, "张三")).find("又名：三郎"), std::string::npos);
  EXPECT_FALSE(sheet(99, "李四").dead);
  EXPECT_TRUE(sheet(100, "李四").dead);
  EXPECT_FALSE(sheet(101, "李四").dead);  // the fact's range ended (a resurrection, or a fact the writer bounded)
  EXPECT_TRUE(is_death_fact("状态", "已故"));
  EXPECT_FALSE(is_death_fact("状态", "假死"));
  EXPECT_FALSE(is_death_fact("住在", "死人谷"));
  EXPECT_EQ(mentions(sheet(1, "张三"), "张三和三郎是一个人，张三"), 3u);
}

TEST(Extractive, HongloumengChaptersUseOwnSentencesWithinTarget) {
  auto& h = hlm();
  ExtractiveSummarizer ex;
  auto names = character_names(*h.db, h.book);
  ASSERT_TRUE(names.ok());
  for (int64_t n : {1, 3, 27, 57, 98, 120}) {
    auto ch = storage::Chapters(*h.db).get_by_ordinal(h.book, n);
    ASSERT_TRUE(ch.ok());
    for (size_t target : {100, 300, 800}) {
      SummaryRequest rq;
      rq.text = ch->body;
      rq.target_zi = target;
      rq.names = *names;
      auto s = ex.summarize(rq);
      ASSERT_TRUE(s.ok());
      size_t zi = text::zishu(*s);
      EXPECT_LE(zi, target) << "chapter " << n;
      EXPECT_GE(zi, target / 2) << "chapter " << n << " target " << target;
      for (auto sent : text::sentences(*s))
        EXPECT_NE(ch->body.find(std::string(sent)), std::string::npos) << "chapter " << n << ": " << sent;
    }
  }
  // The stored chapter nodes obey the tree's target too.
  auto node = storage::Summaries(*h.db).find(h.book, 1, 5, 5, 0, "extractive");
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_LE(text::zishu((*node)->text), 300u);
  EXPECT_EQ((*node)->token_count, int64_t(qwen().encode((*node)->text, false).size()));
}

TEST(Extractive, NamesWeightTheRanking) {
  // Two equally central sentences; the one naming a character wins a one-sentence budget.
  std::string t = "老人走进院子里坐下喝茶。黛玉走进院子里坐下喝茶。院子里有人坐下。";
  ExtractiveSummarizer ex;
  auto with = ex.pick(t, 12, {"黛玉"});
  ASSERT_EQ(with.size(), 1u);
  EXPECT_EQ(std::string(with[0]), "黛玉走进院子里坐下喝茶。");
}

TEST(Context, BudgetRespectedToTheTokenFrom2kTo256k) {
  auto& h = hlm();
  for (int64_t budget : {2048, 4096, 16384, 32768, 65536, 131072, 262144}) {
    for (auto task : {prompts::Task::kContinue, prompts::Task::kDraft}) {
      ContextRequest rq;
      rq.book_id = h.book;
      rq.chapter = 100;
      rq.task = task;
      rq.budget = budget;
      if (task == prompts::Task::kDraft) rq.outline = "宝玉听说黛玉已死，到潇湘馆痛哭，紫鹃说起黛玉临终焚稿之事。";
      auto c = build_context(*h.db, qwen(), rq);
      ASSERT_TRUE(c.ok()) << c.error();
      int64_t real = int64_t(qwen().encode(c->text, false).size());
      EXPECT_EQ(real, c->tokens);
      EXPECT_LE(real, budget) << "budget " << budget;
      if (!c->degradations.empty())  // the material did not all fit: the budget is (nearly) full
        EXPECT_GE(real, budget * 9 / 10) << "budget " << budget;
      else  // everything fits: all chapters before N are there, as summaries or verbatim
        EXPECT_EQ(c->sections[3].chapters.size() + c->verbatim.size(), 99u) << "budget " << budget;
      EXPECT_TRUE(utf8::valid(c->text));
      int64_t sum = 0;
      for (auto& s : c->sections) sum += s.tokens;
      EXPECT_NEAR(double(sum), double(real), double(real) * 0.01 + 16);
      EXPECT_EQ(c->sections.front().kind, "instructions");
      if (budget >= 131072) {
        EXPECT_EQ(c->verbatim.size(), 3u);
      }
      if (task == prompts::Task::kDraft) {
        EXPECT_EQ(c->sections.back().kind, "outline");
        // 林黛玉 died in chapter 98 (a fact): her sheet as of chapter 100 says so.
        if (budget >= 16384) { EXPECT_NE(c->text.find("林黛玉（人物；又名：颦儿、黛玉）已故（第九十八回起）"), std::string::npos); }
      }
    }
  }
}

TEST(Context, DegradesInOrderAndKeepsCurrentTextEnd) {
  auto& h = hlm();
  ContextRequest rq;
  rq.book_id = h.book;
  rq.chapter = 60;
  rq.budget = 2048;
  rq.current_text = std::string(2000, 'x') + "。宝玉笑道：“好妹妹，你且听我说。”";
  auto c = build_context(*h.db, qwen(), rq);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_LE(c->tokens, 2048);
  EXPECT_TRUE(c->verbatim.empty());
  ASSERT_FALSE(c->degradations.empty());
  EXPECT_EQ(c->degradations.front(), "verbatim chapters 2");
  // The passages' reserve is cut only after every summary, sheet and verbatim step.
  size_t first_reserve_cut = c->degradations.size(), last_other = 0;
  for (size_t i = 0; i < c->degradations.size(); ++i) {
    const std::string& d = c->degradations[i];
    bool reserve = d.rfind("passage reserve", 0) == 0 || d == "no reserved passages";
    if (reserve) first_reserve_cut = std::min(first_reserve_cut, i);
    else if (d.rfind("current text", 0) != 0) last_other = i;
  }
  EXPECT_GT(first_reserve_cut, last_other);
  EXPECT_NE(c->text.find("宝玉笑道：“好妹妹，你且听我说。”"), std::string::npos);
  EXPECT_EQ(c->sections.back().kind, "current_text");
}

TEST(Context, BookOnlyLeavesOutInstructionsOutlineAndCurrentText) {
  auto& h = hlm();
  ContextRequest rq;
  rq.book_id = h.book;
  rq.chapter = 60;
  rq.task = prompts::Task::kDraft;
  rq.budget = 8192;
  rq.outline = "宝玉与黛玉说起葬花之事。";
  rq.current_text = "宝玉笑道：“好妹妹，你且听我说。”";
  rq.book_only = true;
  auto c = build_context(*h.db, qwen(), rq);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_LE(c->tokens, 8192);
  EXPECT_GE(c->tokens, 8192 * 9 / 10);  // the room is filled with book material
  for (const auto& s : c->sections) {
    EXPECT_NE(s.kind, "instructions");
    EXPECT_NE(s.kind, "outline");
    EXPECT_NE(s.kind, "current_text");
  }
  EXPECT_EQ(c->text.find(rq.outline), std::string::npos);
  EXPECT_EQ(c->text.find("你且听我说"), std::string::npos);
  EXPECT_FALSE(c->passages.empty());  // the outline still drives retrieval
  // The same request with the whole prompt: the book sections are the same text, after the instructions.
  rq.book_only = false;
  auto full = build_context(*h.db, qwen(), rq);
  ASSERT_TRUE(full.ok()) << full.error();
  EXPECT_NE(full->text.find(prompts::kSynopsisHeading), std::string::npos);
  EXPECT_EQ(c->text.substr(0, 200), full->text.substr(full->text.find(prompts::kSynopsisHeading), 200));
}

TEST(Context, SmallBudgetKeepsTheEndOfThePreviousChapter) {
  auto& h = hlm();
  ContextRequest rq;
  rq.book_id = h.book;
  rq.chapter = 60;
  rq.budget = 1024;  // chapter 59 alone is several thousand tokens
  rq.book_only = true;
  auto c = build_context(*h.db, qwen(), rq);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_LE(c->tokens, 1024);
  EXPECT_TRUE(c->verbatim.empty());  // no whole chapter
  auto it = std::find_if(c->sections.begin(), c->sections.end(), [](const SectionInfo& s) { return s.kind == "verbatim"; });
  ASSERT_NE(it, c->sections.end());
  EXPECT_EQ(it->chapters, std::vector<int64_t>{59});
  EXPECT_GE(it->tokens, 50);
  // The section is the chapter's last sentences: the context ends the way chapter 59 ends.
  auto ch59 = storage::Chapters(*h.db).get_by_ordinal(h.book, 59);
  ASSERT_TRUE(ch59.ok());
  std::string body = ch59->body, text = c->text;
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  ASSERT_GE(text.size(), 60u);
  EXPECT_NE(body.find(text.substr(text.size() - 60)), std::string::npos);
}

TEST(Context, SameStateAndTaskGiveByteIdenticalText) {
  auto& h = hlm();
  ContextRequest rq;
  rq.book_id = h.book;
  rq.chapter = 80;
  rq.budget = 32768;
  auto a = build_context(*h.db, qwen(), rq);
  auto b = build_context(*h.db, qwen(), rq);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->text, b->text);
  // Typing more of the chapter changes only what comes after the passages section.
  ContextRequest rq2 = rq;
  auto ch = storage::Chapters(*h.db).get_by_ordinal(h.book, 80);
  rq2.current_text = ch->body + "宝玉又去看黛玉。";
  auto c = build_context(*h.db, qwen(), rq2);
  ASSERT_TRUE(c.ok());
  size_t cut = a->text.find(prompts::kPassagesHeading);
  ASSERT_NE(cut, std::string::npos);
  EXPECT_EQ(a->text.substr(0, cut), c->text.substr(0, cut));
}

TEST(Retrieval, FindsThePassageWithChapterAndOffset) {
  auto& h = hlm();
  auto ix = PassageIndex::build(*h.db, h.book, 50);
  ASSERT_TRUE(ix.ok());
  auto r = (*ix)->search("黛玉葬花，哭吟葬花词：花谢花飞花满天", 5);
  ASSERT_FALSE(r.empty());
  // 葬花吟 is in chapter 27; the passage holding its first line is among the best five (the others: 黛玉 burying
  // flowers in 23, the parrot reciting the song in 35, 龄官 and "颦儿来葬花" in 30, the song recalled in 28).
  int in27 = 0;
  bool line = false;
  for (auto& p : r) {
    in27 += p.chapter == 27;
    line = line || (p.chapter == 27 && p.text.find("花谢花飞花满天") != std::string::npos);
  }
  EXPECT_GE(in27, 2);
  EXPECT_EQ(r[0].chapter, 27);
  EXPECT_TRUE(line);
  // Passages are a few sentences, not a page, and never overlap.
  for (auto& p : r) EXPECT_LE(text::zishu(p.text), 400u) << p.text;
  for (size_t i = 0; i < r.size(); ++i)
    for (size_t j = i + 1; j < r.size(); ++j)
      EXPECT_FALSE(r[i].chapter == r[j].chapter && r[i].offset < r[j].offset + r[j].length &&
                   r[j].offset < r[i].offset + r[i].length);
  auto ch = storage::Chapters(*h.db).get_by_ordinal(h.book, r[0].chapter);
  auto cps = utf8::to_code_points(ch->body);
  std::string at;
  for (int64_t i = r[0].offset; i < r[0].offset + r[0].length; ++i) utf8::append(at, cps[size_t(i)]);
  EXPECT_EQ(at, r[0].text);
  for (auto& p : r) EXPECT_LT(p.chapter, 50);
}

namespace {
class FakeGenerator : public TextGenerator {
 public:
  std::string last_prompt;
  std::string reply;
  Result<std::string> generate(const std::string& prompt, const GenOptions&,
                               std::function<bool(std::string_view)> on_text) override {
    last_prompt = prompt;
    on_text(reply);
    return reply;
  }
  std::string name() const override { return "fake"; }
};
}  // namespace

TEST(Abstractive, PromptsInChineseWithTargetAndCleansAnswer) {
  FakeGenerator g;
  g.reply = "  摘要：张三进城，遇见李四。\n";
  AbstractiveSummarizer s(g);
  SummaryRequest rq;
  rq.text = "张三进城。李四在茶馆。";
  rq.target_zi = 120;
  rq.title = "第1章";
  auto r = s.summarize(rq);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "张三进城，遇见李四。");
  EXPECT_NE(g.last_prompt.find("不超过120字"), std::string::npos);
  EXPECT_NE(g.last_prompt.find(rq.text), std::string::npos);
  EXPECT_EQ(s.method(), "abstractive:fake");
  // An answer far over the target is cut at a sentence end.
  g.reply.clear();
  for (int i = 0; i < 40; ++i) g.reply += "张三走了很远的路。";
  auto cut = s.summarize(rq);
  ASSERT_TRUE(cut.ok());
  EXPECT_LE(text::zishu(*cut), 180u);
  // The tree works with it (not thread-safe: one thread).
  auto db = memdb();
  int64_t book = add_book(*db, 3);
  g.reply = "张三见到李四。";
  SummaryTree tree(*db, nullptr);
  auto st = tree.build(book, s);
  ASSERT_TRUE(st.ok());
  auto nodes = storage::Summaries(*db).list(book);
  ASSERT_TRUE(nodes.ok());
  ASSERT_FALSE(nodes->empty());
  for (auto& n : *nodes) EXPECT_EQ(n.method, "abstractive:fake");
}

// Time runs one way: a word planted in chapter N+5 — in its text, in a fact stated there and in a fact that starts
// to hold there — is absent from every section of the context for chapter N, at every budget; the same word does
// reach the context for a chapter after N+5 (so the test can see it when it is allowed).
TEST(Context, NothingFromChapterNOrLaterReachesTheContextForN) {
  auto db = memdb();
  int64_t book = add_book(*db, 30);
  const int64_t N = 14, later = N + 5;
  const std::string word = "玄鸟玉佩";
  auto ch = storage::Chapters(*db).get_by_ordinal(book, later);
  ASSERT_TRUE(ch.ok());
  std::string body;
  for (int i = 0; i < 8; ++i)
    body += "　　张三从怀里取出" + word + "，李四看了一眼" + word + "，说这" + word + "原是城门外王家的东西。\n";
  ASSERT_TRUE(storage::Chapters(*db).save(ch->id, body + ch->body).ok());
  storage::Entities ents(*db);
  auto zs = ents.find(book, "张三");
  int64_t zs_id = 0;
  if (zs.ok() && zs->has_value()) zs_id = (**zs).id;
  else {
    auto id = ents.add(book, "character", "张三", {"三郎"});
    ASSERT_TRUE(id.ok());
    zs_id = *id;
  }
  storage::Facts facts(*db);
  storage::Fact stated;  // read from chapter N+5, holding from the start (no range)
  stated.book_id = book;
  stated.entity_id = zs_id;
  stated.predicate = "随身之物";
  stated.value = word;
  stated.source_chapter = later;
  ASSERT_TRUE(facts.add(stated).ok());
  storage::Fact starts = stated;  // starts to hold in chapter N+5
  starts.predicate = "住在";
  starts.value = word + "阁";
  starts.source_chapter.reset();
  starts.valid_from = later;
  ASSERT_TRUE(facts.add(starts).ok());
  storage::Fact ends_after = stated;  // holds from chapter 2, stated in chapter 2: known before N
  ends_after.predicate = "职业";
  ends_after.value = "茶馆伙计";
  ends_after.source_chapter = 2;
  ends_after.valid_from = 2;
  ASSERT_TRUE(facts.add(ends_after).ok());
  TreeOptions o;
  o.arc_size = 5;
  SummaryTree tree(*db, &qwen(), o);
  ExtractiveSummarizer ex;
  ASSERT_TRUE(tree.build(book, ex).ok());
  for (int64_t budget : {4096, 32768, 131072}) {
    for (auto task : {prompts::Task::kDraft, prompts::Task::kContinue}) {
      ContextRequest rq;
      rq.book_id = book;
      rq.chapter = N;
      rq.task = task;
      rq.budget = budget;
      rq.outline = "张三在城门外遇见李四，想起王家的旧事。";
      auto c = build_context(*db, qwen(), rq);
      ASSERT_TRUE(c.ok()) << c.error();
      EXPECT_EQ(c->text.find(word), std::string::npos) << "budget " << budget;
      EXPECT_EQ(c->text.find("玄鸟"), std::string::npos) << "budget " << budget;
      for (const auto& s : c->sections)
        for (int64_t x : s.chapters)
          if (s.kind != "entity_sheets" && s.kind != "outline" && s.kind != "current_text") {
            EXPECT_LT(x, N) << s.kind;
          }
      for (const auto& p : c->passages) EXPECT_LT(p.chapter, N);
      if (budget == 131072) {
        EXPECT_NE(c->text.find("茶馆伙计"), std::string::npos);  // a fact known before N is there
        EXPECT_NE(c->text.find(prompts::kSynopsisHeading), std::string::npos);  // the synopsis as of chapter 10
      }
    }
  }
  // After chapter N+5 the word may appear, and does: in the synopsis, summaries, passages and the sheet.
  ContextRequest rq;
  rq.book_id = book;
  rq.chapter = 26;
  rq.task = prompts::Task::kDraft;
  rq.budget = 131072;
  rq.outline = "张三在城门外遇见李四，说起那块玉佩。";
  auto c = build_context(*db, qwen(), rq);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_NE(c->text.find("随身之物：" + word), std::string::npos);
  size_t syn = c->text.find(prompts::kSynopsisHeading), arcs = c->text.find(prompts::kArcsHeading);
  ASSERT_NE(syn, std::string::npos);
  ASSERT_NE(arcs, std::string::npos);
  EXPECT_NE(c->text.substr(syn, arcs - syn).find(word), std::string::npos);
}

// The dictionary cuts the same phrase differently in different company (一件事情 → 一件|事情, 那件事情 →
// 那件事|情): retrieval still matches the passage through the Han bigrams they share, above a passage that shares
// only the query's other words (夜里, 把, 放在), which words alone rank first.
TEST(Retrieval, MatchesAPhraseTheDictionaryCutsDifferently) {
  auto db = memdb();
  int64_t book = add_book(*db, 6);
  const std::string query = "夜里平儿把那件事情放在心上。";
  auto before = PassageIndex::shared(*db, book, 6);
  ASSERT_TRUE(before.ok());
  for (const auto& p : (*before)->search(query, 5)) EXPECT_EQ(p.text.find("事情"), std::string::npos);
  auto ch = storage::Chapters(*db).get_by_ordinal(book, 3);
  ASSERT_TRUE(ch.ok());
  std::string body = ch->body;
  body.insert(body.find('\n') + 1, "　　平儿贴身带着一件事情，不肯说与旁人知道。\n");
  ASSERT_TRUE(storage::Chapters(*db).save(ch->id, body).ok());
  auto ch4 = storage::Chapters(*db).get_by_ordinal(book, 4);  // shares words with the query, not the phrase
  ASSERT_TRUE(ch4.ok());
  ASSERT_TRUE(storage::Chapters(*db).save(ch4->id, "　　夜里李四把茶碗放在桌上。\n" + ch4->body).ok());
  // The shared index sees the edit (its key is the text), and so does a fresh one.
  for (int shared = 0; shared < 2; ++shared) {
    std::shared_ptr<const PassageIndex> ix;
    if (shared) {
      auto s = PassageIndex::shared(*db, book, 6);
      ASSERT_TRUE(s.ok());
      ix = *s;
    } else {
      auto b = PassageIndex::build(*db, book, 6);
      ASSERT_TRUE(b.ok());
      ix = std::move(*b);
    }
    auto r = ix->search(query, 1);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].chapter, 3);
    EXPECT_NE(r[0].text.find("一件事情"), std::string::npos) << r[0].text;
  }
}

// Chapter summaries do not crowd out the evidence: when the outline names rare things of earlier chapters, a
// real share of a 32k context goes to passages (before: 6 passages, about 1,700 tokens, beside 17,000 tokens of
// summaries), and the manifest says what each share was and why.
TEST(Context, PassagesGetTheirShareWhenTheTaskNamesEarlierThings) {
  auto& h = hlm();
  ContextRequest rq;
  rq.book_id = h.book;
  rq.chapter = 100;
  rq.task = prompts::Task::kDraft;
  rq.budget = 32768;
  rq.outline = "宝玉想起当年黛玉葬花时吟的那首葬花词，又想起海棠诗社里众人咏白海棠的诗。";
  auto c = build_context(*h.db, qwen(), rq);
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(c->shares.size(), 5u);
  std::vector<std::string> kinds;
  for (const auto& s : c->shares) kinds.push_back(s.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"fixed", "summaries", "entity_sheets", "verbatim", "passages"}));
  const auto& p = c->shares.back();
  EXPECT_GE(p.reserved, c->room * 29 / 100);
  EXPECT_GE(p.tokens, p.reserved * 9 / 10);
  EXPECT_GE(c->passages.size(), 30u);
  EXPECT_NE(p.reason.find("30%"), std::string::npos) << p.reason;
  EXPECT_NE(p.reason.find("海棠 ("), std::string::npos) << p.reason;  // the rare words it names, with their counts
  int64_t summaries = c->shares[1].tokens;
  EXPECT_LE(summaries, c->room * 71 / 100);
  int64_t sum = 0;
  for (const auto& s : c->shares) sum += s.tokens;
  EXPECT_NEAR(double(sum), double(c->tokens), double(c->tokens) * 0.01 + 16);
  // 葬花吟 (chapter 27) is among the passages.
  bool ch27 = false;
  for (const auto& ps : c->passages) ch27 = ch27 || ps.chapter == 27;
  EXPECT_TRUE(ch27);
  // A task that names nothing of earlier chapters reserves nothing.
  rq.outline = "ＡＢＣ";
  auto none = build_context(*h.db, qwen(), rq);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->shares.back().reserved, 0);
}

// A book with a 楔子 numbers its chapters one off from their positions (第二十二回 is ordinal 23): every chapter the
// context names — sheets, summaries, passages, verbatim chapters, the manifest's reasons — is named as the book
// names it, never by ordinal.
TEST(Context, NamesChaptersAsTheBookNumbersThem) {
  auto db = memdb();
  auto r = storage::import_file(*db, std::string(CJ_TEST_DATA) + "/books/shuihu-like.txt");
  ASSERT_TRUE(r.ok()) << r.error();
  const int64_t book = r->book_id;
  storage::Entities ents(*db);
  auto sj = ents.add(book, "character", "宋江", {"及时雨"});
  auto cg = ents.add(book, "character", "晁盖");
  ASSERT_TRUE(sj.ok() && cg.ok());
  storage::Fact f;
  f.book_id = book;
  f.entity_id = *sj;
  f.predicate = "职务";
  f.value = "押司";
  f.valid_from = 18;  // 第十七回
  ASSERT_TRUE(storage::Facts(*db).add(f).ok());
  f.entity_id = *cg;
  f.predicate = "状态";
  f.value = "死亡";
  f.valid_from = 21;  // 第二十回
  ASSERT_TRUE(storage::Facts(*db).add(f).ok());
  TreeOptions o;
  o.arc_size = 5;
  SummaryTree tree(*db, &qwen(), o);
  ExtractiveSummarizer ex;
  ASSERT_TRUE(tree.build(book, ex).ok());
  ContextRequest rq;
  rq.book_id = book;
  rq.chapter = 24;  // 第二十三回
  rq.budget = 16384;
  rq.task = prompts::Task::kDraft;
  rq.outline = "宋江与晁盖的旧事，武松回到阳谷县。";
  auto c = build_context(*db, qwen(), rq);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_NE(c->text.find("职务：押司（自第十七回）"), std::string::npos) << c->text;
  EXPECT_NE(c->text.find("晁盖（人物）已故（第二十回起）"), std::string::npos);
  EXPECT_NE(c->text.find("第二十二回　横海郡柴进留宾"), std::string::npos);  // the chapter before, verbatim
  EXPECT_NE(c->text.find("楔子–第四回："), std::string::npos);              // an arc's range
  for (const char* wrong : {"自第18章", "第21章起", "第23章", "第24章", "第18章", "第22章"})
    EXPECT_EQ(c->text.find(wrong), std::string::npos) << wrong;
  bool reason_named = false;
  for (const auto& s : c->sections) {
    EXPECT_EQ(s.reason.find("chapter 24"), std::string::npos) << s.reason;
    reason_named = reason_named || s.reason.find("第二十三回") != std::string::npos;
  }
  EXPECT_TRUE(reason_named);
}
