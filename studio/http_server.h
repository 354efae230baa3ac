// `changjuan-cli serve`: a generator (normally the local engine) exposed as an OpenAI-compatible server on
// 127.0.0.1 only — a small HTTP/1.1 server over POSIX sockets (no dependency), one thread per connection,
// every response "Connection: close".
//
//   POST /v1/chat/completions  messages → the model's chat format (ChatML); stream true → SSE chunks
//                              (chat.completion.chunk, then "data: [DONE]"), false → one chat.completion JSON
//   POST /v1/completions       prompt (plain text) → text_completion, streamed or not
//   GET  /v1/models            the one model; GET /health → {"status":"ok"}
// Request fields: model (optional; another name → 404), max_tokens (or max_completion_tokens), temperature,
// top_p, seed, stop (string or list), stream, stream_options.include_usage. Errors are OpenAI-style
// {"error":{"message","type","code"}}: 400 bad JSON / missing or wrong fields, 404 unknown model or path,
// 405 wrong method, 411 no Content-Length, 413 body over max_body, 431 headers over 16 KiB, 503 busy.
//
// Concurrent generations: up to the generator's max_parallel() requests generate at once (the local engine decodes
// them in one batch; `n` > 1 choices of a request are decoded together too); a request that arrives while all
// slots are taken waits up to queue_wait_ms for one, then gets 503 (with Retry-After). A client that disconnects
// (mid-stream or while waiting for a whole response) is noticed by a watcher polling its socket every 10 ms, which
// stops its generation within one token; the others go on.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/result.h"
#include "studio/generator.h"

namespace cj::studio {

struct ServerOptions {
  int port = 8080;                    // 0 = any free port (see HttpServer::port())
  std::string model_name;             // id in /v1/models ("" = the generator's name())
  size_t max_body = size_t(8) << 20;  // bytes of a request body
  int queue_wait_ms = 60000;          // a request waits this long for the running generation, then 503
  int max_connections = 32;           // open connections beyond this get 503 at once
  int io_timeout_ms = 30000;          // reading a request / writing a response stalls this long: drop it
  int max_tokens_default = 512;       // when a request sets none
};

struct ServerCounters {
  std::atomic<int64_t> requests{0};      // HTTP requests parsed
  std::atomic<int64_t> generations{0};   // generations finished (any stop reason)
  std::atomic<int64_t> disconnects{0};   // generations stopped because the client went away
  std::atomic<int64_t> busy_rejects{0};  // 503s for a generation already running
  std::atomic<int64_t> tokens{0};        // generated, all requests
  std::atomic<int> last_gen_tokens{0};   // of the last finished generation
  std::atomic<bool> generating{false};
  std::atomic<int> running{0};           // generations now
};

class HttpServer {
 public:
  // Binds 127.0.0.1:port and starts serving on background threads. `gen` must outlive the server.
  static Result<std::unique_ptr<HttpServer>> start(Generator& gen, const ServerOptions& opts);
  ~HttpServer();

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  const std::string& model_name() const { return name_; }
  ServerCounters& counters() { return counters_; }
  std::string last_stop_reason() const;

  // Stops accepting, stops a running generation within one token, closes connections, joins. Idempotent.
  void stop();

 private:
  struct Conn;
  HttpServer(Generator& gen, const ServerOptions& opts);
  void accept_loop();
  void serve(Conn* c);
  void reap(bool all);

  Generator& gen_;
  ServerOptions opts_;
  std::string name_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> quit_{false};
  std::thread acceptor_;
  std::mutex conns_mu_;
  std::vector<std::unique_ptr<Conn>> conns_;
  // Generation slots (the generator's max_parallel()) and the stop flags of the running generations.
  std::mutex slot_mu_;
  std::condition_variable slot_cv_;
  int free_slots_ = 1;
  std::vector<std::atomic<bool>*> running_stops_;  // guarded by slot_mu_
  ServerCounters counters_;
  mutable std::mutex last_mu_;
  std::string last_stop_;
  std::atomic<int64_t> next_id_{1};
};

}  // namespace cj::studio
