// Shared by the studio subcommands (draft, continue, rewrite, jobs resume): engine options, signal handling
// (SIGINT/SIGTERM stop the running job cleanly at the next token, with its text checkpointed), and running
// one job in this process with progress on stderr.
#pragma once
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <string>

#include "storage/jobs.h"
#include "studio/args.h"
#include "studio/cli/chapter_options.h"
#include "studio/cli/command.h"
#include "studio/cli/kv_options.h"
#include "studio/engine_session.h"
#include "studio/remote_generator.h"
#include "studio/job_queue.h"
#include "storage/books.h"
#include "storage/database.h"
#include <nlohmann/json.hpp>

namespace cj::cli::studio_cli {

inline std::vector<OptSpec> engine_options() {
  std::vector<OptSpec> o = {{"model", "M", "GGUF model file (or --remote)"},
          {"remote", "URL", "OpenAI-compatible server instead of --model (vLLM, SGLang, llama-server, serve)"},
          {"remote-model", "NAME", "the server's model id (default: the first in its /v1/models)"},
          {"api-key-env", "VAR", "send the API key in environment variable VAR (remote)"},
          {"backend", "B", "cpu|cuda: where the local model runs (default cpu)"},
          {"threads", "T", "threads (default 2)"},
          {"ctx", "N", "context size in tokens (default: what this machine holds, up to the model's trained "
                       "length; remote: the server's window, default 8192)"},
          {"temp", "T", "temperature (default 0.8; 0 = greedy)"},
          {"seed", "S", "sampling seed (default: a fresh one each run, printed and stored with the revision)"},
          {"chat", "", "wrap prompts as a ChatML user turn (instruction-tuned models; --remote: always)"},
          {"prompt-style", "S",
           "instruct (default: Chinese instructions) or plain (base models: context + text only; --remote: raw "
           "text to /v1/completions)"},
          {"checkpoint-every", "N", "checkpoint the text every N pieces (default 32)"},
          {"step-tokens", "N",
           "tokens per engine step when several requests run: every running decode, then prompt chunks up to N "
           "(default 256)"}};
  for (auto& k : engine_kv_option_specs()) o.push_back(std::move(k));
  return o;
}

// The studio's one engine configuration (studio/engine_config.h) from the command line: the same struct that
// settings.json and the GUI fill. default_ctx 0 = what the machine holds, up to the model's trained length.
inline Result<studio::EngineSettings> engine_settings(const Args& a, int default_ctx = 0) {
  studio::EngineSettings s;
  s.model_path = a.get_or("model", "");
  CJ_TRY(apply_kv_options(a, &s));
  auto threads = a.get_int("threads", 2, 1, 256);
  auto ctx = a.get_int("ctx", default_ctx, 0, 1 << 24);  // 0: what the machine holds
  auto temp = a.get_double("temp", 0.8);
  if (!threads.ok()) return make_error(threads.error());
  if (!ctx.ok()) return make_error(ctx.error());
  if (!temp.ok()) return make_error(temp.error());
  s.threads = int(*threads);
  s.ctx = int(*ctx);
  s.sampling.temperature = float(*temp);
  s.chat = a.has("chat");
  auto parallel = a.get_int("parallel", 1);  // commands that offer --parallel (draft)
  if (!parallel.ok()) return make_error(parallel.error());
  s.parallel = int(*parallel);
  auto step = a.get_int("step-tokens", 0, 0, 256);
  if (!step.ok()) return make_error(step.error());
  s.step_tokens = int(*step);
  s.backend = a.get_or("backend", "cpu");
  CJ_TRY(studio::validate(s));
  return s;
}

// --model M (local engine) or --remote URL [--remote-model NAME] [--api-key-env VAR] (an OpenAI-compatible
// server), with the shared options; the model is loaded / the server asked for its models here.
inline Result<std::unique_ptr<studio::Generator>> open_generator(const Args& a, int default_ctx = 0) {
  if (a.has("remote")) {
    if (a.has("model")) return make_error("give either --model (local) or --remote (a server), not both");
    studio::RemoteSettings r;
    r.url = a.get_or("remote", "");
    r.model = a.get_or("remote-model", "");
    if (a.has("api-key-env")) {
      std::string var = a.get_or("api-key-env", "");
      const char* key = std::getenv(var.c_str());
      if (!key || !*key) return make_error("--api-key-env " + var + ": that environment variable is not set");
      r.api_key = key;
    }
    auto ctx = a.get_int("ctx", default_ctx > 0 ? default_ctx : 8192, 1, 1 << 24);
    auto temp = a.get_double("temp", 0.8);
    if (!ctx.ok()) return make_error(ctx.error());
    if (!temp.ok()) return make_error(temp.error());
    r.ctx = int(*ctx);
    r.temperature = float(*temp);
    r.chat = a.get_or("prompt-style", "instruct") != "plain";
    auto g = studio::RemoteGenerator::open(r);
    if (!g.ok()) return make_error(g.error());
    return std::unique_ptr<studio::Generator>(std::move(g.value()));
  }
  if (a.has("remote-model") || a.has("api-key-env")) return make_error("--remote-model and --api-key-env need --remote URL");
  if (!a.has("model")) return make_error("no model: give --model FILE (local) or --remote URL (an OpenAI-compatible server)");
  auto s = engine_settings(a, default_ctx);
  if (!s.ok()) return make_error(s.error());
  auto e = studio::EngineSession::open(*s);
  if (!e.ok()) return make_error(e.error());
  return std::unique_ptr<studio::Generator>(std::move(e.value()));
}

inline std::atomic<bool> g_stop{false};
inline std::atomic<int> g_why{0};
inline void on_signal(int) {
  g_why.store(int(studio::StopRequest::kShutdown));
  g_stop.store(true);
}
inline void install_signals() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

// Claims the job and runs it here (studio::run_job). Progress goes to stderr at most once a second; pieces go to
// `echo` (stdout) when set.
inline studio::RunOutcome run_here(storage::Database& db, studio::Generator& engine, int64_t job_id,
                                   const std::string& label, int checkpoint_every, bool echo) {
  storage::Jobs jobs(db);
  // Claimed under this process's lease: a job another live process runs (the GUI, another draft) is refused.
  auto job = jobs.claim(job_id);
  if (!job.ok()) return {"failed", {}, job.error()};
  auto t0 = std::chrono::steady_clock::now();
  auto last = t0;
  double f0 = job->progress;
  const bool tty = isatty(2);
  auto on_progress = [&](std::string_view piece, const studio::WorkflowProgress& pr) {
    if (echo) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(1)) return;
    last = now;
    double el = std::chrono::duration<double>(now - t0).count();
    double rate = (pr.fraction - f0) / std::max(el, 1e-9);
    std::string eta = rate > 0 ? std::to_string(int((1 - pr.fraction) / rate)) + "s" : "?";
    std::fprintf(stderr, "%s%s: %lld 字 %3d%% %.1f tok/s ETA %s%s", tty ? "\r" : "", label.c_str(),
                 static_cast<long long>(pr.chars), int(pr.fraction * 100), pr.tokens / std::max(el, 1e-9),
                 eta.c_str(), tty ? "   " : "\n");
  };
  auto out = studio::run_job(db, engine, *job, g_stop, g_why, checkpoint_every, on_progress);
  if (tty) std::fputc('\n', stderr);
  return out;
}

