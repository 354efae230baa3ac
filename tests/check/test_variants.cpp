// The name-variant check on any book (issue 17): sound from ICU's pinyin, shape from the CJK font's glyphs,
// one finding per variant with every occurrence; character discovery (folding, merging, words, roles, evidence);
// and the evaluation (inject variants, measure) on committed text.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "engine/base/file.h"
#include "storage/chapter_splitter.h"
#include "studio/check/char_fold.h"
#include "studio/check/confusables.h"
#include "studio/check/entity_discovery.h"
#include "studio/check/glyph_shape.h"
#include "studio/check/name_variant_check.h"
#include "studio/check/pinyin.h"
#include "studio/check/variant_eval.h"

namespace cj::check {
namespace {

TEST(VariantSound, PinyinForSimplifiedAndTraditional) {
  EXPECT_EQ(pinyin_of(U'张'), "zhang");
  EXPECT_EQ(pinyin_of(U'張'), "zhang");
  EXPECT_EQ(pinyin_of(U'吕'), "lv");
  EXPECT_EQ(pinyin_of(U'黛'), pinyin_of(U'戴'));
  EXPECT_EQ(pinyin_of(U'A'), "");
  EXPECT_EQ(near_sound_key("zhang"), "zan");
  EXPECT_EQ(near_sound_key("ning"), "lin");
  EXPECT_EQ(near_sound_key("shi"), "si");
  EXPECT_EQ(sound_ids(U'劉').same, sound_ids(U'刘').same);
}

TEST(VariantConfusion, RulesAreComputedNotListed) {
  EXPECT_TRUE(confusion(U'黛', U'戴') & kConfSameSound);
  EXPECT_TRUE(confusion(U'備', U'倍') & kConfSameSound);  // traditional name character
  EXPECT_TRUE(confusion(U'珍', U'政') & kConfNearSound);  // zhen / zheng
  EXPECT_TRUE(confusion(U'林', U'宁') & kConfNearSound);  // lin / ning
  EXPECT_TRUE(confusion(U'志', U'字') & kConfNearSound);  // zhi / zi
  EXPECT_FALSE(confusion(U'黛', U'戴') & kConfNearSound);  // 同音 wins
  ASSERT_TRUE(shape_rule_available()) << shape_rule_note();
  EXPECT_TRUE(confusion(U'玉', U'王') & kConfShape);
  EXPECT_TRUE(confusion(U'己', U'已') & kConfShape);
  EXPECT_TRUE(confusion(U'未', U'末') & kConfShape);
  EXPECT_EQ(confusion(U'玉', U'火'), kConfNone);
  EXPECT_EQ(confusion(U'黛', U'黛'), kConfNone);
  GlyphShapes& g = GlyphShapes::shared();
  EXPECT_GT(g.similarity(U'己', U'已'), g.similarity(U'己', U'木'));
  EXPECT_LT(g.similarity(U'懿', U'黛'), kShapeThreshold);  // dense glyphs do not look alike by chance
  EXPECT_EQ(confusion_label(kConfSameSound | kConfShape), "同音、形近");
}

TEST(VariantConfusion, MissingFontIsANoteNotACrash) {
  auto g = GlyphShapes::open("/nonexistent/NotoSansCJK-Regular.ttc");
  EXPECT_FALSE(g->available());
  EXPECT_NE(g->note().find("只按读音检查"), std::string::npos) << g->note();
  EXPECT_EQ(g->note().find('\n'), std::string::npos);
  EXPECT_LT(g->similarity(U'玉', U'王'), 0.f);
}

// A small book: 林冲 everywhere, two slips of the same variant, a look-alike slip, and 林宠 — a second person
// who speaks (discovery proposes him), not a slip.
std::vector<CheckChapter> small_book() {
  std::vector<CheckChapter> chs;
  const std::u32string lines[] = {U"林冲道：“且慢。”", U"众人见了林冲，都吃一惊。", U"林冲笑道：“无妨。”",
                                  U"那日林冲独自出城。", U"林冲听了，默然不语。", U"王夫人道：“知道了。”"};
  for (int c = 1; c <= 12; ++c) {
    CheckChapter ch{c, U""};
    for (int i = 0; i < 12; ++i) ch.body += lines[(c + i) % 6] + U"\n";
    chs.push_back(std::move(ch));
  }
  chs[2].body += U"林充道：“我去也。”\n";      // 同音 (chong)
  chs[7].body += U"众人见了林充，都笑了。\n";  // the same slip again
  chs[9].body += U"玉夫人道：“去罢。”\n";      // 形近
  for (int c = 4; c <= 8; ++c) chs[size_t(c)].body += U"林宠道：“小弟来也。”\n";
  return chs;
}

BookKnowledge small_knowledge() {
  std::vector<storage::Entity> ents(2);
  ents[0].id = 1;
  ents[0].kind = "character";
  ents[0].name = "林冲";
  ents[1].id = 2;
  ents[1].kind = "character";
  ents[1].name = "王夫人";
  BookKnowledge k = make_knowledge(ents, {});
  for (int c = 1; c <= 12; ++c) k.labels[c] = "第" + std::to_string(c) + "回";
  return k;
}

TEST(NameVariant, OneFindingPerVariantWithEveryOccurrence) {
  auto chs = small_book();
  auto k = small_knowledge();
  NameIndex idx(k);
  NameVariantCheck nv(k, idx);
  nv.prepare(chs);
  std::map<std::string, const NameVariant*> by;
  for (const auto& v : nv.variants()) by[to_utf8(v.text)] = &v;
  ASSERT_TRUE(by.count("林充"));
  EXPECT_EQ(by["林充"]->occurrences.size(), 2u);
  EXPECT_EQ(by["林充"]->rules, kConfSameSound);
  ASSERT_TRUE(by.count("玉夫人"));
  EXPECT_TRUE(by["玉夫人"]->rules & kConfShape);
  EXPECT_FALSE(by.count("林宠")) << "a character discovery proposes is a different person";
  std::vector<CheckFinding> out;
  for (const auto& ch : chs) nv.run(ch, &out);
  ASSERT_EQ(out.size(), nv.variants().size());
  const CheckFinding* f = nullptr;
  for (const auto& x : out)
    if (x.subject == "林充") f = &x;
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->chapter, 3);  // the first occurrence
  EXPECT_EQ(to_utf8(chs[2].body.substr(size_t(f->start), size_t(f->end - f->start))), "林充");
  EXPECT_NE(f->message.find("同音"), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("全书 2 处（第3回、第8回）"), std::string::npos) << f->message;
  EXPECT_NE(f->evidence.find("第3回：林充道"), std::string::npos) << f->evidence;
  EXPECT_NE(f->evidence.find("第8回：众人见了林充"), std::string::npos) << f->evidence;
  EXPECT_FALSE(nv.digest(3).empty());
  EXPECT_TRUE(nv.digest(4).empty());
}

TEST(NameVariant, FrequentStringsAndWordsAreNotSlips) {
  auto chs = small_book();
  // 林充 written as often as the name: the writer's choice, not a slip.
  for (auto& ch : chs) ch.body += U"林充道：“好。”\n林充笑了。\n林充走了。\n";
  auto k = small_knowledge();
  NameIndex idx(k);
  NameVariantCheck nv(k, idx);
  nv.prepare(chs);
  for (const auto& v : nv.variants()) EXPECT_NE(to_utf8(v.text), "林充");
}

std::vector<CheckChapter> chapters_of(const std::string& file, size_t max_chapters) {
  auto text = read_file(std::string(CJ_TEST_DATA) + "/novels/" + file);
  CJ_ASSERT(text.ok());
  std::string t;
  for (char c : *text)
    if (c != '\r') t += c;
  std::vector<CheckChapter> out;
  int64_t ord = 1;
  for (const auto& c : storage::split_chapters(t).chapters) {
    if (c.heading.empty()) continue;
    if (out.size() == max_chapters) break;
    out.push_back({ord++, to_u32(c.body)});
  }
  return out;
}

TEST(Discovery, FoldsMergesAndLeavesWordsAndRolesOut) {
  std::vector<CheckChapter> chs;
  for (int c = 1; c <= 6; ++c) {
    CheckChapter ch{c, U""};
    for (int i = 0; i < 4; ++i)
      ch.body += U"阿Ｑ道：“我去了。”\n阿Q笑道：“妈妈的。”\n西门庆道：“来。”\n。西门庆笑了。\n"
                 U"他起身道：“走罢。”\n那知府道：“带上来。”\n张知府道：“且慢。”\n" U"叫做七斤。七斤道：“唉。”\n";
    chs.push_back(std::move(ch));
  }
  BookKnowledge k;
  k.labels[1] = "第一回";
  auto found = discover_names(chs, k);
  std::map<std::string, const DiscoveredName*> by;
  for (const auto& d : found) by[to_utf8(fold_text(to_u32(d.name)))] = &d;
  ASSERT_TRUE(by.count("阿Q"));
  EXPECT_EQ(by["阿Q"]->count, 48);  // both spellings
  EXPECT_TRUE(by.count("西门庆"));
  EXPECT_FALSE(by.count("门庆")) << "only ever inside 西门庆";
  EXPECT_FALSE(by.count("起身")) << "a word";
  EXPECT_TRUE(by.count("七斤"));
  if (by.count("知府")) {
    EXPECT_TRUE(by["知府"]->role);
  }
  const DiscoveredName& q = *by["阿Q"];
  EXPECT_EQ(q.first_chapter, 1);
  ASSERT_EQ(q.examples.size(), 2u);
  EXPECT_NE(discovered_line(q, k).find("首见第一回"), std::string::npos);
  EXPECT_EQ(discovered_json(q, k)["first_label"], "第一回");
}

// A table of contents in the front matter names everyone; "首见" is where the story first has them.
TEST(Discovery, FirstSeenIsAChapterNotTheTableOfContents) {
  std::vector<CheckChapter> chs;
  chs.push_back({0, U"目录\n第一回 王冕读书\n第二回 范進中举\n第三回 周進入学\n"});
  for (int c = 1; c <= 4; ++c) chs.push_back({c, U"王冕道：“是。”\n王冕笑了。\n"});
  for (int c = 2; c <= 4; ++c) chs[size_t(c)].body += U"范進道：“老先生。”\n范進聽了，不敢說。\n";
  BookKnowledge k;
  k.labels[0] = "卷首";
  for (int c = 1; c <= 4; ++c) k.labels[c] = "第" + std::to_string(c) + "回";
  auto found = discover_names(chs, k, {.min_count = 3});
  std::map<std::string, int64_t> first;
  for (const auto& d : found) first[d.name] = d.first_chapter;
  ASSERT_TRUE(first.count("王冕"));
  ASSERT_TRUE(first.count("范進"));
  EXPECT_EQ(first["王冕"], 1);
  EXPECT_EQ(first["范進"], 2) << "the table of contents names him before his chapter";
}

TEST(Discovery, TraditionalTextUsesTheSameLists) {
  EXPECT_EQ(fold_char(U'張'), U'张');
  EXPECT_EQ(fold_char(U'說'), U'说');
  EXPECT_EQ(fold_char(U'Ｑ'), U'Q');
  EXPECT_TRUE(is_common_surname(U"劉"));
  std::vector<CheckChapter> chs;
  for (int c = 1; c <= 3; ++c) chs.push_back({c, U"張靜齋說道：“老先生。”\n范進道：“是。”\n范進聽了，不敢說。\n"});
  auto found = discover_names(chs, BookKnowledge{}, {.min_count = 3});
  std::set<std::string> names;
  for (const auto& d : found) names.insert(d.name);
  EXPECT_TRUE(names.count("范進")) << "reported as written";
}

// The evaluation, small: 三国演义 (committed), its 5 most frequent characters, 2 variants each.
TEST(VariantEval, InjectedVariantsAreFoundOnCommittedText) {
  EvalBook book;
  book.chapters = chapters_of("三国演义.txt", 120);
  for (const auto& ch : book.chapters) {
    book.labels[ch.ordinal] = "第" + std::to_string(ch.ordinal) + "回";
    for (char32_t c : ch.body) book.han_chars += is_han(c) ? 1 : 0;
  }
  auto names = top_characters(book, 10);
  ASSERT_EQ(names.size(), 10u);
  std::vector<std::string> five(names.begin(), names.begin() + 5);
  VariantEvalOptions opts;
  opts.per_name = 2;
  opts.seed = 7;
  auto r = eval_variants(book, five, opts);
  ASSERT_EQ(r.injected.size(), 10u);
  for (const auto& iv : r.injected)
    std::printf("[eval] %s -> %s (%s) %s\n", iv.name.c_str(), iv.variant.c_str(), iv.rule.c_str(), iv.found ? "found" : "MISSED");
  for (const auto& f : r.false_findings) std::printf("[eval] false: %s\n", f.message.c_str());
  std::printf("[eval] recall %.2f precision %.2f\n", r.recall, r.precision);
  EXPECT_GE(r.recall, 0.9);
  EXPECT_GE(r.precision, 0.8);
  auto background = background_findings(book, names);
  std::printf("[eval] unmodified book, top 10 known: %zu findings in %lld 字\n", background.size(),
              static_cast<long long>(book.han_chars));
  EXPECT_LE(double(background.size()) * 100000.0 / double(book.han_chars), 1.0);
}

}  // namespace
}  // namespace cj::check
