// changjuan-cli context: assembles the context for a task at chapter N within a token budget and prints its
// manifest (sections, the budget plan's shares, the passages) — as JSON with --json; the text goes to --out
// (default: context-<book>-<N>.txt in the current directory).
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/file.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_load.h"
#include "memory/bundled_tokenizer.h"
#include "memory/context_builder.h"
#include "storage/chapter_numbering.h"
#include "storage/database.h"
#include "studio/cli/chapter_options.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_context(const Args& a) {
  auto book = a.get_int("book", 0);
  auto budget = a.get_int("budget", 131072 - 4096);
  for (auto* r : {&book, &budget})
    if (!r->ok()) return fail(r->error());
  if (*budget < 1) return fail("--budget must be positive");
  auto db = storage::Database::open(*a.get("db"), {.create = false, .read_only = true});
  if (!db.ok()) return fail(db.error());
  // The chapter being written, as the book numbers it; the next one to write may not exist yet.
  auto numbering = storage::ChapterNumbering::load(**db, *book);
  if (!numbering.ok()) return fail(numbering.error());
  auto chapter = chapter_option(*numbering, a, "chapter", true);
  if (!chapter.ok()) return fail(chapter.error());
  memory::ContextRequest rq;
  rq.book_id = *book;
  rq.chapter = **chapter;
  rq.budget = *budget;
  rq.method = a.get_or("method", "extractive");
  const std::string task = a.get_or("task", a.has("outline-file") ? "draft" : "continue");
  if (task == "continue") rq.task = memory::prompts::Task::kContinue;
  else if (task == "draft") rq.task = memory::prompts::Task::kDraft;
  else if (task == "check") rq.task = memory::prompts::Task::kCheck;
  else return fail("--task must be continue, draft or check");
  if (auto f = a.get("outline-file")) {
    auto t = read_file(*f);
    if (!t.ok()) return fail(t.error());
    rq.outline = std::move(*t);
  }
  if (auto f = a.get("current-file")) {
    auto t = read_file(*f);
    if (!t.ok()) return fail(t.error());
    rq.current_text = std::move(*t);
  }
  std::string tpath;
  if (a.has("model")) tpath = *a.get("model");
  else if (a.has("tokenizer")) tpath = *a.get("tokenizer");
  else {
    auto p = memory::bundled_tokenizer_path();
    if (!p.ok()) return fail(p.error());
    tpath = *p;
  }
  auto tok = load_tokenizer(tpath);
  if (!tok.ok()) return fail(tok.error());
  auto ctx = memory::build_context(**db, **tok, rq);
  if (!ctx.ok()) return fail(ctx.error());
  const std::string out = a.get_or("out", "context-" + std::to_string(*book) + "-" + std::to_string(rq.chapter) + ".txt");
  if (Status w = write_file_atomic(out, ctx->text); !w.ok()) return fail(w.error());
  nlohmann::json sections = nlohmann::json::array();
  for (const auto& s : ctx->sections) {
    std::vector<std::string> labels;
    for (int64_t c : s.chapters) labels.push_back(numbering->label(c));
    sections.push_back({{"kind", s.kind}, {"tokens", s.tokens}, {"chapters", s.chapters}, {"labels", labels},
                        {"reason", s.reason}});
  }
  nlohmann::json shares = nlohmann::json::array();
  for (const auto& s : ctx->shares)
    shares.push_back({{"kind", s.kind}, {"tokens", s.tokens}, {"reserved", s.reserved}, {"reason", s.reason}});
  nlohmann::json passages = nlohmann::json::array();
  for (const auto& p : ctx->passages)
    passages.push_back({{"chapter", p.chapter}, {"label", numbering->label(p.chapter)}, {"offset", p.offset},
                        {"length", p.length}});
  nlohmann::json j = {{"chapter", rq.chapter}, {"label", numbering->label(rq.chapter)},
                      {"tokens", ctx->tokens}, {"budget", ctx->budget},   {"room", ctx->room},
                      {"shares", shares},      {"sections", sections},    {"passages", passages},
                      {"text_file", out},      {"degradations", ctx->degradations}};
  if (a.has("json")) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("context for %s: %lld of %lld tokens -> %s\n", numbering->label(rq.chapter).c_str(),
                (long long)ctx->tokens, (long long)ctx->budget, out.c_str());
    for (const auto& s : ctx->sections) {
      std::string which;
      for (size_t k = 0; k < s.chapters.size() && k < 8; ++k) which += (k ? "、" : "  ") + numbering->label(s.chapters[k]);
      if (s.chapters.size() > 8) which += " …";
      std::printf("  %-18s %8lld  %s%s\n", s.kind.c_str(), (long long)s.tokens, s.reason.c_str(), which.c_str());
    }
    std::printf("budget plan (%lld tokens of room for the book):\n", (long long)ctx->room);
    for (const auto& s : ctx->shares)
      std::printf("  %-18s %8lld  %s\n", s.kind.c_str(), (long long)s.tokens, s.reason.c_str());
  }
  return 0;
}

Registrar reg({.name = "context",
               .summary = "assemble the model context for chapter N within a token budget (manifest as JSON)",
               .options = {{"db", "D", "project file", true},
                           {"book", "ID", "book id", true},
                           {"chapter", "N", "the chapter being written (22, 第二十二回, #N; the next new one too)", true},
                           {"task", "T", "continue (default), draft (default with --outline-file) or check"},
                           {"outline-file", "F", "the chapter outline (UTF-8)"},
                           {"current-file", "F", "the chapter text so far (default: chapter N as stored)"},
                           {"budget", "B", "tokens (default 126976 = 128k minus a 4k generation reserve)"},
                           {"tokenizer", "T", "tokenizer.json (default: the bundled Qwen3 one)"},
                           {"model", "M", "GGUF model whose tokenizer measures the budget"},
                           {"method", "M", "summary tree to use (default extractive)"},
                           {"out", "F", "where to write the context text"},
                           {"json", "", "print the manifest as JSON"}},
               .run = run_context});

}  // namespace
}  // namespace cj::cli
