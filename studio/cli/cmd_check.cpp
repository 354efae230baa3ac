// changjuan-cli check: consistency checks of a book (studio/check/, docs/consistency.md). Prints the findings
// that are not dismissed for the chapters checked.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "storage/books.h"
#include "storage/database.h"
#include "storage/findings.h"
#include "studio/check/checker.h"
#include "studio/cli/command.h"
#include "studio/cli/studio_cli.h"
#include "studio/engine_text_generator.h"

namespace cj::cli {
namespace {

int run_check(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  check::CheckOptions opts;
  opts.force = a.has("force");
  // With --model (local engine) or --remote (a server) the LLM check runs too, greedy (llm_check.cpp), so a
  // re-check of the same chapter gives the same answer.
  std::unique_ptr<studio::Generator> engine;
  std::unique_ptr<studio::EngineTextGenerator> llm;
  if (a.has("model") || a.has("remote")) {
    auto g = studio_cli::open_generator(a, 16384);
    if (!g.ok()) return fail(g.error());
    engine = std::move(*g);
    llm = std::make_unique<studio::EngineTextGenerator>(*engine);
    opts.llm = llm.get();
  }
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());
  auto numbering = storage::ChapterNumbering::load(**db, *book);
  if (!numbering.ok()) return fail(numbering.error());
  auto range = chapter_range_option(*numbering, a, "chapters");
  if (!range.ok()) return fail(range.error());
  if (*range) {
    opts.first = (*range)->first;
    opts.last = (*range)->second;
  }
  auto rep = check::check_book(**db, *book, opts);
  if (!rep.ok()) return fail(rep.error());
  auto list = storage::Findings(**db).list(*book);
  if (!list.ok()) return fail(list.error());
  nlohmann::json j = nlohmann::json::array();
  for (const auto& f : *list) {
    if (f.status == "dismissed" || f.status == "fixed") continue;
    if ((opts.first && f.chapter < *opts.first) || (opts.last && f.chapter > *opts.last)) continue;
    j.push_back({{"id", f.id}, {"chapter", f.chapter}, {"label", numbering->label(f.chapter)}, {"start", f.span_begin},
                 {"end", f.span_end}, {"kind", f.kind}, {"message", f.message}, {"evidence", f.evidence},
                 {"status", f.status}, {"subject", f.subject}});
  }
  for (const auto& n : rep->notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  for (const auto& e : rep->llm_errors) std::fprintf(stderr, "LLM check: %s\n", e.c_str());
  if (rep->llm_dropped_unverified > 0)
    std::fprintf(stderr, "LLM check: %d findings dropped (their quote is not in the chapter)\n",
                 rep->llm_dropped_unverified);
  if (a.has("json")) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    for (const auto& f : j)
      std::printf("%s [%lld,%lld) %s：%s\n    %s\n", f["label"].get<std::string>().c_str(), f["start"].get<long long>(),
                  f["end"].get<long long>(), f["kind"].get<std::string>().c_str(),
                  f["message"].get<std::string>().c_str(), f["evidence"].get<std::string>().c_str());
    std::fprintf(stderr, "checked %d chapters (%d unchanged, skipped); %d new, %d kept, %d fixed, %d dismissed\n",
                 rep->chapters_checked, rep->chapters_fresh, rep->added, rep->kept, rep->fixed, rep->suppressed);
  }
  return 0;
}

int run_dismiss(const Args& a) {
  auto id = a.get_int("id", 0);
  if (!id.ok()) return fail(id.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  const std::string status = a.get_or("status", "dismissed");
  if (auto s = storage::Findings(**db).set_status(*id, status); !s.ok()) return fail(s.error());
  return 0;
}

Registrar reg({.name = "check",
               .summary = "consistency checks: name variants, after death, attributes, timeline (stale chapters only)",
               .options = {{"db", "D", "project database", true},
                           {"book", "ID", "book id", true},
                           {"chapters", "A-B", "only these chapters, in the book's own numbers (21-22, 第二十一回至第二十二回, #N)"},
                           {"model", "M", "also run the LLM check with this GGUF model (local engine)"},
                           {"remote", "URL", "also run the LLM check on an OpenAI-compatible server"},
                           {"remote-model", "NAME", "the server's model id (default: the first it lists)"},
                           {"api-key-env", "VAR", "send the API key in environment variable VAR (remote)"},
                           {"threads", "T", "engine threads with --model (default 2)"},
                           {"ctx", "N", "context in tokens with --model/--remote (default 16384)"},
                           {"force", "", "re-check chapters that have not changed"},
                           {"json", "", "print [{\"chapter\" (ordinal),\"label\",\"start\",\"end\",\"kind\",\"message\",\"evidence\"}]"}},
               .run = run_check});
Registrar reg_dismiss({.name = "check set-status",
                       .summary = "set a finding's status (dismissed by default; open, accepted, fixed)",
                       .options = {{"db", "D", "project database", true},
                                   {"id", "ID", "finding id", true},
                                   {"status", "S", "dismissed (default), open, accepted or fixed"}},
                       .run = run_dismiss});

}  // namespace
}  // namespace cj::cli
