// changjuan-cli serve: the local engine as an OpenAI-compatible server on 127.0.0.1 (studio/http_server.h), so
// other tools (and `--remote` of the workflow commands) can use it. Concurrent requests (up to --parallel) are
// decoded in one batch by the engine's scheduler. Prints the URL on stdout; Ctrl-C / SIGTERM
// stops a running generation within one token and exits cleanly.
#include <poll.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "studio/cli/studio_cli.h"
#include "studio/http_server.h"

namespace cj::cli {
namespace {

std::atomic<bool> g_quit{false};
void on_quit(int) { g_quit.store(true); }

int run_serve(const Args& a) {
  auto port = a.get_int("port", 8080);
  auto max_body = a.get_int("max-body-mb", 8);
  auto wait_s = a.get_int("queue-wait", 60);
  auto max_tokens = a.get_int("max-tokens", 512);
  for (const auto* r : {&port, &max_body, &wait_s, &max_tokens})
    if (!r->ok()) return fail(r->error());
  if (*port < 0 || *port > 65535) return fail("--port must be between 0 and 65535 (0 = any free port)");
  if (*max_body < 1 || *max_body > 1024) return fail("--max-body-mb must be between 1 and 1024");
  if (*wait_s < 0 || *wait_s > 3600) return fail("--queue-wait must be between 0 and 3600 seconds");
  if (*max_tokens < 1) return fail("--max-tokens must be at least 1");
  auto parallel = a.get_int("parallel", 4);
  if (!parallel.ok()) return fail(parallel.error());
  auto settings = studio_cli::engine_settings(a);
  if (!settings.ok()) return fail(settings.error());
  settings->parallel = int(*parallel);
  if (Status v = studio::validate(*settings); !v.ok()) return fail(v.error());
  auto engine = studio::EngineSession::open(*settings);
  if (!engine.ok()) return fail(engine.error());

  studio::ServerOptions so;
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
               "serve: model '%s' (ctx %d, %d threads, %d requests at once) on %s — POST /chat/completions, /completions; GET /models. "
               "Ctrl-C stops.\n",
               (*server)->model_name().c_str(), (*engine)->n_ctx(), settings->threads, settings->parallel,
               (*server)->url().c_str());
  while (!g_quit.load()) ::poll(nullptr, 0, 100);
  (*server)->stop();
  auto& c = (*server)->counters();
  std::fprintf(stderr,
               "serve: stopped after %lld requests, %lld generations (%lld tokens, %lld client disconnects, "
               "%lld busy)\n",
               static_cast<long long>(c.requests.load()), static_cast<long long>(c.generations.load()),
               static_cast<long long>(c.tokens.load()), static_cast<long long>(c.disconnects.load()),
               static_cast<long long>(c.busy_rejects.load()));
  return 0;
}

std::vector<OptSpec> serve_options() {
  std::vector<OptSpec> o = {{"model", "M", "GGUF model file", true},
                           {"port", "P", "port on 127.0.0.1 (default 8080; 0 = any free port)"},
                           {"name", "ID", "model id clients use (default: the file name)"},
                           {"backend", "B", "cpu|cuda: where the model runs (default cpu)"},
                           {"threads", "T", "threads (default 2)"},
                           {"ctx", "N", "context size in tokens (default: what this machine holds, up to the model's trained length)"},
                           {"parallel", "N", "requests decoded together in one batch (default 4; more wait)"},
                           {"temp", "T", "default temperature for requests that set none (default 0.8)"},
                           {"chat", "", "(ignored: chat completions always use the chat format)"},
                           {"max-tokens", "N", "max_tokens for requests that set none (default 512)"},
                           {"max-body-mb", "N", "largest request body in MiB (default 8; larger → 413)"},
                           {"queue-wait", "S", "a request waits this long for the running one, then 503 (default 60)"}};
  for (auto& k : engine_kv_option_specs()) o.push_back(std::move(k));
  return o;
}

Registrar reg({.name = "serve",
               .summary = "serve the local model as an OpenAI-compatible API on 127.0.0.1 (chat completions, SSE)",
               .options = serve_options(),
               .run = run_serve});

}  // namespace
}  // namespace cj::cli
