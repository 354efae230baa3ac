// changjuan-cli eval retrieval: plants facts into a copy of any book and measures how many reach the context of a
// later chapter whose outline needs them (studio/eval/planted_facts.h, docs/memory.md).
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_load.h"
#include "memory/bundled_tokenizer.h"
#include "storage/database.h"
#include "storage/importer.h"
#include "studio/cli/command.h"
#include "studio/eval/planted_facts.h"

namespace cj::cli {
namespace {

int run_eval_retrieval(const Args& a) {
  eval::PlantedFactsOptions o;
  auto facts = a.get_int("facts", o.facts);
  auto from = a.get_int("from", o.from);
  auto to = a.get_int("to", o.to);
  auto ask = a.get_int("ask-chapter", o.ask);
  auto ctx = a.get_int("ctx", o.budget);
  auto seed = a.get_int("seed", 1);
  auto ents = a.get_int("entities", o.entities);
  auto owners = a.get_int("owners", o.owners);
  auto threads = a.get_int("threads", o.threads);
  for (auto* r : {&facts, &from, &to, &ask, &ctx, &seed, &ents, &owners, &threads})
    if (!r->ok()) return fail(r->error());
  if (*seed < 0) return fail("--seed must be >= 0");
  if (*ents < 0 || *owners < 1 || *threads < 1) return fail("--entities >= 0, --owners >= 1 and --threads >= 1");
  o.facts = int(*facts);
  o.from = *from;
  o.to = *to;
  o.ask = *ask;
  o.budget = *ctx;
  o.seed = uint64_t(*seed);
  o.entities = int(*ents);
  o.owners = int(*owners);
  o.threads = int(*threads);

  std::string tpath;
  if (a.has("tokenizer")) tpath = *a.get("tokenizer");
  else {
    auto p = memory::bundled_tokenizer_path();
    if (!p.ok()) return fail(p.error());
    tpath = *p;
  }
  auto tok = load_tokenizer(tpath);
  if (!tok.ok()) return fail(tok.error());
  // The book goes into a scratch database (in memory unless --keep-db): planting changes it.
  const std::string dbpath = a.get_or("keep-db", ":memory:");
  auto db = storage::Database::open(dbpath);
  if (!db.ok()) return fail(db.error());
  const bool quiet = !a.has("verbose");
  if (!quiet) std::fprintf(stderr, "importing %s\n", a.get("file")->c_str());
  auto imp = storage::import_file(**db, *a.get("file"));
  if (!imp.ok()) return fail(imp.error());
  auto rep = eval::run_planted_facts(**db, imp->book_id, **tok, o, [&](const std::string& s) {
    if (!quiet) std::fprintf(stderr, "%s\n", s.c_str());
  });
  if (!rep.ok()) return fail(rep.error());

  // Mean tokens per share over the contexts.
  std::vector<std::string> kinds;
  std::map<std::string, double> mean_tokens, mean_reserved;
  for (const auto& f : rep->facts)
    for (const auto& s : f.shares) {
      if (!mean_tokens.count(s.kind)) kinds.push_back(s.kind);
      mean_tokens[s.kind] += double(s.tokens) / double(rep->facts.size());
      mean_reserved[s.kind] += double(s.reserved) / double(rep->facts.size());
    }
  double mean_passages = 0;
  for (const auto& f : rep->facts) mean_passages += double(f.passages) / double(rep->facts.size());

  if (a.has("json")) {
    nlohmann::json fj = nlohmann::json::array();
    for (const auto& f : rep->facts) {
      nlohmann::json sh = nlohmann::json::array();
      for (const auto& s : f.shares)
        sh.push_back({{"kind", s.kind}, {"tokens", s.tokens}, {"reserved", s.reserved}, {"reason", s.reason}});
      fj.push_back({{"owner", f.owner}, {"object", f.object}, {"measure", f.measure}, {"name", f.name},
                    {"chapter", f.chapter}, {"ordinal", f.ordinal}, {"sentence", f.sentence}, {"outline", f.outline},
                    {"recalled", f.recalled}, {"rank", f.rank}, {"sections", f.sections}, {"tokens", f.tokens},
                    {"passages", f.passages}, {"shares", sh}});
    }
    nlohmann::json shares = nlohmann::json::array();
    for (const auto& k : kinds) shares.push_back({{"kind", k}, {"mean_tokens", mean_tokens[k]}, {"mean_reserved", mean_reserved[k]}});
    nlohmann::json j = {{"title", rep->title},
                        {"chapters", rep->chapters},
                        {"traditional", rep->traditional},
                        {"from", o.from},
                        {"to", o.to},
                        {"ask_chapter", o.ask},
                        {"ask_ordinal", rep->ask_ordinal},
                        {"ctx", o.budget},
                        {"seed", o.seed},
                        {"owners", rep->owners},
                        {"objects", rep->objects},
                        {"facts", rep->facts.size()},
                        {"recalled", rep->recalled},
                        {"recall", double(rep->recalled) / double(rep->facts.size())},
                        {"mean_passages", mean_passages},
                        {"shares", shares},
                        {"planted", fj}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%s: %lld chapters with text%s; %zu facts planted in chapters %lld–%lld; context of chapter %lld at %lld tokens\n",
              rep->title.c_str(), (long long)rep->chapters, rep->traditional ? " (traditional)" : "", rep->facts.size(),
              (long long)o.from, (long long)o.to, (long long)o.ask, (long long)o.budget);
  std::printf("recall: %d/%zu (%.1f%%)\n\n", rep->recalled, rep->facts.size(),
              100.0 * rep->recalled / double(rep->facts.size()));
  std::printf("  %-4s %-6s %-8s %-10s %-6s %-6s %-5s %s\n", "#", "章", "owner", "object", "name", "found", "rank", "in / outline");
  int i = 0;
  for (const auto& f : rep->facts) {
    std::string in;
    for (const auto& s : f.sections) in += (in.empty() ? "" : ",") + s;
    std::printf("  %-4d %-6lld %s  %s%s  %s  %-5s %-5d %s / %s\n", ++i, (long long)f.chapter, f.owner.c_str(),
                f.measure.c_str(), f.object.c_str(), f.name.c_str(), f.recalled ? "yes" : "NO", f.rank,
                in.empty() ? "-" : in.c_str(), f.outline.c_str());
  }
  std::printf("\nshares (mean tokens over the %zu contexts; %.1f passages each):\n", rep->facts.size(), mean_passages);
  for (const auto& k : kinds)
    std::printf("  %-14s %9.0f%s\n", k.c_str(), mean_tokens[k],
                mean_reserved[k] > 0 ? (" (reserved " + std::to_string(int64_t(mean_reserved[k])) + ")").c_str() : "");
  if (!rep->facts.empty())
    for (const auto& s : rep->facts.front().shares)
      std::printf("  why %-10s %s\n", s.kind.c_str(), s.reason.c_str());
  return 0;
}

Registrar reg({.name = "eval retrieval",
               .summary = "plant facts into a copy of a book and count how many reach a later chapter's context",
               .options = {{"file", "BOOK.txt", "the book (plain text, UTF-8 or GB18030); imported into a scratch database", true},
                           {"facts", "N", "facts to plant (default 20)"},
                           {"from", "N", "first chapter to plant in (book numbering: the N-th chapter with text; default 5)"},
                           {"to", "N", "last chapter to plant in (default 40)"},
                           {"ask-chapter", "N", "the chapter whose context is built, after --to (default 60; last+1 = a new chapter)"},
                           {"ctx", "TOKENS", "context budget (default 32768)"},
                           {"seed", "N", "random seed (default 1)"},
                           {"entities", "N", "top discovered characters accepted as entities (default 20)"},
                           {"owners", "N", "distinct owners the facts cycle through (default 10)"},
                           {"threads", "N", "threads for the summary tree and the index (default 2)"},
                           {"tokenizer", "T", "tokenizer.json (default: the bundled Qwen3 one)"},
                           {"keep-db", "F", "keep the planted book in this project file instead of memory"},
                           {"verbose", "", "say on stderr what it is doing (import, tree, each context)"},
                           {"json", "", "print the report as JSON"}},
               .run = run_eval_retrieval});

}  // namespace
}  // namespace cj::cli
