// Generation over HTTP (client → `serve` over loopback, streamed SSE) against the same engine called directly:
// what the OpenAI-compatible layer costs per token. Arg 0: the tiny test model (2 layers, 64 wide: per-token
// overhead dominates); arg 1: a small one (8 layers, 512 wide). Greedy, 128 tokens, 1 thread; the prompt's KV
// is reused from the previous iteration on both paths.
//   build/bin/changjuan-bench --benchmark_filter=Http
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

#include "engine/model/model_maker.h"
#include "studio/engine_session.h"
#include "studio/http_server.h"
#include "studio/remote_generator.h"

namespace {

using namespace cj;
using namespace cj::studio;

const std::string& model_file(int size) {
  static std::string paths[2];
  if (paths[size].empty()) {
    auto vocab = load_tokenizer_file(std::string(CJ_SOURCE_DIR) + "/samples/tokenizer/qwen3/tokenizer.json");
    CJ_ASSERT(vocab.ok());
    MakeModelSpec s;
    s.arch = Arch::Qwen3;
    s.n_layers = size ? 8 : 2;
    s.n_embd = size ? 512 : 64;
    s.n_heads = size ? 8 : 4;
    s.n_kv_heads = size ? 4 : 2;
    s.n_ff = size ? 1536 : 128;
    s.type = DType::Q8_0;
    s.vocab = &vocab.value();
    paths[size] =
        (std::filesystem::temp_directory_path() / ("cj_bench_http_" + std::to_string(size) + ".gguf")).string();
    CJ_ASSERT(make_model(s, paths[size]).ok());
  }
  return paths[size];
}

std::unique_ptr<EngineSession> open(int size) {
  EngineSettings es;
  es.model_path = model_file(size);
  es.threads = 1;
  es.ctx = 1024;
  auto e = EngineSession::open(es);
  CJ_ASSERT(e.ok());
  return std::move(e.value());
}

SessionRequest request() {
  SessionRequest r;
  r.prompt = "林黛玉进了荣国府，见过了贾母，又见了三位姑娘。";
  r.chat = 1;
  r.max_tokens = 128;
  r.temperature = 0;
  return r;
}

void BM_HttpLocalGenerate(benchmark::State& state) {
  auto e = open(int(state.range(0)));
  int64_t tokens = 0;
  for (auto _ : state) {
    SessionStats st;
    auto out = e->generate(request(), nullptr, nullptr, &st);
    CJ_ASSERT(out.ok());
    tokens += st.gen_tokens;
  }
  state.counters["tok/s"] = benchmark::Counter(double(tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HttpLocalGenerate)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

void BM_HttpRemoteGenerate(benchmark::State& state) {
  auto e = open(int(state.range(0)));
  ServerOptions so;
  so.port = 0;
  auto server = HttpServer::start(*e, so);
  CJ_ASSERT(server.ok());
  RemoteSettings rs;
  rs.url = (*server)->url();
  auto g = RemoteGenerator::open(rs);
  CJ_ASSERT(g.ok());
  int64_t tokens = 0;
  for (auto _ : state) {
    SessionStats st;
    auto out = (*g)->generate(request(), nullptr, nullptr, &st);
    CJ_ASSERT(out.ok());
    tokens += st.gen_tokens;
  }
  state.counters["tok/s"] = benchmark::Counter(double(tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HttpRemoteGenerate)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

}  // namespace
