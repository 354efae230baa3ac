// changjuan-cli eval variants|discovery: measure the name-variant check and character discovery on any book
// and any list of names (studio/check/variant_eval.h, docs/consistency.md).
#include <chrono>
#include <map>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/text.h"
#include "studio/check/confusables.h"
#include "studio/check/entity_discovery.h"
#include "studio/check/variant_eval.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

double per_100k(size_t n, int64_t chars) { return chars > 0 ? double(n) * 100000.0 / double(chars) : 0.0; }

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "、") + x;
  return s;
}

int run_eval_variants(const Args& a) {
  auto per_name = a.get_int("per-name", 4);
  if (!per_name.ok()) return fail(per_name.error());
  auto top = a.get_int("top", 10);
  if (!top.ok()) return fail(top.error());
  auto base_top = a.get_int("baseline-top", 20);
  if (!base_top.ok()) return fail(base_top.error());
  auto seed = a.get_int("seed", 1);
  if (!seed.ok()) return fail(seed.error());
  auto occ = a.get_int("occurrences", 1);
  if (!occ.ok()) return fail(occ.error());
  if (*per_name < 1 || *per_name > 20 || *top < 1 || *top > 200 || *occ < 1 || *occ > 20 || *base_top < 0 ||
      *base_top > 200)
    return fail("--per-name 1..20, --top 1..200, --baseline-top 0..200, --occurrences 1..20");
  const auto t0 = std::chrono::steady_clock::now();
  auto book = check::load_eval_book(*a.get("file"));
  if (!book.ok()) return fail(book.error());
  std::vector<std::string> names;
  std::vector<std::string> baseline_names;
  if (a.has("names")) {
    names = text::split_list(*a.get("names"));
    baseline_names = names;
  } else {
    baseline_names = check::top_characters(*book, size_t(std::max(*top, *base_top)));
    names.assign(baseline_names.begin(), baseline_names.begin() + long(std::min<size_t>(size_t(*top), baseline_names.size())));
    if (baseline_names.size() > size_t(*base_top)) baseline_names.resize(size_t(*base_top));
  }
  if (names.empty()) return fail("no names: give --names or a book where discovery finds characters");
  check::VariantEvalOptions opts;
  opts.per_name = size_t(*per_name);
  opts.seed = uint32_t(*seed);
  opts.occurrences = size_t(*occ);
  auto r = check::eval_variants(*book, names, opts);
  auto background = check::background_findings(*book, baseline_names);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string note = check::shape_rule_note();
  if (a.has("json")) {
    nlohmann::json inj = nlohmann::json::array();
    for (const auto& iv : r.injected) {
      nlohmann::json places = nlohmann::json::array();
      for (const auto& p : iv.places) places.push_back({{"chapter", book->labels[p.chapter]}, {"ordinal", p.chapter}, {"start", p.start}});
      inj.push_back({{"name", iv.name}, {"variant", iv.variant}, {"rule", iv.rule}, {"found", iv.found}, {"places", places}});
    }
    auto fl = [&](const std::vector<check::CheckFinding>& v) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& f : v)
        j.push_back({{"subject", f.subject}, {"chapter", book->labels[f.chapter]}, {"message", f.message}});
      return j;
    };
    nlohmann::json out = {{"book", book->title},
                          {"han_chars", book->han_chars},
                          {"names", names},
                          {"injected", inj},
                          {"found", r.found},
                          {"recall", r.recall},
                          {"precision", r.precision},
                          {"false_findings", fl(r.false_findings)},
                          {"skipped", r.skipped},
                          {"baseline_names", baseline_names},
                          {"baseline_findings", fl(background)},
                          {"baseline_per_100k", per_100k(background.size(), book->han_chars)},
                          {"seconds", secs}};
    if (!note.empty()) out["note"] = note;
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  if (!note.empty()) std::printf("注意：%s\n", note.c_str());
  std::printf("%s：%lld 字，%zu 章\n", book->title.c_str(), static_cast<long long>(book->han_chars), book->chapters.size());
  std::printf("人名（%zu）：%s\n", names.size(), join(names).c_str());
  for (const auto& iv : r.injected) {
    std::string where;
    for (const auto& p : iv.places) where += (where.empty() ? "" : "、") + book->labels[p.chapter];
    std::printf("  %s %s → %s（%s，%s）\n", iv.found ? "找到" : "漏掉", iv.name.c_str(), iv.variant.c_str(),
                iv.rule.c_str(), where.c_str());
  }
  for (const auto& s : r.skipped) std::printf("  跳过：%s\n", s.c_str());
  for (const auto& f : r.false_findings) std::printf("  误报：%s %s\n", book->labels[f.chapter].c_str(), f.message.c_str());
  std::map<std::string, std::pair<size_t, size_t>> by_rule;  // rule -> found, total
  for (const auto& iv : r.injected) {
    by_rule[iv.rule].first += iv.found ? 1 : 0;
    by_rule[iv.rule].second += 1;
  }
  std::string rules;
  for (const auto& [rule, ft] : by_rule)
    rules += "; " + rule + " " + std::to_string(ft.first) + "/" + std::to_string(ft.second);
  std::printf("recall %.3f (%zu/%zu%s)  precision %.3f (%zu findings)\n", r.recall, r.found, r.injected.size(),
              rules.c_str(), r.precision, r.findings.size());
  std::printf("原书（未改动）前 %zu 个人物：%zu 条人名异写，每十万字 %.2f 条\n", baseline_names.size(), background.size(),
              per_100k(background.size(), book->han_chars));
  for (const auto& f : background) std::printf("  %s %s\n", book->labels[f.chapter].c_str(), f.message.c_str());
  std::printf("用时 %.1f 秒\n", secs);
  return 0;
}

