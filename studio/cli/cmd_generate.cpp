// changjuan-cli generate: continue a prompt with a GGUF model on the CPU, streaming the text to stdout.
#include <csignal>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/base/file.h"
#include "engine/generate.h"
#include "engine/kv/kv_session.h"
#include "studio/cli/command.h"
#include "studio/cli/kv_options.h"

namespace cj::cli {
namespace {

long peak_rss_kb() {  // VmHWM from /proc/self/status
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

std::atomic<bool> g_cancel{false};
void on_sigint(int) { g_cancel.store(true); }

int run_generate(const Args& a) {
  // `-n N` (single dash, as in the documented usage) arrives as two positionals; --n-predict is the long form.
  long long n_predict = 128;
  const auto& pos = a.positionals();
  if (!pos.empty()) {
    if (pos.size() != 2 || pos[0] != "-n") return fail("unexpected argument '" + pos[0] + "'");
    try {
      n_predict = std::stoll(pos[1]);
    } catch (...) {
      return fail("-n expects an integer, got '" + pos[1] + "'");
    }
  }
  auto np = a.get_int("n-predict", n_predict);
  if (!np.ok()) return fail(np.error());
  n_predict = *np;
  if (n_predict < 0 || n_predict > 1 << 24) return fail("-n is out of range");

  std::string prompt;
  if (auto f = a.get("prompt-file")) {
    auto t = read_file(*f);
    if (!t.ok()) return fail(t.error());
    prompt = std::move(t.value());
  } else {
    prompt = a.get_or("prompt", "");
  }
  auto threads = a.get_int("threads", 1, 1, 256);
  auto ctx = a.get_int("ctx", 4096, 1, 1 << 24);
  auto temp = a.get_double("temp", 0.8);
  auto seed = a.get_int("seed", 0);
  auto top_k = a.get_int("top-k", 40, 0, 1 << 24);
  auto top_p = a.get_double("top-p", 0.95);
  auto min_p = a.get_double("min-p", 0.05);
  auto rep = a.get_double("repeat-penalty", 1.0);
  auto rep_n = a.get_int("repeat-last-n", 64, 0, 1 << 24);
  auto pres = a.get_double("presence-penalty", 0.0);
  auto freq = a.get_double("frequency-penalty", 0.0);
  for (const auto* r : {&threads, &ctx, &seed, &top_k, &rep_n})
    if (!r->ok()) return fail(r->error());
  for (const auto* r : {&temp, &top_p, &min_p, &rep, &pres, &freq})
    if (!r->ok()) return fail(r->error());
  EngineOptions bo;
  bo.n_threads = int(*threads);
  bo.n_ctx = int(*ctx);
  if (Status s = apply_kv_options(a, &bo); !s.ok()) return fail(s.error());

  auto model = Model::load(*a.get("model"));
  if (!model.ok()) return fail(model.error());
  const Tokenizer* tok = (*model)->tokenizer();
  if (!tok) return fail(*a.get("model") + ": no usable tokenizer in the model (" + (*model)->tokenizer_error() + ")");
  auto be = open_sequence(**model, bo);
  if (!be.ok()) return fail(be.error());

  GenerateParams gp;
  gp.n_predict = int(n_predict);
  gp.sampling.temperature = float(*temp);
  gp.sampling.seed = uint64_t(*seed);
  gp.sampling.top_k = int(*top_k);
  gp.sampling.top_p = float(*top_p);
  gp.sampling.min_p = float(*min_p);
  gp.sampling.repeat_penalty = float(*rep);
  gp.sampling.repeat_last_n = int(*rep_n);
  gp.sampling.presence_penalty = float(*pres);
  gp.sampling.frequency_penalty = float(*freq);
  if (auto s = a.get("stop")) gp.stop.push_back(*s);

  std::vector<TokenId> ids = tokenize_prompt(*tok, prompt, a.has("chat"));
  // --load-session: the snapshot's tokens that the prompt starts with are not evaluated again.
  int reused = 0;
  const uint64_t tok_hash = (a.has("load-session") || a.has("save-session")) ? tokenizer_fingerprint(*tok) : 0;
  if (auto f = a.get("load-session")) {
    Status ls = load_kv_session(*f, (*be)->kv_cache(), tok_hash);
    if (!ls.ok()) return fail(ls.error());
    reused = (*be)->reuse_prefix(ids.data(), int(ids.size()));
    std::fprintf(stderr, "session: %d of %d prompt tokens reused\n", reused, int(ids.size()));
    ids.erase(ids.begin(), ids.begin() + reused);
  }
  std::signal(SIGINT, on_sigint);
  auto st = generate(**be, *tok, ids, gp, [](std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  }, &g_cancel);
  std::signal(SIGINT, SIG_DFL);
  if (!st.ok()) return fail(st.error());
  std::fputc('\n', stdout);
  if (auto f = a.get("save-session")) {
    Status ss = save_kv_session(*f, (*be)->kv_cache(), tok_hash);
    if (!ss.ok()) return fail(ss.error());
  }
  if (auto f = a.get("stats-json")) {
    nlohmann::json j = {{"prompt_tokens", st->prompt_tokens}, {"gen_tokens", st->gen_tokens},
                        {"ttft_ms", st->ttft_ms},             {"prefill_tok_s", st->prefill_tok_s},
                        {"decode_tok_s", st->decode_tok_s},   {"stop_reason", st->stop_reason},
                        {"threads", bo.n_threads}, {"reused_tokens", reused}};
    const KVPoolStats ks = (*be)->kv_cache().pool().stats();
    j["kv"] = {{"type", kv_type_name(bo.kv_type)},      {"host_budget", ks.host_budget},
               {"host_peak", ks.host_peak},             {"disk_budget", ks.disk_budget},
               {"disk_peak", ks.disk_peak},             {"demoted", ks.demoted},
               {"disk_reads", ks.disk_reads},           {"meta_bytes", ks.meta_bytes}};
    j["rss_peak_kb"] = peak_rss_kb();
    Status w = write_file_atomic(*f, j.dump(2) + "\n");
    if (!w.ok()) return fail(w.error());
  }
  return 0;
}

Registrar reg({.name = "generate",
               .summary = "generate text from a prompt with a GGUF model (CPU)",
               .options = with_kv_options({{"model", "M", "GGUF model file", true},
                           {"prompt-file", "F", "UTF-8 prompt file"},
                           {"prompt", "TEXT", "prompt text (instead of --prompt-file)"},
                           {"chat", "", "wrap the prompt as a ChatML user turn"},
                           {"n-predict", "N", "tokens to generate (also -n N; default 128)"},
                           {"temp", "T", "temperature, 0 = greedy (default 0.8)"},
                           {"top-k", "K", "default 40 (0 = off)"},
                           {"top-p", "P", "default 0.95 (1 = off)"},
                           {"min-p", "P", "default 0.05 (0 = off)"},
                           {"repeat-penalty", "X", "default 1 (off)"},
                           {"repeat-last-n", "N", "penalty window (default 64)"},
                           {"presence-penalty", "X", "default 0"},
                           {"frequency-penalty", "X", "default 0"},
                           {"stop", "S", "stop string"},
                           {"seed", "S", "sampling seed (default 0)"},
                           {"threads", "T", "threads (default 1)"},
                           {"ctx", "N", "context size in tokens (default 4096)"},
                           {"save-session", "F", "write the KV cache (prompt + output) to F afterwards"},
                           {"load-session", "F", "start from the KV snapshot F (its matching prefix is not prefilled)"},
                           {"stats-json", "F", "write prompt_tokens, gen_tokens, ttft_ms, prefill_tok_s, decode_tok_s"}}),
               .max_positionals = 2,
               .positional_help = "[-n N]",
               .run = run_generate});

}  // namespace
}  // namespace cj::cli
