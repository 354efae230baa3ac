// changjuan-cli bench-context (alias kv-bench): time to first token of a long prompt from an empty KV cache
// (cold) and after an edit near its tail (warm: the unchanged prefix comes from the paged cache / prefix cache and
// only the edited tail is prefilled). Reports wall and process CPU time of both and their ratio, the reused
// tokens, and the KV tiers' budgets, peaks and bytes per tier.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "studio/cli/command.h"
#include "studio/cli/kv_options.h"

namespace cj::cli {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

// --prompt-tokens / --edit-tail, or their short spellings --prompt / --edit (not both).
Result<long long> int_opt(const Args& a, const char* name, const char* alias, long long def) {
  if (a.has(name) && a.has(alias)) return make_error(std::string("give --") + name + " or --" + alias + ", not both");
  return a.get_int(a.has(alias) ? alias : name, def);
}

int run_kv_bench(const Args& a) {
  auto threads = a.get_int("threads", 1, 1, 256);
  auto n_prompt = int_opt(a, "prompt-tokens", "prompt", 120000);
  auto n_edit = int_opt(a, "edit-tail", "edit", 1000);
  for (const auto* r : {&threads, &n_prompt, &n_edit})
    if (!r->ok()) return fail(r->error());
  if (*n_prompt < 2 || *n_edit < 1 || *n_edit >= *n_prompt || *n_prompt > 1 << 20)
    return fail("--prompt-tokens must be 2..1048576 and --edit-tail 1..prompt-tokens-1");
  auto ctx = a.get_int("ctx", *n_prompt + 1, 1, 1 << 24);
  if (!ctx.ok()) return fail(ctx.error());
  if (*ctx <= *n_prompt || *ctx > (1 << 20) + 1)
    return fail("--ctx must hold the prompt and the first token: more than --prompt-tokens (" +
                std::to_string(*n_prompt) + ")");
  auto model = Model::load(*a.get("model"));
  if (!model.ok()) return fail(model.error());
  const Model& m = **model;
  EngineOptions bo;
  bo.n_threads = int(*threads);
  bo.n_ctx = int(*ctx);
  bo.n_batch = 256;
  if (Status s = apply_kv_options(a, &bo); !s.ok()) return fail(s.error());
  auto be = open_sequence(m, bo);
  if (!be.ok()) return fail(be.error());
  const int V = m.config().n_vocab, N = int(*n_prompt), E = int(*n_edit);
  std::mt19937 rng(1);
  std::vector<TokenId> p(static_cast<size_t>(N));
  for (TokenId& t : p) t = TokenId(rng() % uint32_t(V));
  std::vector<float> logits(static_cast<size_t>(V));

  auto t0 = Clock::now();
  double c0 = cpu_ms();
  Status s = (*be)->eval(p.data(), N, logits.data(), 1);
  if (!s.ok()) return fail(s.error());
  const double cold_ms = ms_since(t0), cold_cpu = cpu_ms() - c0;

  for (int i = N - E; i < N; ++i) p[size_t(i)] = TokenId((p[size_t(i)] + 1 + rng() % uint32_t(V - 1)) % uint32_t(V));
  t0 = Clock::now();
  c0 = cpu_ms();
  const int reused = (*be)->reuse_prefix(p.data(), N);
  s = (*be)->eval(p.data() + reused, N - reused, logits.data(), 1);
  if (!s.ok()) return fail(s.error());
  const double warm_ms = ms_since(t0), warm_cpu = cpu_ms() - c0;

  const KVPoolStats ks = (*be)->kv_cache().pool().stats();
  nlohmann::json j = {{"prompt_tokens", N},          {"edit_tokens", E},
                      {"reused_tokens", reused},     {"cold_ttft_ms", cold_ms},
                      {"warm_ttft_ms", warm_ms},     {"ratio", warm_ms / cold_ms},
                      {"cold_cpu_ms", cold_cpu},     {"warm_cpu_ms", warm_cpu},
                      {"cpu_ratio", warm_cpu / cold_cpu}, {"threads", bo.n_threads},
                      {"kv_type", kv_type_name(bo.kv_type)},
                      {"ctx", bo.n_ctx},
                      {"kv", {{"host_budget", ks.host_budget}, {"host_peak", ks.host_peak},
                              {"disk_budget", ks.disk_budget}, {"disk_peak", ks.disk_peak},
                              {"demoted", ks.demoted}, {"disk_reads", ks.disk_reads}}},
                      // Peak bytes per tier (the CPU path has no device tier).
                      {"bytes_per_tier", {{"device", 0}, {"host", ks.host_peak}, {"disk", ks.disk_peak}}}};
  if (a.has("json")) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("cold TTFT %.1f ms (cpu %.1f), warm TTFT %.1f ms (cpu %.1f) after editing the last %d of %d tokens "
                "(%d reused): warm/cold = %.4f (cpu %.4f)\n",
                cold_ms, cold_cpu, warm_ms, warm_cpu, E, N, reused, warm_ms / cold_ms, warm_cpu / cold_cpu);
  }
  return 0;
}

Command bench_context_command(const char* name, const char* summary) {
  return {.name = name,
          .summary = summary,
          .options = with_kv_options({{"model", "M", "GGUF model file", true},
                                      {"ctx", "N", "context size in tokens (default: prompt-tokens + 1)"},
                                      {"prompt-tokens", "P", "prompt tokens (random; default 120000; also --prompt)"},
                                      {"prompt", "P", "same as --prompt-tokens"},
                                      {"edit-tail", "E", "tokens changed at the tail for the warm run (default 1000; also --edit)"},
                                      {"edit", "E", "same as --edit-tail"},
                                      {"threads", "T", "threads (default 1)"},
                                      {"json", "", "print JSON"}}),
          .run = run_kv_bench};
}
Registrar reg(bench_context_command(
    "bench-context", "cold vs warm time to first token of a long prompt edited at its tail (KV reuse)"));
Registrar reg_alias(bench_context_command("kv-bench", "same as bench-context"));

}  // namespace
}  // namespace cj::cli