int run_eval_discovery(const Args& a) {
  auto top = a.get_int("top", 20);
  if (!top.ok()) return fail(top.error());
  if (*top < 1 || *top > 1000) return fail("--top 1..1000");
  auto book = check::load_eval_book(*a.get("file"));
  if (!book.ok()) return fail(book.error());
  check::BookKnowledge k;
  k.labels = book->labels;
  auto found = check::discover_names(book->chapters, k);
  std::vector<const check::DiscoveredName*> chars, roles;
  for (const auto& d : found) (d.role ? roles : chars).push_back(&d);
  if (chars.size() > size_t(*top)) chars.resize(size_t(*top));
  std::set<std::string> gold;
  for (const auto& g : text::split_list(a.get_or("gold", ""))) gold.insert(g);
  size_t hits = 0;
  for (const auto* d : chars) hits += gold.count(d->name) ? 1 : 0;
  if (a.has("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto* d : chars) j.push_back(check::discovered_json(*d, k));
    nlohmann::json out = {{"book", book->title}, {"han_chars", book->han_chars}, {"top", j}};
    if (!gold.empty()) out["in_gold"] = hits;
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("%s：%lld 字，%zu 章；前 %zu 个人物提议\n", book->title.c_str(), static_cast<long long>(book->han_chars),
              book->chapters.size(), chars.size());
  for (size_t i = 0; i < chars.size(); ++i)
    std::printf("%2zu. %s%s\n", i + 1, check::discovered_line(*chars[i], k).c_str(),
                gold.empty() ? "" : (gold.count(chars[i]->name) ? "  ✓" : "  ✗"));
  if (!gold.empty()) std::printf("在给定名单中：%zu/%zu\n", hits, chars.size());
  return 0;
}

Registrar reg_variants(
    {.name = "eval variants",
     .summary = "inject name variants (同音/形近) into a book and measure the name-variant check",
     .options = {{"file", "BOOK.txt", "the book (any supported encoding)", true},
                 {"names", "A,B", "the names to vary (default: the top characters discovery finds)"},
                 {"top", "N", "vary the N most frequent discovered characters (default 10)"},
                 {"per-name", "N", "variants per name, half 同音 and half 形近 (default 4)"},
                 {"occurrences", "N", "places each variant is written at (default 1)"},
                 {"baseline-top", "N", "names known when counting findings on the unmodified book (default 20)"},
                 {"seed", "N", "random seed (default 1)"},
                 {"json", "", "print the figures as JSON"}},
     .run = run_eval_variants});
Registrar reg_discovery({.name = "eval discovery",
                         .summary = "list the top character proposals of discovery on a book, with evidence",
                         .options = {{"file", "BOOK.txt", "the book (any supported encoding)", true},
                                     {"top", "N", "how many proposals (default 20)"},
                                     {"gold", "A,B", "the book's real characters: count how many proposals are"},
                                     {"json", "", "print JSON"}},
                         .run = run_eval_discovery});

}  // namespace
}  // namespace cj::cli
