// changjuan-cli check: consistency checks of a book (studio/check/, docs/consistency.md). Prints the findings
// that are not dismissed for the chapters checked.
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "storage/books.h"
#include "storage/database.h"
#include "storage/chapters.h"
#include "storage/findings.h"
#include "studio/finding_groups.h"
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
  std::vector<storage::Finding> shown;
  for (auto& f : *list) {
    if (f.status == "dismissed" || f.status == "fixed") continue;
    if ((opts.first && f.chapter < *opts.first) || (opts.last && f.chapter > *opts.last)) continue;
    shown.push_back(std::move(f));
  }
  for (const auto& n : rep->notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  for (const auto& e : rep->llm_errors) std::fprintf(stderr, "LLM check: %s\n", e.c_str());
  if (rep->llm_dropped_unverified > 0)
    std::fprintf(stderr, "LLM check: %d findings dropped (their quote is not in the chapter)\n",
                 rep->llm_dropped_unverified);
  if (a.has("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& f : shown)
      j.push_back({{"id", f.id}, {"chapter", f.chapter}, {"label", numbering->label(f.chapter)}, {"start", f.span_begin},
                   {"end", f.span_end}, {"kind", f.kind}, {"message", f.message}, {"evidence", f.evidence},
                   {"status", f.status}, {"subject", f.subject}});
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  // Grouped by kind and by the name it is about, with the book's own chapter labels.
  auto label = [&](int64_t ordinal) { return numbering->label(ordinal); };
  std::printf("检查了 %d 章（%d 章未改动，跳过）：新发现 %d 条，仍在 %d 条，已修正 %d 条", rep->chapters_checked,
              rep->chapters_fresh, rep->added, rep->kept, rep->fixed);
  if (rep->suppressed) std::printf("，已忽略的 %d 条不再列出", rep->suppressed);
  std::printf("\n");
  if (shown.empty()) std::printf("没有待处理的问题。\n");
  const size_t per_subject = a.has("all") ? SIZE_MAX : 5;
  bool cut = false;
  for (const auto& k : studio::group_findings(shown, false)) {
    std::printf("\n%s（%zu 条）\n", studio::finding_kind_label(k.kind).c_str(), k.count);
    for (const auto& g : k.subjects) {
      std::string where;
      int64_t last = -1;
      size_t n_ch = 0;
      for (size_t i : g.items) {
        if (shown[i].chapter == last) continue;
        last = shown[i].chapter;
        if (++n_ch <= 8) where += (where.empty() ? "" : "、") + label(last);
      }
      if (n_ch > 8) where += " 等 " + std::to_string(n_ch) + " 章";
      std::printf("  %s：%zu 处，%s\n", g.subject.empty() ? "（未指明）" : ("「" + g.subject + "」").c_str(), g.items.size(),
                  where.c_str());
      for (size_t n = 0; n < g.items.size() && n < per_subject; ++n) {
        const auto& f = shown[g.items[n]];
        std::printf("    #%lld %s 第 %lld 字：%s\n", static_cast<long long>(f.id), label(f.chapter).c_str(),
                    static_cast<long long>(f.span_begin + 1), f.message.c_str());
      }
      if (g.items.size() > per_subject) {
        std::printf("    …… 还有 %zu 处\n", g.items.size() - per_subject);
        cut = true;
      }
    }
  }
  if (cut) std::printf("\n（--all 列出每一处；--json 给程序读）\n");
  if (!shown.empty())
    std::printf("\n忽略一条：changjuan-cli check set-status --db %s --id N（--status fixed 标为已修正）\n",
                a.get("db")->c_str());
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
                           {"all", "", "list every occurrence (by default 5 per name)"},
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
