// changjuan-cli bench: prefill and decode speed of a model on the CPU, with the bytes each decoded token reads
// and the machine's memory read bandwidth measured in the same run, so the decode speed can be judged against
// the hardware's limit (bandwidth_utilization: the median over repeats of bytes_per_token * decode_tok_s /
// the bandwidth measured right after that repeat's decode).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/backend.h"
#include "engine/membw.h"
#include "engine/thread_pool.h"
#include "studio/cli/command.h"
#include "studio/cli/kv_options.h"

namespace cj::cli {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
}

int run_bench(const Args& a) {
  auto threads = a.get_int("threads", 1, 1, 256);
  auto n_prompt = a.get_int("prompt", 128, 0, 1 << 23);
  auto n_gen = a.get_int("gen", 64, 0, 1 << 23);
  auto reps = a.get_int("repeats", 3);
  for (const auto* r : {&threads, &n_prompt, &n_gen, &reps})
    if (!r->ok()) return fail(r->error());
  if (*n_prompt < 1 || *n_gen < 1 || *reps < 1 || *n_prompt + *n_gen > 1 << 20)
    return fail("--prompt, --gen and --repeats must be positive");
  auto model = Model::load(*a.get("model"));
  if (!model.ok()) return fail(model.error());
  const Model& m = **model;
  BackendOptions bo;
  bo.n_threads = int(*threads);
  bo.n_ctx = int(*n_prompt + *n_gen);
  bo.n_batch = int(std::min<long long>(*n_prompt, 512));
  if (Status s = apply_kv_options(a, &bo); !s.ok()) return fail(s.error());
  auto be_r = make_cpu_backend(m, bo);
  if (!be_r.ok()) return fail(be_r.error());
  Backend& be = **be_r;
  const int V = m.config().n_vocab;
  std::mt19937 rng(42);
  std::vector<TokenId> prompt(static_cast<size_t>(*n_prompt));
  for (auto& t : prompt) t = TokenId(rng() % uint32_t(V));
  std::vector<float> logits(static_cast<size_t>(V));

  // Warm-up: touch every weight page once.
  TokenId t0 = prompt[0];
  if (Status s = be.eval(&t0, 1, logits.data(), 1); !s.ok()) return fail(s.error());
  // The read bandwidth is measured after each repeat's decode, on a pool of the same size (the backend's workers
  // sleep by then), so that every decode is compared with the machine as it was at that moment: on a shared
  // machine both swing by tens of percent within a minute. Utilization is the median of the per-repeat ratios.
  const bool measure_bw = !a.has("no-bandwidth");
  std::unique_ptr<ThreadPool> bw_pool = measure_bw ? std::make_unique<ThreadPool>(bo.n_threads) : nullptr;
  std::vector<double> pre, dec, bws, utils;
  size_t kv_bytes_sum = 0;
  for (long long r = 0; r < *reps; ++r) {
    be.truncate(0);
    auto t = Clock::now();
    if (Status s = be.eval(prompt.data(), int(prompt.size()), logits.data(), 1); !s.ok()) return fail(s.error());
    pre.push_back(double(prompt.size()) / seconds_since(t));
    TokenId next = TokenId(std::max_element(logits.begin(), logits.end()) - logits.begin());
    kv_bytes_sum = 0;
    t = Clock::now();
    for (long long i = 0; i < *n_gen; ++i) {
      kv_bytes_sum += be.kv_bytes_per_token();
      if (Status s = be.eval(&next, 1, logits.data(), 1); !s.ok()) return fail(s.error());
      next = TokenId(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    dec.push_back(double(*n_gen) / seconds_since(t));
    if (measure_bw) {
      const double bytes = double(m.weight_bytes_per_token()) + double(kv_bytes_sum) / double(*n_gen);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the backend's workers stop spinning
      bws.push_back(measure_read_bandwidth_gbs(bw_pool.get()));
      utils.push_back(bytes * dec.back() / 1e9 / bws.back());
    }
  }
  const double prefill = median(pre), decode = median(dec);
  const double bytes_per_token = double(m.weight_bytes_per_token()) + double(kv_bytes_sum) / double(*n_gen);
  const double bw = measure_bw ? median(bws) : 0, util = measure_bw ? median(utils) : 0;
  const double decode_gbs = bytes_per_token * decode / 1e9;
  nlohmann::json j = {{"model", *a.get("model")},
                      {"describe", m.describe()},
                      {"threads", bo.n_threads},
                      {"prompt", *n_prompt},
                      {"gen", *n_gen},
                      {"repeats", *reps},
                      {"kv_type", kv_type_name(bo.kv_type)},
                      {"prefill_tok_s", prefill},
                      {"decode_tok_s", decode},
                      {"prefill_tok_s_all", pre},
                      {"decode_tok_s_all", dec},
                      {"bytes_per_token", bytes_per_token},
                      {"decode_gbs", decode_gbs},
                      {"bandwidth_gbs", bw > 0 ? nlohmann::json(bw) : nlohmann::json(nullptr)},
                      {"bandwidth_gbs_all", bws},
                      {"bandwidth_utilization", bw > 0 ? nlohmann::json(util) : nlohmann::json(nullptr)},
                      {"bandwidth_utilization_all", utils}};
  if (a.has("json")) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s\nprefill %.1f tok/s, decode %.1f tok/s, %.1f MB/token, %.1f GB/s of %.1f GB/s measured (%.0f%%)\n",
                m.describe().c_str(), prefill, decode, bytes_per_token / 1e6, decode_gbs, bw, 100 * util);
  }
  return 0;
}

Registrar reg({.name = "bench",
               .summary = "measure prefill and decode speed and memory-bandwidth utilization on the CPU",
               .options = with_kv_options({{"model", "M", "GGUF model file", true},
                           {"threads", "T", "threads (default 1)"},
                           {"prompt", "P", "prompt tokens (default 128)"},
                           {"gen", "G", "decoded tokens (default 64)"},
                           {"repeats", "R", "repeats; medians are reported (default 3)"},
                           {"no-bandwidth", "", "skip the bandwidth measurement (bandwidth fields null)"},
                           {"json", "", "print one JSON object"}}),
               .run = run_bench});

}  // namespace
}  // namespace cj::cli
