// changjuan-cli kv-bench: time to first token of a long prompt from an empty KV cache (cold) and after an edit
// near its tail (warm: the unchanged prefix comes from the paged cache / prefix cache and only the edited tail is
// prefilled). Reports wall and process CPU time of both and their ratio, plus the KV tiers' budgets and peaks.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include <nlohmann/json.hpp>

#include "engine/backend.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

int run_kv_bench(const Args& a) {
  auto threads = a.get_int("threads", 1);
  auto n_prompt = a.get_int("prompt", 120000);
  auto n_edit = a.get_int("edit", 1000);
  auto host_mb = a.get_int("kv-host-mb", 0);
  for (const auto* r : {&threads, &n_prompt, &n_edit, &host_mb})
    if (!r->ok()) return fail(r->error());
  if (*n_prompt < 2 || *n_edit < 1 || *n_edit >= *n_prompt || *n_prompt > 1 << 20 || *host_mb < 0)
    return fail("--prompt must be 2..1048576 and --edit 1..prompt-1");
  auto model = Model::load(*a.get("model"));
  if (!model.ok()) return fail(model.error());
  const Model& m = **model;
  BackendOptions bo;
  bo.n_threads = int(*threads);
  bo.n_ctx = int(*n_prompt + 1);
  bo.n_batch = 256;
  bo.kv_host_bytes = size_t(*host_mb) << 20;
  bo.kv_disk = a.get_or("kv-disk", "");
  if (!kv_type_from_name(a.get_or("kv-type", "f16"), &bo.kv_type)) return fail("--kv-type must be f16, f32 or q8_0");
  auto be = make_cpu_backend(m, bo);
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
                      {"kv", {{"host_budget", ks.host_budget}, {"host_peak", ks.host_peak},
                              {"disk_budget", ks.disk_budget}, {"disk_peak", ks.disk_peak},
                              {"demoted", ks.demoted}, {"disk_reads", ks.disk_reads}}}};
  if (a.has("json")) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("cold TTFT %.1f ms (cpu %.1f), warm TTFT %.1f ms (cpu %.1f) after editing the last %d of %d tokens "
                "(%d reused): warm/cold = %.4f (cpu %.4f)\n",
                cold_ms, cold_cpu, warm_ms, warm_cpu, E, N, reused, warm_ms / cold_ms, warm_cpu / cold_cpu);
  }
  return 0;
}

Registrar reg({.name = "kv-bench",
               .summary = "cold vs warm time to first token of a long prompt edited at its tail (KV reuse)",
               .options = {{"model", "M", "GGUF model file", true},
                           {"prompt", "N", "prompt tokens (random; default 120000)"},
                           {"edit", "N", "tokens changed at the tail for the warm run (default 1000)"},
                           {"threads", "T", "threads (default 1)"},
                           {"kv-type", "T", "KV cache type f16|f32|q8_0 (default f16)"},
                           {"kv-host-mb", "MB", "KV host-RAM budget in MiB (default: the whole context)"},
                           {"kv-disk", "F", "KV spill file for blocks beyond the host budget"},
                           {"json", "", "print JSON"}},
               .run = run_kv_bench});

}  // namespace
}  // namespace cj::cli
