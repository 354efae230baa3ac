// Memory benchmarks.
//   build/bin/changjuan-bench --benchmark_filter=Memory
// BM_MemoryExtractiveTree: the whole extractive tree (scenes, 120 chapters, 12 arcs, book) of 红楼梦 on 2 threads,
//   from an empty tree (token counts with the Qwen3 tokenizer included).
// BM_MemoryPassageIndex: the passage index of the whole of 红楼梦 (built per context request) and one search, on 1
//   and 2 threads.
// BM_MemoryRetrievalRecall32k: for each question of tests/data/retrieval/三国演义_questions.json, a 32k-token
//   "draft chapter 121" context with the question as outline; counters: recall (a passage of an expected chapter
//   is in the context), recall_any (also counting chapters shown verbatim), and per context the mean number of
//   passages and the tokens of the passages and of the summaries (the budget plan's shares).
#include <benchmark/benchmark.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/tokenizer/tokenizer.h"
#include "memory/context_builder.h"
#include "memory/extractive_summarizer.h"
#include "memory/retrieval.h"
#include "memory/summary_tree.h"
#include "storage/database.h"
#include "storage/importer.h"
#include "storage/summaries.h"

using namespace cj;

namespace {

const Tokenizer& qwen_tok() {
  static std::unique_ptr<Tokenizer> t = [] {
    auto spec = load_hf_tokenizer_json(std::string(CJ_SOURCE_DIR) + "/samples/tokenizer/qwen3/tokenizer.json");
    CJ_ASSERT(spec.ok());
    auto tk = Tokenizer::from_vocab(*spec);
    CJ_ASSERT(tk.ok());
    return std::move(*tk);
  }();
  return *t;
}

void BM_MemoryExtractiveTree(benchmark::State& state) {
  auto db = storage::Database::open(":memory:");
  CJ_ASSERT(db.ok());
  auto r = storage::import_file(**db, std::string(CJ_TEST_DATA) + "/novels/红楼梦.txt");
  CJ_ASSERT(r.ok() && r->chapters == 120);
  memory::TreeOptions o;
  o.threads = int(state.range(0));
  memory::ExtractiveSummarizer ex;
  size_t nodes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    CJ_ASSERT((*db)->exec("DELETE FROM summary_nodes").ok());
    state.ResumeTiming();
    memory::SummaryTree tree(**db, &qwen_tok(), o);
    auto st = tree.build(r->book_id, ex);
    CJ_ASSERT(st.ok());
    nodes = st->built;
  }
  state.counters["nodes"] = double(nodes);
}
BENCHMARK(BM_MemoryExtractiveTree)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_MemoryPassageIndex(benchmark::State& state) {
  auto db = storage::Database::open(":memory:");
  CJ_ASSERT(db.ok());
  auto r = storage::import_file(**db, std::string(CJ_TEST_DATA) + "/novels/红楼梦.txt");
  CJ_ASSERT(r.ok() && r->chapters == 120);
  memory::RetrievalOptions o;
  o.threads = int(state.range(0));
  size_t passages = 0;
  for (auto _ : state) {
    auto ix = memory::PassageIndex::build(**db, r->book_id, 0, o);
    CJ_ASSERT(ix.ok());
    passages = (*ix)->size();
    benchmark::DoNotOptimize((*ix)->search("宝玉想起当年黛玉葬花时吟的那首葬花词", 200));
  }
  state.counters["passages"] = double(passages);
}
BENCHMARK(BM_MemoryPassageIndex)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_MemoryRetrievalRecall32k(benchmark::State& state) {
  auto db = storage::Database::open(":memory:");
  CJ_ASSERT(db.ok());
  auto r = storage::import_file(**db, std::string(CJ_TEST_DATA) + "/novels/三国演义.txt");
  CJ_ASSERT(r.ok());
  memory::SummaryTree tree(**db, &qwen_tok());
  memory::ExtractiveSummarizer ex;
  CJ_ASSERT(tree.build(r->book_id, ex).ok());
  std::ifstream f(std::string(CJ_TEST_DATA) + "/retrieval/三国演义_questions.json");
  nlohmann::json qs = nlohmann::json::parse(f)["questions"];
  int hit = 0, hit_any = 0, n = 0;
  double passages = 0, passage_tokens = 0, summary_tokens = 0;
  for (auto _ : state) {
    hit = hit_any = n = 0;
    passages = passage_tokens = summary_tokens = 0;
    for (const auto& q : qs) {
      memory::ContextRequest rq;
      rq.book_id = r->book_id;
      rq.chapter = 121;
      rq.task = memory::prompts::Task::kDraft;
      rq.outline = q["q"].get<std::string>();
      rq.budget = 32768;
      auto c = memory::build_context(**db, qwen_tok(), rq);
      CJ_ASSERT(c.ok());
      bool in_passages = false, in_verbatim = false;
      for (int64_t ch : q["chapters"]) {
        for (auto& p : c->passages) in_passages = in_passages || p.chapter == ch;
        for (auto v : c->verbatim) in_verbatim = in_verbatim || v == ch;
      }
      passages += double(c->passages.size());
      for (const auto& sh : c->shares) {
        if (sh.kind == "passages") passage_tokens += double(sh.tokens);
        if (sh.kind == "summaries") summary_tokens += double(sh.tokens);
      }
      hit += in_passages;
      hit_any += in_passages || in_verbatim;
      ++n;
      if (!in_passages && !in_verbatim) state.SetLabel(state.iterations() == 0 ? "" : "");
    }
  }
  state.counters["questions"] = n;
  state.counters["recall"] = double(hit) / n;
  state.counters["recall_any"] = double(hit_any) / n;
  state.counters["passages"] = passages / n;          // mean per context
  state.counters["passage_tokens"] = passage_tokens / n;
  state.counters["summary_tokens"] = summary_tokens / n;
}
BENCHMARK(BM_MemoryRetrievalRecall32k)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
