// changjuan-cli bench: prefill and decode speed of a model on the CPU (N sequences decoded in one batch per step
// with --sequences N: aggregate_decode_tok_s), with the bytes each decode step reads
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

#include "engine/cpu/attention_flash.h"
#include "engine/engine.h"
#include "engine/cpu/membw.h"
#ifdef CHANGJUAN_HAVE_CUDA
#include "engine/cuda/kernels.h"
#endif
#include "engine/cpu/thread_pool.h"
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

// Fills positions [0, n) of every layer of a sequence with random keys and values (--depth-fill random): a context
// of the given depth in seconds instead of an hour of prefill, for decode-speed measurements at 128k tokens. The
// keys are normal(0, 1) per channel; page selection still reads and scores all of them.
Status fill_random(const Model& m, Sequence& seq, int n, std::mt19937& rng) {
  const ModelConfig& c = m.config();
  KVCache& kv = seq.kv_cache();
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> k(static_cast<size_t>(c.kv_dim())), v(static_cast<size_t>(c.v_dim()));
  std::vector<int32_t> toks(KVCache::kBlockTokens);
  for (int p0 = 0; p0 < n; p0 += KVCache::kBlockTokens) {
    const int cnt = std::min(KVCache::kBlockTokens, n - p0);
    CJ_TRY(kv.prepare(p0, cnt));
    for (int p = p0; p < p0 + cnt; ++p)
      for (int l = 0; l < c.n_layers; ++l) {
        for (float& x : k) x = nd(rng);
        for (float& x : v) x = nd(rng);
        kv.store(l, p, k.data(), v.data());
      }
    for (int i = 0; i < cnt; ++i) toks[size_t(i)] = TokenId(rng() % uint32_t(c.n_vocab));
    kv.commit(p0, toks.data(), cnt);
  }
  return {};
}

