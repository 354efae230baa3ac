// changjuan-cli prompt: the prompt a writing request would send the model — the same prompt plan
// (studio/prompt_plan.h) that `continue`, `draft` and `rewrite` send and the GUI's 上下文 panel shows: its sections
// with their tokens and the window's shares, or (--text) the prompt itself, byte for byte.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/file.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer_load.h"
#include "memory/bundled_tokenizer.h"
#include "storage/database.h"
#include "studio/context_words.h"
#include "studio/cli/command.h"
#include "studio/engine_config.h"
#include "studio/prompt_plan.h"

namespace cj::cli {
namespace {

int run_prompt(const Args& a) {
  auto book = a.get_int("book", 0);
  auto chapter = a.get_int("chapter", 0);
  auto cursor = a.get_int("cursor", -1);
  auto tokens = a.get_int("tokens", 256);
  auto words = a.get_int("words", 3000);
  auto from = a.get_int("from", 0);
  auto to = a.get_int("to", 0);
  auto budget = a.get_int("context-budget", 0);
  for (auto* r : {&book, &chapter, &cursor, &tokens, &words, &from, &to, &budget})
    if (!r->ok()) return fail(r->error());
  studio::WorkflowParams p;
  p.kind = a.get_or("kind", "continue");
  p.book_id = *book;
  p.ordinal = *chapter;
  p.cursor = *cursor;
  p.max_tokens = int(*tokens);
  p.target_chars = int(*words);
  p.sel_begin = *from;
  p.sel_end = *to;
  p.instruction = a.get_or("instruction", "");
  p.context_tokens = int(*budget);
  p.prompt_style = a.get_or("prompt-style", "instruct");
  if (auto f = a.get("outline-file")) {
    auto t = read_file(*f);
    if (!t.ok()) return fail(t.error());
    p.outline = *t;
  }
  auto valid = studio::params_from_json(studio::to_json(p));
  if (!valid.ok()) return fail(valid.error());

  // The window and tokenizer: the model's (its context as the engine would choose it, or --ctx), else the
  // bundled Qwen3 tokenizer and --ctx (default 8192).
  studio::PromptTarget target;
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> own;
  auto ctx = a.get_int("ctx", 0);
  if (!ctx.ok()) return fail(ctx.error());
  if (auto m = a.get("model")) {
    auto loaded = Model::load(*m);
    if (!loaded.ok()) return fail(loaded.error());
    model = std::move(*loaded);
    if (!model->tokenizer()) return fail(*m + ": the model has no usable tokenizer");
    target.tokenizer = model->tokenizer();
    studio::EngineSettings es;
    es.model_path = *m;
    es.ctx = int(*ctx);
    target.n_ctx = studio::resolved_context(studio::model_info(*model), es, studio::probe_machine());
    target.model = *m;
  } else {
    auto path = memory::bundled_tokenizer_path();
    if (!path.ok()) return fail(path.error());
    auto t = load_tokenizer(*path);
    if (!t.ok()) return fail(t.error());
    own = std::move(*t);
    target.tokenizer = own.get();
    target.n_ctx = *ctx > 0 ? int(*ctx) : 8192;
  }
  auto db = storage::Database::open(*a.get("db"), {.create = false, .read_only = true});
  if (!db.ok()) return fail(db.error());
  auto plan = studio::compose_prompt(**db, *valid, target);
  if (!plan.ok()) return fail(plan.error());
  if (a.has("text")) {
    std::fwrite(plan->prompt.data(), 1, plan->prompt.size(), stdout);
    return 0;
  }
  if (a.has("json")) {
    nlohmann::json secs = nlohmann::json::array();
    for (const auto& s : plan->sections)
      secs.push_back({{"kind", s.kind}, {"tokens", s.tokens}, {"chapters", s.chapters}, {"reason", s.reason},
                      {"bytes", s.text.size()}});
    nlohmann::json j = {{"n_ctx", plan->n_ctx},          {"gen_reserve", plan->gen_reserve},
                        {"book_budget", plan->book_budget}, {"text_budget", plan->text_budget},
                        {"fixed_tokens", plan->fixed_tokens}, {"prompt_tokens", plan->prompt_tokens},
                        {"sections", secs},              {"manifest", plan->manifest},
                        {"degradations", plan->degradations}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  for (const auto& m : plan->manifest) std::printf("%s\n", m.c_str());
  std::printf("\n");
  for (const auto& s : plan->sections)
    std::printf("  %-10s %8lld 令牌  %s\n", studio::section_name(s.kind).c_str(), static_cast<long long>(s.tokens),
                s.reason.c_str());
  if (!plan->degradations.empty()) {
    std::printf("\n书稿上下文为放进份额：");
    for (size_t i = 0; i < plan->degradations.size(); ++i)
      std::printf("%s%s", i ? "；" : "", plan->degradations[i].c_str());
    std::printf("\n");
  }
  std::printf("\n（--text 输出提示全文）\n");
  return 0;
}

Registrar reg({.name = "prompt",
               .summary = "the prompt a writing request sends the model: sections, tokens, the window's shares",
               .options = {{"db", "D", "project database", true},
                           {"book", "ID", "book id", true},
                           {"chapter", "N", "chapter ordinal", true},
                           {"kind", "K", "continue (default), draft, rewrite, expand, condense"},
                           {"cursor", "C", "continue: code points into the chapter (default: the end)"},
                           {"tokens", "N", "continue/rewrite: tokens to write (default 256)"},
                           {"outline-file", "F", "draft: the outline"},
                           {"words", "N", "draft: the target in 字 (default 3000)"},
                           {"from", "A", "rewrite: selection start (code points)"},
                           {"to", "B", "rewrite: selection end"},
                           {"instruction", "T", "rewrite: the instruction"},
                           {"model", "M", "GGUF model: its tokenizer and the context the engine would give it"},
                           {"ctx", "N", "the context window (default: the model's automatic one; no model: 8192)"},
                           {"context-budget", "N", "cap the book context at N tokens (settings: context_budget)"},
                           {"prompt-style", "S", "instruct (default) or plain"},
                           {"text", "", "print the prompt itself"},
                           {"json", "", "print the plan as JSON"}},
               .run = run_prompt});

}  // namespace
}  // namespace cj::cli
