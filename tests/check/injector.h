// Builds the injected test set for the consistency checks (fixed seed): a book of real chapters from 三国演义
// with known entities and facts, and injections of each deterministic kind at recorded positions. Used by
// tests/check/test_check.cpp (assertions, precision/recall) and tests/bench/bench_check.cpp (timing).
#pragma once
#include <random>
#include <string>
#include <vector>

#include "engine/base/file.h"
#include "storage/chapter_splitter.h"
#include "studio/check/check_types.h"

namespace cj::check::testing {

struct Injection {
  int64_t chapter;
  int64_t start, end;  // code points of the injected span (where the finding must be)
  std::string kind;
};

struct InjectedBook {
  std::vector<CheckChapter> original, modified;
  BookKnowledge knowledge;
  std::vector<Injection> injections;
};

// Entities and facts for 三国演义 (ids are local).
inline BookKnowledge sanguo_knowledge() {
  std::vector<storage::Entity> ents;
  int64_t id = 0;
  auto add = [&](const char* kind, const char* name, std::vector<std::string> al) {
    storage::Entity e;
    e.id = ++id;
    e.kind = kind;
    e.name = name;
    e.aliases = std::move(al);
    ents.push_back(e);
    return e.id;
  };
  int64_t liubei = add("character", "刘备", {"玄德", "刘玄德", "刘皇叔"});
  int64_t guanyu = add("character", "关羽", {"云长", "关公", "关云长"});
  int64_t zhangfei = add("character", "张飞", {"翼德", "张翼德"});
  int64_t caocao = add("character", "曹操", {"孟德", "曹孟德"});
  int64_t zhuge = add("character", "诸葛亮", {"孔明", "卧龙"});
  int64_t zhaoyun = add("character", "赵云", {"子龙", "赵子龙"});
  int64_t lvbu = add("character", "吕布", {"奉先", "吕奉先"});
  int64_t dongzhuo = add("character", "董卓", {});
  int64_t sunquan = add("character", "孙权", {"仲谋"});
  int64_t zhouyu = add("character", "周瑜", {"公瑾", "周郎"});
  add("character", "袁绍", {"本初"});
  int64_t liushan = add("character", "刘禅", {"阿斗", "后主"});
  add("character", "司马懿", {"仲达"});
  add("character", "孟获", {});
  int64_t sword = add("item", "青釭剑", {});
  int64_t xuzhou = add("place", "徐州", {});
  int64_t xinye = add("place", "新野", {});
  add("place", "荆州", {});
  add("character", "时间线", {});  // kind other in real use; the name is what counts
  std::vector<storage::Fact> facts;
  int64_t fid = 0;
  auto fact = [&](int64_t ent, const char* pred, const char* val, std::optional<int64_t> obj,
                  std::optional<int64_t> from, std::optional<int64_t> to = std::nullopt) {
    storage::Fact f;
    f.id = ++fid;
    f.entity_id = ent;
    f.predicate = pred;
    f.value = val;
    f.object_id = obj;
    f.valid_from = from;
    f.valid_to = to;
    facts.push_back(f);
  };
  fact(dongzhuo, "状态", "死亡", std::nullopt, 9);
  fact(lvbu, "状态", "死亡", std::nullopt, 19);
  fact(zhouyu, "状态", "死亡", std::nullopt, 57);
  fact(guanyu, "状态", "死亡", std::nullopt, 77);
  fact(zhangfei, "状态", "死亡", std::nullopt, 81);
  fact(liubei, "状态", "死亡", std::nullopt, 85);
  fact(liushan, "父亲", "", liubei, std::nullopt);
  fact(zhaoyun, "年龄", "三十", std::nullopt, 30, 45);
  fact(zhuge, "年龄", "二十七", std::nullopt, 36, 40);
  fact(zhuge, "官职", "军师中郎将", std::nullopt, 52, 79);
  fact(liubei, "住在", "", xinye, 34, 40);
  fact(sword, "主人", "", zhaoyun, 41);
  (void)caocao; (void)sunquan; (void)xuzhou; (void)zhangfei;
  return make_knowledge(ents, facts);
}

inline std::vector<CheckChapter> sanguo_chapters() {
  auto text = read_file(std::string(CJ_TEST_DATA) + "/novels/三国演义.txt");
  CJ_ASSERT(text.ok());
  std::string t;
  for (char c : *text)
    if (c != '\r') t += c;
  auto split = storage::split_chapters(t);
  std::vector<CheckChapter> out;
  int64_t ord = 1;
  for (const auto& c : split.chapters) {
    if (c.heading.empty()) continue;
    out.push_back(CheckChapter{ord++, to_u32(c.body)});
  }
  return out;
}

// Inserts `s` after the sentence end nearest to a random position of chapter `ch`; returns the insert offset.
inline int64_t insert_sentence(CheckChapter& ch, const std::u32string& s, std::mt19937& rng) {
  std::uniform_int_distribution<size_t> d(0, ch.body.size() - 1);
  size_t p = d(rng);
  while (p < ch.body.size() && ch.body[p] != U'\n') ++p;  // paragraph end: safe, no quote open
  ch.body.insert(p, s);
  return int64_t(p);
}

inline InjectedBook make_injected_book(uint32_t seed = 20261123, int per_kind = 30) {
  InjectedBook b;
  b.original = sanguo_chapters();
  b.modified = b.original;
  b.knowledge = sanguo_knowledge();
  std::mt19937 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  // Inserts "\n" + lead + span + tail at the paragraph end after `near` (a random one if near < 0).
  auto inject_after = [&](int64_t chapter, int64_t near, const std::u32string& lead, const std::u32string& span,
                          const std::u32string& tail, const char* kind) {
    CheckChapter& ch = b.modified[size_t(chapter - 1)];
    std::u32string s = U"\n" + lead + span + tail;
    int64_t at = 0;
    if (near < 0) {
      at = insert_sentence(ch, s, rng);
    } else {
      size_t p = size_t(near);
      while (p < ch.body.size() && ch.body[p] != U'\n') ++p;
      ch.body.insert(p, s);
      at = int64_t(p);
    }
    // offsets of earlier injections in this chapter after `at` shift
    for (auto& inj : b.injections)
      if (inj.chapter == chapter && inj.start >= at) {
        inj.start += int64_t(s.size());
        inj.end += int64_t(s.size());
      }
    int64_t st = at + 1 + int64_t(lead.size());
    b.injections.push_back({chapter, st, st + int64_t(span.size()), kind});
  };
  auto inject = [&](int64_t chapter, const std::u32string& lead, const std::u32string& span,
                    const std::u32string& tail, const char* kind) { inject_after(chapter, -1, lead, span, tail, kind); };
  // 1. name variants: one character changed to one of the same sound (刘倍) or a look-alike (曹燥, 孔阴), as the
  //    name-variant check computes them (confusables.h). The list once held pairs of a hand-written table
  //    (关习, 张乙, 孔朋) that neither the pinyin nor the glyphs call confusable; 云常 (ICU reads 长 as zhang),
  //    子笼 (子 begins too many strings) and 青钢剑 (the sword is named six times: a variant is not rare beside
  //    it) are cases the check leaves alone by design (docs/consistency.md).
  const std::vector<std::pair<std::u32string, std::u32string>> variants = {
      {U"刘倍", U"刘备"}, {U"关宇", U"关羽"}, {U"张非", U"张飞"}, {U"曹燥", U"曹操"}, {U"诸葛谅", U"诸葛亮"},
      {U"赵运", U"赵云"}, {U"吕步", U"吕布"}, {U"孙全", U"孙权"}, {U"周谕", U"周瑜"}, {U"孔阴", U"孔明"},
      {U"玄得", U"玄德"}, {U"翼得", U"翼德"}, {U"司马意", U"司马懿"}, {U"孟货", U"孟获"}, {U"袁少", U"袁绍"}};
  const std::vector<std::u32string> tails = {U"道：“吾意已决。”", U"引兵而去。", U"大笑，众皆愕然。", U"闻之，默然良久。"};
  // A slip of the pen stands where the story is about the character: each goes after a paragraph that names
  // the character (a random one of a random chapter that does).
  for (int i = 0; i < per_kind; ++i) {
    const auto& v = variants[size_t(i) % variants.size()];
    std::vector<std::pair<int64_t, size_t>> places;  // (chapter, offset of the name)
    for (const auto& ch : b.modified)
      for (size_t at = ch.body.find(v.second); at != std::u32string::npos; at = ch.body.find(v.second, at + 1))
        places.push_back({ch.ordinal, at});
    CJ_ASSERT(!places.empty());
    const auto [chapter, near] = places[size_t(pick(0, int64_t(places.size()) - 1))];
    inject_after(chapter, int64_t(near), U"", v.first, tails[size_t(i) % tails.size()], kKindName);
  }
  // 2. after death: the dead speak.
  struct Dead { std::u32string name; int64_t died; };
  const std::vector<Dead> dead = {{U"董卓", 9}, {U"吕布", 19}, {U"周瑜", 57}, {U"关羽", 77}, {U"张飞", 81}, {U"刘备", 85}};
  for (int i = 0; i < per_kind; ++i) {
    const Dead& d = dead[size_t(i) % dead.size()];
    inject(pick(d.died + 1, std::min<int64_t>(120, d.died + 30)), U"", d.name + U"笑道", U"：“诸公勿忧。”", kKindAfterDeath);
  }
  // 3. attributes.
  for (int i = 0; i < per_kind; ++i) {
    switch (i % 5) {
      case 0: inject(pick(30, 45), U"", U"赵云今年四十五岁", U"，英气不减。", kKindAttribute); break;
      case 1: inject(pick(36, 40), U"", U"孔明年方三十岁", U"，隐居隆中。", kKindAttribute); break;
      case 2: inject(pick(1, 120), U"", U"刘禅的父亲曹操", U"，闻者皆惊。", kKindAttribute); break;
      case 3: inject(pick(52, 79), U"", U"诸葛亮官拜大司马", U"，总督诸军。", kKindAttribute); break;
      case 4: inject(pick(41, 120), U"", U"张飞手持青釭剑", U"，大呼而进。", kKindAttribute); break;
    }
  }
  // 4. timeline: a year earlier than the previous chapters reached (建安十三年 is stated in chapter 39-ish).
  for (int i = 0; i < per_kind; ++i) {
    // at the start of a chapter: the time a chapter opens with is what the check compares
    int64_t c = pick(60, 100);
    CheckChapter& ch = b.modified[size_t(c - 1)];
    const std::u32string s = U"建安三年春，天下大旱。\n";
    bool dup = false;
    for (const auto& inj : b.injections) dup = dup || (inj.chapter == c && inj.kind == kKindTimeline);
    if (dup) { --i; continue; }
    ch.body.insert(0, s);
    for (auto& inj : b.injections)
      if (inj.chapter == c) { inj.start += int64_t(s.size()); inj.end += int64_t(s.size()); }
    b.injections.push_back({c, 0, 5, kKindTimeline});
  }
  return b;
}

}  // namespace cj::check::testing