int run_bench(const Args& a) {
  auto threads = a.get_int("threads", 1, 1, 256);
  // --depth D: the prompt is D tokens (prefill of D measured), then decode at depth D (llama-bench -p D / -d D).
  if (a.has("depth") && a.has("prompt")) return fail("give --depth or --prompt, not both");
  auto n_prompt = a.get_int(a.has("depth") ? "depth" : "prompt", 128, 0, 1 << 23);
  auto n_gen = a.get_int("gen", 64, 0, 1 << 23);
  auto reps = a.get_int("repeats", 3);
  auto n_seq = a.get_int("sequences", 1);
  auto n_shared = a.get_int("shared-prefix", 0);
  for (const auto* r : {&threads, &n_prompt, &n_gen, &reps, &n_seq, &n_shared})
    if (!r->ok()) return fail(r->error());
  if (*n_prompt < 1 || *n_gen < 1 || *reps < 1 || *n_prompt + *n_gen > 1 << 20)
    return fail("--prompt/--depth, --gen and --repeats must be positive (and their sum at most 1048576)");
  const std::string fill = a.get_or("depth-fill", "prefill");
  if (fill != "prefill" && fill != "random") return fail("--depth-fill must be prefill or random");
  const bool random_fill = fill == "random";
  if (*n_seq < 1 || *n_seq > 256) return fail("--sequences must be between 1 and 256");
  if (*n_shared < 0 || *n_shared > *n_prompt) return fail("--shared-prefix must be between 0 and --prompt");
  auto model = Model::load(*a.get("model"));
  if (!model.ok()) return fail(model.error());
  const Model& m = **model;
  const int N = int(*n_seq);
  EngineOptions eo;
  eo.n_threads = int(*threads);
  eo.n_ctx = int(*n_prompt + *n_gen);
  eo.n_batch = int(std::min<long long>(*n_prompt, 512));
  eo.max_sequences = N;
  if (Status s = apply_kv_options(a, &eo); !s.ok()) return fail(s.error());
  auto eng = Engine::create(m, eo);
  if (!eng.ok()) return fail(eng.error());
  Engine& engine = **eng;
  std::vector<std::unique_ptr<Sequence>> seqs;
  for (int i = 0; i < N; ++i) {
    auto s = engine.new_sequence();
    if (!s.ok()) return fail(s.error());
    seqs.push_back(std::move(s.value()));
  }
  const int V = m.config().n_vocab;
  // Random prompts; with --shared-prefix K every sequence starts with the same K tokens (the prefix cache then
  // holds their KV once: sequences after the first attach its full blocks instead of prefilling them).
  std::mt19937 rng(42);
  std::vector<std::vector<TokenId>> prompts(static_cast<size_t>(N), std::vector<TokenId>(static_cast<size_t>(*n_prompt)));
  for (auto& t : prompts[0]) t = TokenId(rng() % uint32_t(V));
  for (int i = 1; i < N; ++i)
    for (long long j = 0; j < *n_prompt; ++j) prompts[size_t(i)][size_t(j)] = j < *n_shared ? prompts[0][size_t(j)] : TokenId(rng() % uint32_t(V));
  std::vector<float> logits(size_t(N) * size_t(V));  // [N, V]: one decode step's logits, adjacent rows

  // Warm-up: touch every weight page once.
  TokenId t0 = prompts[0][0];
  if (Status s = seqs[0]->eval(&t0, 1, logits.data(), 1); !s.ok()) return fail(s.error());
  // The read bandwidth is measured after each repeat's decode, on a pool of the same size (the backend's workers
  // sleep by then), so that every decode is compared with the machine as it was at that moment: on a shared
  // machine both swing by tens of percent within a minute. Utilization is the median of the per-repeat ratios.
  const bool measure_bw = !a.has("no-bandwidth");
  std::unique_ptr<ThreadPool> bw_pool = measure_bw ? std::make_unique<ThreadPool>(eo.n_threads) : nullptr;
  std::vector<double> pre, pre_all, dec, agg, bws, utils;
  size_t kv_bytes_sum = 0;
  int reused = 0;
  KVPoolStats kv_after;
  std::vector<SeqTokens> step(static_cast<size_t>(N));
  std::vector<TokenId> next(static_cast<size_t>(N));
  for (long long r = 0; r < *reps; ++r) {
    for (auto& s : seqs) s->truncate(0);
    // Prefill: one sequence after another (the first one's time is today's single-sequence prefill).
    auto t = Clock::now();
    reused = 0;
    for (int i = 0; i < N; ++i) {
      auto ti = Clock::now();
      const std::vector<TokenId>& p = prompts[size_t(i)];
      int k = i > 0 && *n_shared > 0 ? seqs[size_t(i)]->reuse_prefix(p.data(), int(p.size())) : 0;
      if (random_fill) {  // all but the last prompt token written directly; the last one is evaluated for logits
        if (Status s = fill_random(m, *seqs[size_t(i)], int(p.size()) - 1, rng); !s.ok()) return fail(s.error());
        k = int(p.size()) - 1;
      }
      reused += random_fill ? 0 : k;
      if (Status s = seqs[size_t(i)]->eval(p.data() + k, int(p.size()) - k, logits.data() + size_t(i) * V, 1); !s.ok())
        return fail(s.error());
      if (i == 0 && !random_fill) pre.push_back(double(p.size()) / seconds_since(ti));
      next[size_t(i)] = TokenId(std::max_element(logits.begin() + long(i) * V, logits.begin() + long(i + 1) * V) -
                                (logits.begin() + long(i) * V));
    }
    pre_all.push_back(double(N) * double(*n_prompt) / seconds_since(t));
    // Decode: every step is one batch of N tokens (one per sequence), greedy.
    kv_bytes_sum = 0;
    t = Clock::now();
    for (long long g = 0; g < *n_gen; ++g) {
      for (int i = 0; i < N; ++i) {
        kv_bytes_sum += seqs[size_t(i)]->kv_bytes_per_token();
        step[size_t(i)] = SeqTokens{seqs[size_t(i)].get(), &next[size_t(i)], 1, 1, logits.data() + size_t(i) * V};
      }
      if (Status s = engine.eval(step.data(), N); !s.ok()) return fail(s.error());
      for (int i = 0; i < N; ++i)
        next[size_t(i)] = TokenId(std::max_element(logits.begin() + long(i) * V, logits.begin() + long(i + 1) * V) -
                                  (logits.begin() + long(i) * V));
    }
    const double el = seconds_since(t);
    dec.push_back(double(*n_gen) / el);
    agg.push_back(double(N) * double(*n_gen) / el);
    kv_after = engine.pool().stats();
    if (measure_bw) {
      // Bytes one decode step reads: the weights once, every sequence's KV.
      const double bytes = double(m.weight_bytes_per_token()) + double(kv_bytes_sum) / double(*n_gen);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the backend's workers stop spinning
      if (eo.backend == "cuda") {
        // On the GPU the limit is the device's memory: a read kernel over 2 GiB, timed with events.
#ifdef CHANGJUAN_HAVE_CUDA
        std::string why;
        const double gbs = cuda::device_read_bandwidth_gbs(size_t(2) << 30, 5, &why);
        if (gbs <= 0) return fail("measuring the device bandwidth failed: " + why);
        bws.push_back(gbs);
#endif
      } else {
        bws.push_back(measure_read_bandwidth_gbs(bw_pool.get()));
      }
      utils.push_back(bytes * dec.back() / 1e9 / bws.back());
    }
  }
  const double prefill = median(pre), decode = median(dec), aggregate = median(agg), prefill_all = median(pre_all);
  const double kv_bytes_step = double(kv_bytes_sum) / double(*n_gen);
  const double bytes_per_step = double(m.weight_bytes_per_token()) + kv_bytes_step;
  const double bytes_per_token = bytes_per_step / double(N);
  const double bw = measure_bw ? median(bws) : 0, util = measure_bw ? median(utils) : 0;
  const double decode_gbs = bytes_per_step * decode / 1e9;
  nlohmann::json kv = {{"page_bytes", kv_after.page_bytes},
                       {"bytes_per_tier", {{"host", kv_after.host_used}, {"disk", kv_after.disk_used}}},
                       {"peak_per_tier", {{"host", kv_after.host_peak}, {"disk", kv_after.disk_peak}}},
                       {"cached_blocks", kv_after.cached_blocks},
                       {"demoted", kv_after.demoted},
                       {"shared_prefix_tokens", *n_shared},
                       {"reused_prefix_tokens", reused}};
  nlohmann::json j = {{"model", *a.get("model")},
                      {"describe", m.describe()},
                      {"threads", eo.n_threads},
                      {"prompt", *n_prompt},
                      {"depth", *n_prompt},
                      {"depth_fill", fill},
                      {"kv_select", describe_kv_select(eo.kv_select)},
                      {"attention", flash_isa_name(flash_isa())},
                      {"gen", *n_gen},
                      {"repeats", *reps},
                      {"sequences", N},
                      {"kv_type", kv_type_name(eo.kv_type)},
                      {"prefill_tok_s", random_fill ? nlohmann::json(nullptr) : nlohmann::json(prefill)},
                      {"decode_tok_s", decode},
                      {"aggregate_decode_tok_s", aggregate},
                      {"aggregate_prefill_tok_s", prefill_all},
                      {"prefill_tok_s_all", pre},
                      {"decode_tok_s_all", dec},
                      {"aggregate_decode_tok_s_all", agg},
                      {"bytes_per_token", bytes_per_token},
                      {"bytes_per_step", bytes_per_step},
                      {"weight_bytes_per_token", double(m.weight_bytes_per_token())},
                      {"kv_bytes_per_token", kv_bytes_step / double(N)},
                      {"decode_gbs", decode_gbs},
                      {"bandwidth_gbs", bw > 0 ? nlohmann::json(bw) : nlohmann::json(nullptr)},
                      {"bandwidth_gbs_all", bws},
                      {"bandwidth_utilization", bw > 0 ? nlohmann::json(util) : nlohmann::json(nullptr)},
                      {"bandwidth_utilization_all", utils},
                      {"kv", kv}};
  if (a.has("json")) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s\nprefill %.1f tok/s (%lld tokens%s), decode %.1f tok/s at depth %lld", m.describe().c_str(),
                random_fill ? 0.0 : prefill, static_cast<long long>(*n_prompt),
                random_fill ? ", not measured: --depth-fill random" : "", decode, static_cast<long long>(*n_prompt));
    if (N > 1) std::printf(" per sequence, %.1f tok/s over %d sequences", aggregate, N);
    std::printf(", %.1f MB/step (weights %.1f + KV %.1f), %.1f GB/s of %.1f GB/s measured (%.0f%%)\nKV: %.1f MiB on the "
                "host, %.1f MiB on disk\n",
                bytes_per_step / 1e6, double(m.weight_bytes_per_token()) / 1e6, kv_bytes_step / 1e6, decode_gbs, bw, 100 * util, double(kv_after.host_used) / (1 << 20),
                double(kv_after.disk_used) / (1 << 20));
  }
  return 0;
}

Registrar reg({.name = "bench",
               .summary = "measure prefill and decode speed and memory-bandwidth utilization on the CPU",
               .options = with_kv_options({{"model", "M", "GGUF model file", true},
                           {"threads", "T", "threads (default 1)"},
                           {"prompt", "P", "prompt tokens (default 128)"},
                           {"depth", "D", "context depth: prefill of D tokens, then decode at depth D"},
                           {"depth-fill", "F", "prefill (default) or random: write random keys/values for the "
                                               "depth instead of prefilling (decode speed only)"},
                           {"gen", "G", "decoded tokens (default 64)"},
                           {"repeats", "R", "repeats; medians are reported (default 3)"},
                           {"sequences", "N", "decode N sequences in one batch per step (default 1)"},
                           {"shared-prefix", "K", "the N prompts share their first K tokens (prefix cache)"},
                           {"no-bandwidth", "", "skip the bandwidth measurement (bandwidth fields null)"},
                           {"json", "", "print one JSON object"}}),
               .run = run_bench});

}  // namespace
}  // namespace cj::cli