inline std::vector<OptSpec> with_engine(std::vector<OptSpec> o) {
  for (auto& e : engine_options()) o.push_back(e);
  return o;
}

// Runs one workflow (p.kind set; book, chapter, tokens, seed from the options) as a job in this process.
inline int run_workflow_cmd(const Args& a, studio::WorkflowParams p) {
  auto book = a.get_int("book", 0);
  auto tokens = a.get_int("tokens", 256, 1, 1 << 24);
  auto every = a.get_int("checkpoint-every", 32, 1, 1 << 20);
  auto seed = a.get_int("seed", 0);
  for (const auto* r : {&book, &tokens, &every, &seed})
    if (!r->ok()) return fail(r->error());
  if (*seed < 0) return fail("--seed must be 0 or more");
  auto temp = a.get_double("temp", 0.8);
  if (!temp.ok()) return fail(temp.error());
  p.book_id = *book;
  p.max_tokens = int(*tokens);
  p.temperature = float(*temp);
  p.seed = a.has("seed") ? uint64_t(*seed) : studio::fresh_seed();  // kept in the job and the revision
  p.prompt_style = a.get_or("prompt-style", "instruct");

  auto dbr = storage::Database::open(*a.get("db"), {.create = false});
  if (!dbr.ok()) return fail(dbr.error());
  storage::Database& db = **dbr;
  if (auto b = storage::Books(db).get(p.book_id); !b.ok()) return fail(b.error());
  // --chapter as the book numbers it (chapter_options.h).
  auto numbering = storage::ChapterNumbering::load(db, p.book_id);
  if (!numbering.ok()) return fail(numbering.error());
  auto ch = chapter_option(*numbering, a, "chapter");
  if (!ch.ok()) return fail(ch.error());
  p.ordinal = ch->value_or(1);
  auto valid = studio::params_from_json(studio::to_json(p));
  if (!valid.ok()) return fail(valid.error());
  auto engine = open_generator(a);
  if (!engine.ok()) return fail(engine.error());
  auto id = storage::Jobs(db).create(studio::job_kind(p), studio::to_json(p).dump(), p.book_id);
  if (!id.ok()) return fail(id.error());
  install_signals();
  bool json = a.has("json");
  auto out = run_here(db, **engine, *id, p.kind + " " + numbering->label(p.ordinal), int(*every), !json);
  if (!json) std::fputc('\n', stdout);
  const auto& r = out.result;
  if (json) {
    nlohmann::json j = {{"job", *id},          {"status", out.status}, {"chapter_id", r.chapter_id},
                        {"revision_id", r.revision_id}, {"text", r.generated}, {"chars", r.chars}, {"seed", r.seed},
                        {"gen_tokens", r.gen_tokens},   {"message", out.message}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::fprintf(stderr, "job %lld: %s — %s\n", static_cast<long long>(*id), out.status.c_str(), out.message.c_str());
    if (out.status == "done" && r.revision_id)
      std::fprintf(stderr,
                   "the chapter is unchanged until you accept: changjuan-cli revisions accept --db %s --id %lld  "
                   "(compare first: changjuan-cli revisions diff --db %s --id %lld)\n",
                   a.get("db")->c_str(), static_cast<long long>(r.revision_id), a.get("db")->c_str(),
                   static_cast<long long>(r.revision_id));
  }
  if (out.status == "failed") return 1;
  return out.status == "done" ? 0 : 130;
}

}  // namespace cj::cli::studio_cli
