// changjuan-cli summarize: builds (or brings up to date) a book's summary tree. Extractive needs no model; --method
// llm runs the CPU engine on a GGUF model (--model). Only stale nodes are summarized, each batch is committed as
// it finishes, so an interrupted run resumes where it stopped. Progress goes to stderr.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/generate.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_load.h"
#include "memory/bundled_tokenizer.h"
#include "memory/abstractive_summarizer.h"
#include "memory/extractive_summarizer.h"
#include "memory/summary_tree.h"
#include "storage/books.h"
#include "storage/database.h"
#include "studio/cli/command.h"
#include "studio/cli/kv_options.h"
#include "studio/engine_config.h"

namespace cj::cli {
namespace {

// TextGenerator over the CPU engine: each prompt is a fresh ChatML user turn (thinking off) on a cleared cache.
class EngineGenerator final : public memory::TextGenerator {
 public:
  EngineGenerator(std::unique_ptr<Model> m, std::unique_ptr<Sequence> be, std::string name)
      : model_(std::move(m)), be_(std::move(be)), name_(std::move(name)) {}
  Result<std::string> generate(const std::string& prompt, const memory::GenOptions& o,
                               std::function<bool(std::string_view)> on_text) override {
    const Tokenizer& tok = *model_->tokenizer();
    be_->truncate(0);
    std::string chat = format_chatml({{"user", prompt}}, true, false);
    std::vector<TokenId> ids = tokenize_prompt(tok, chat, false);
    if (int(ids.size()) + o.max_tokens > be_->n_ctx())
      return make_error("the prompt (" + std::to_string(ids.size()) + " tokens) does not fit the context of " +
                        std::to_string(be_->n_ctx()) + " tokens; raise --ctx");
    GenerateParams gp;
    gp.n_predict = o.max_tokens;
    gp.sampling.temperature = o.temperature;
    gp.sampling.seed = o.seed;
    std::string out;
    std::atomic<bool> cancel{false};
    auto st = cj::generate(*be_, tok, ids, gp, [&](std::string_view s) {
      out += s;
      if (!on_text(s)) cancel = true;
    }, &cancel);
    if (!st.ok()) return Error{st.error()};
    return out;
  }
  std::string name() const override { return name_; }

 private:
  std::unique_ptr<Model> model_;
  std::unique_ptr<Sequence> be_;
  std::string name_;
};

int run_summarize(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  const std::string method = a.get_or("method", "extractive");
  if (method != "extractive" && method != "llm") return fail("--method must be extractive or llm");
  auto threads = a.get_int("threads", 2, 1, 256);
  auto arc = a.get_int("arc-size", 10);
  auto target = a.get_int("chapter-zi", 300);
  auto ctx = a.get_int("ctx", 16384, 1, 1 << 24);
  for (auto* r : {&threads, &arc, &target, &ctx})
    if (!r->ok()) return fail(r->error());
  if (*arc < 1 || *target < 10 || *threads < 1) return fail("--arc-size, --chapter-zi and --threads must be positive");
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());

  std::unique_ptr<Tokenizer> own_tok;
  const Tokenizer* tok = nullptr;
  std::unique_ptr<memory::Summarizer> summarizer;
  std::unique_ptr<EngineGenerator> gen;
  if (method == "llm") {
    if (!a.has("model"))
      return fail("the LLM summarizer needs a model: pass --model path/to/model.gguf (or use --method extractive)");
    auto model = Model::load(*a.get("model"));
    if (!model.ok()) return fail(model.error());
    if (!(*model)->tokenizer()) return fail(*a.get("model") + ": no usable tokenizer (" + (*model)->tokenizer_error() + ")");
    // The studio's one engine configuration, as every writing command uses it.
    studio::EngineSettings es;
    es.model_path = *a.get("model");
    es.threads = int(*threads);
    es.ctx = int(*ctx);
    if (Status k = apply_kv_options(a, &es); !k.ok()) return fail(k.error());
    auto be = open_sequence(**model, studio::engine_options(es, es.ctx));
    if (!be.ok()) return fail(be.error());
    std::string name = *a.get("model");
    if (auto s = name.find_last_of('/'); s != std::string::npos) name = name.substr(s + 1);
    tok = (*model)->tokenizer();
    gen = std::make_unique<EngineGenerator>(std::move(*model), std::move(*be), name);
    summarizer = std::make_unique<memory::AbstractiveSummarizer>(*gen);
  } else {
    std::string tpath;
    if (a.has("model")) tpath = *a.get("model");
    else if (a.has("tokenizer")) tpath = *a.get("tokenizer");
    else {
      auto p = memory::bundled_tokenizer_path();
      if (!p.ok()) return fail(p.error());
      tpath = *p;
    }
    auto t = load_tokenizer(tpath);
    if (!t.ok()) return fail(t.error());
    own_tok = std::move(*t);
    tok = own_tok.get();
    summarizer = std::make_unique<memory::ExtractiveSummarizer>();
  }
  memory::TreeOptions o;
  o.threads = int(*threads);
  o.arc_size = size_t(*arc);
  o.chapter_target_zi = size_t(*target);
  o.scenes = method == "extractive" || a.has("scenes");
  memory::SummaryTree tree(**db, tok, o);
  auto st = tree.build(*book, *summarizer, [](const memory::BuildProgress& p) {
    std::fprintf(stderr, "\rsummarized %zu/%zu (%s)   ", p.done, p.total, p.what.c_str());
    return true;
  });
  std::fprintf(stderr, "\n");
  if (!st.ok()) return fail(st.error() + " (finished nodes are saved; run summarize again to resume)");
  nlohmann::json j = {{"book_id", *book}, {"method", summarizer->method()}, {"built", st->built},
                      {"kept", st->kept}, {"removed", st->removed}};
  if (a.has("json")) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("摘要树（%s）：新写 %zu 个节点，%zu 个未变沿用，删去 %zu 个过时节点\n",
                summarizer->method() == std::string("extractive") ? "抽取式，不用模型" : "模型生成",
                size_t(st->built), size_t(st->kept), size_t(st->removed));
  }
  return 0;
}

Registrar reg({.name = "summarize",
               .summary = "build or update a book's summary tree (scenes, chapters, arcs, book)",
               .options = {{"db", "D", "project file", true},
                           {"book", "ID", "book id", true},
                           {"method", "M", "extractive (default, no model) or llm"},
                           {"model", "M", "GGUF model (llm: the summarizer; extractive: its tokenizer counts tokens)"},
                           {"tokenizer", "T", "tokenizer.json for token counts (default: the bundled Qwen3 one)"},
                           {"threads", "N", "threads (default 2)"},
                           {"arc-size", "N", "chapters per arc (default 10)"},
                           {"chapter-zi", "N", "chapter summary length in 字 (default 300)"},
                           {"ctx", "N", "llm: context size in tokens (default 16384)"},
                           {"scenes", "", "llm: also summarize scenes (slow)"},
                           {"kv-type", "T", "llm: KV cache type f16|f32|q8_0"},
                           {"kv-host-mb", "MB", "llm: KV host-RAM budget in MiB"},
                           {"kv-dir", "D", "llm: KV disk tier folder"},
                           {"kv-disk-mb", "MB", "llm: KV disk tier budget in MiB"},
                           {"json", "", "print the counts as JSON"}},
               .run = run_summarize});

}  // namespace
}  // namespace cj::cli
