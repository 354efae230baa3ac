// Tokenizer speed (DESIGN/issue 4 targets): >= 2 M tokens/s on one core on Chinese novel text, multi-threaded
// whole-book encoding that scales with cores, loading Qwen's 11 MB tokenizer.json in < 300 ms.
//   build/bin/changjuan-bench --benchmark_filter=Tokenizer
// Single-thread rates are over CPU time; the multi-threaded ones over wall time (they only scale where the cores
// are free).
#include <benchmark/benchmark.h>

#include <memory>

#include "engine/base/file.h"
#include "engine/tokenizer/tokenizer.h"

namespace {

const std::string kTokJson = CJ_SOURCE_DIR "/samples/tokenizer/qwen3/tokenizer.json";

const cj::Tokenizer& qwen3() {
  static std::unique_ptr<cj::Tokenizer> tok = [] {
    auto spec = cj::load_hf_tokenizer_json(kTokJson);
    if (!spec.ok()) std::abort();
    auto t = cj::Tokenizer::from_vocab(*spec);
    if (!t.ok()) std::abort();
    return std::move(*t);
  }();
  return *tok;
}

const std::string& novel() {
  static std::string text = [] {
    auto t = cj::read_file(CJ_TEST_DATA "/novels/红楼梦.txt");
    if (!t.ok()) std::abort();
    return *t;
  }();
  return text;
}

void BM_TokenizerLoadQwen3Json(benchmark::State& state) {
  for (auto _ : state) {
    auto spec = cj::load_hf_tokenizer_json(kTokJson);
    auto t = cj::Tokenizer::from_vocab(*spec);
    benchmark::DoNotOptimize(t.ok());
  }
}
BENCHMARK(BM_TokenizerLoadQwen3Json)->Unit(benchmark::kMillisecond);

void BM_TokenizerParseQwen3Json(benchmark::State& state) {
  for (auto _ : state) {
    auto spec = cj::load_hf_tokenizer_json(kTokJson);
    benchmark::DoNotOptimize(spec.ok());
  }
}
BENCHMARK(BM_TokenizerParseQwen3Json)->Unit(benchmark::kMillisecond);

// One core, the whole of 红楼梦 (2.5 MB) per iteration.
void BM_TokenizerEncodeNovel1T(benchmark::State& state) {
  const auto& tok = qwen3();
  const auto& text = novel();
  size_t n = 0;
  for (auto _ : state) {
    auto ids = tok.encode(text, false);
    n += ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
// Rates over CPU time: what one core does, whatever else runs on the machine.
BENCHMARK(BM_TokenizerEncodeNovel1T)->Unit(benchmark::kMillisecond);

// One paragraph-sized call at a time (a fresh cache each call: the cost a prompt pays).
void BM_TokenizerEncodeParagraphs(benchmark::State& state) {
  const auto& tok = qwen3();
  const auto& text = novel();
  std::vector<std::string_view> paras;
  for (size_t b = 0; b < text.size();) {
    size_t e = text.find('\n', b);
    e = e == std::string::npos ? text.size() : e + 1;
    paras.emplace_back(text.data() + b, e - b);
    b = e;
  }
  size_t n = 0, bytes = 0;
  for (auto _ : state) {
    for (auto p : paras) {
      auto ids = tok.encode(p, false);
      n += ids.size();
      bytes += p.size();
    }
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_TokenizerEncodeParagraphs)->Unit(benchmark::kMillisecond);

void BM_TokenizerEncodeNovelThreads(benchmark::State& state) {
  const auto& tok = qwen3();
  const auto& text = novel();
  size_t n = 0;
  for (auto _ : state) {
    auto ids = tok.encode_parallel(text, false, static_cast<int>(state.range(0)));
    n += ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_TokenizerEncodeNovelThreads)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TokenizerDecodeStream(benchmark::State& state) {
  const auto& tok = qwen3();
  static const auto ids = tok.encode(novel(), false);
  size_t n = 0;
  for (auto _ : state) {
    cj::StreamDecoder d(tok);
    size_t bytes = 0;
    for (cj::TokenId id : ids) bytes += d.push(id).size();
    benchmark::DoNotOptimize(bytes);
    n += ids.size();
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TokenizerDecodeStream)->Unit(benchmark::kMillisecond);

}  // namespace

// Loading a vocabulary with N added tokens (issue 20: 20,000 took 9 s and 40,000 37 s when every add re-sorted the
// list; the trie makes it linear in their bytes). The Qwen3 vocabulary plus N tokens "<extra_i>".
void BM_TokenizerLoadAddedTokens(benchmark::State& state) {
  auto spec = cj::load_hf_tokenizer_json(kTokJson);
  if (!spec.ok()) std::abort();
  for (int64_t i = 0; i < state.range(0); ++i) {
    spec->tokens.push_back("<extra_" + std::to_string(i) + ">");
    spec->token_types.push_back(3);
  }
  for (auto _ : state) {
    auto t = cj::Tokenizer::from_vocab(*spec);
    benchmark::DoNotOptimize(t.ok());
  }
}
BENCHMARK(BM_TokenizerLoadAddedTokens)->Arg(20000)->Arg(40000)->Unit(benchmark::kMillisecond);
