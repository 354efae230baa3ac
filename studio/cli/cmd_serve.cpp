// changjuan-cli serve: the local engine as an OpenAI-compatible server (studio/http_server.h), on 127.0.0.1
// unless --host says otherwise, so other tools (and `--remote` of the workflow commands) can use it. Concurrent
// requests (up to --parallel) are decoded in one batch by the engine's scheduler. Prints the URL on stdout;
// Ctrl-C / SIGTERM stops a running generation within one token and exits cleanly.
#include <poll.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "studio/cli/studio_cli.h"
#include "studio/http_server.h"

namespace cj::cli {
namespace {

std::atomic<bool> g_quit{false};
void on_quit(int) { g_quit.store(true); }

std::vector<std::string> comma_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

int run_serve(const Args& a) {
  auto port = a.get_int("port", 8080, 0, 65535);
  auto max_body = a.get_int("max-body-mb", 8, 1, 1024);
  auto wait_s = a.get_int("queue-wait", 60, 0, 3600);
  auto max_tokens = a.get_int("max-tokens", 512, 1, 1 << 20);
  for (const auto* r : {&port, &max_body, &wait_s, &max_tokens})
    if (!r->ok()) return fail(r->error());
  std::string api_key = a.get_or("api-key", "");
  if (a.has("api-key") && a.has("api-key-env")) return fail("give --api-key or --api-key-env, not both");
  if (a.has("api-key-env")) {
    const std::string var = a.get_or("api-key-env", "");
    const char* key = std::getenv(var.c_str());
    if (!key || !*key) return fail("--api-key-env " + var + ": that environment variable is not set");
    api_key = key;
  }
  if (a.has("api-key") && api_key.empty()) return fail("--api-key is empty");
  auto parallel = a.get_int("parallel", 4, 1, 64);
  if (!parallel.ok()) return fail(parallel.error());
  auto settings = studio_cli::engine_settings(a);
  if (!settings.ok()) return fail(settings.error());
  settings->parallel = int(*parallel);
  if (Status v = studio::validate(*settings); !v.ok()) return fail(v.error());
  auto engine = studio::EngineSession::open(*settings);
  if (!engine.ok()) return fail(engine.error());

  studio::ServerOptions so;
  so.host = a.get_or("host", "127.0.0.1");
  so.api_key = api_key;
  so.allow_hosts = comma_list(a.get_or("allow-host", ""));
  so.cors_origins = comma_list(a.get_or("cors", ""));
  so.port = int(*port);
  so.model_name = a.get_or("name", "");
  so.max_body = size_t(*max_body) << 20;
  so.queue_wait_ms = int(*wait_s) * 1000;
  so.max_tokens_default = int(*max_tokens);
  auto server = studio::HttpServer::start(**engine, so);
  if (!server.ok()) return fail(server.error());
  std::signal(SIGINT, on_quit);
  std::signal(SIGTERM, on_quit);
  std::printf("%s\n", (*server)->url().c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "serve: model '%s' (ctx %d, %d threads, %d requests at once) on %s — POST /chat/completions, "
               "/completions; GET /models%s. Ctrl-C stops.\n",
               (*server)->model_name().c_str(), (*engine)->n_ctx(), settings->threads, settings->parallel,
               (*server)->url().c_str(), api_key.empty() ? "" : "; API key required");
  while (!g_quit.load()) ::poll(nullptr, 0, 100);
  (*server)->stop();
  auto& c = (*server)->counters();
  std::fprintf(stderr,
               "serve: stopped after %lld requests, %lld generations (%lld tokens, %lld client disconnects, "
               "%lld busy, %lld refused over the connection limits, %lld timed out)\n",
               static_cast<long long>(c.requests.load()), static_cast<long long>(c.generations.load()),
               static_cast<long long>(c.tokens.load()), static_cast<long long>(c.disconnects.load()),
               static_cast<long long>(c.busy_rejects.load()), static_cast<long long>(c.refused.load()),
               static_cast<long long>(c.timeouts.load()));
  const SchedulerStats ss = (*engine)->scheduler_stats();
  std::fprintf(stderr,
               "serve: scheduler %lld steps, %lld tokens evaluated, %lld generated (%.2f decodes per step, %lld "
               "decode slots skipped for a reader behind), %.0f ms in the batch calls, %.0f ms composing and "
               "handing out, %.0f ms waiting for readers; %lld steps of decodes only: %.2f rows, %.1f ms each\n",
               static_cast<long long>(ss.steps), static_cast<long long>(ss.tokens), static_cast<long long>(ss.generated),
               ss.steps ? double(ss.decode_rows) / double(ss.steps) : 0.0, static_cast<long long>(ss.sat_out),
               ss.eval_ms, ss.busy_ms - ss.eval_ms, ss.reader_wait_ms, static_cast<long long>(ss.decode_steps),
               ss.decode_steps ? double(ss.decode_step_rows) / double(ss.decode_steps) : 0.0,
               ss.decode_steps ? ss.decode_step_ms / double(ss.decode_steps) : 0.0);
  return 0;
}

std::vector<OptSpec> serve_options() {
  std::vector<OptSpec> o = {{"model", "M", "GGUF model file", true},
                           {"host", "ADDR",
                            "IPv4 address to listen on (default 127.0.0.1: this machine only; another address "
                            "needs an API key)"},
                           {"port", "P", "port (default 8080; 0 = any free port)"},
                           {"api-key", "KEY", "require 'Authorization: Bearer KEY' (visible in ps: prefer --api-key-env)"},
                           {"api-key-env", "VAR", "require the API key held in environment variable VAR"},
                           {"allow-host", "NAMES", "answer requests whose Host is one of these names too (comma-separated)"},
                           {"cors", "ORIGINS",
                            "let web pages of these origins use the API (e.g. http://localhost:5173; comma-separated); "
                            "other browser pages are refused"},
                           {"name", "ID", "model id clients use (default: the file name)"},
                           {"backend", "B", "cpu|cuda: where the model runs (default cpu)"},
                           {"threads", "T", "threads (default 2)"},
                           {"ctx", "N", "context size in tokens (default: what this machine holds, up to the model's trained length)"},
                           {"parallel", "N", "requests decoded together in one batch (default 4; more wait)"},
                           {"step-tokens", "N",
                            "tokens per engine step: every running decode, then prompt chunks up to N (default 256)"},
                           {"temp", "T", "default temperature for requests that set none (default 0.8)"},
                           {"chat", "", "(ignored: chat completions always use the chat format)"},
                           {"max-tokens", "N", "max_tokens for requests that set none (default 512)"},
                           {"max-body-mb", "N", "largest request body in MiB (default 8; larger → 413)"},
                           {"queue-wait", "S", "a request waits this long for the running one, then 503 (default 60)"}};
  for (auto& k : engine_kv_option_specs()) o.push_back(std::move(k));
  return o;
}

Registrar reg({.name = "serve",
               .summary = "serve the local model as an OpenAI-compatible API (chat completions, SSE); listens on "
                          "127.0.0.1 only unless --host is given",
               .options = serve_options(),
               .run = run_serve});

}  // namespace
}  // namespace cj::cli
