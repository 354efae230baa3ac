// `changjuan-cli serve`: a generator (normally the local engine) exposed as an OpenAI-compatible server — a small
// HTTP/1.1 server over POSIX sockets (no dependency), one thread per connection, every response
// "Connection: close". It listens on 127.0.0.1 unless told otherwise.
//
//   POST /v1/chat/completions  messages → the model's chat format (ChatML); stream true → SSE chunks
//                              (chat.completion.chunk, then "data: [DONE]"), false → one chat.completion JSON
//   POST /v1/completions       prompt (plain text) → text_completion, streamed or not
//   GET  /v1/models            the one model; GET /health → {"status":"ok"}
// Request fields: model (optional; another name → 404), max_tokens (or max_completion_tokens), temperature,
// top_p, seed, stop (string or list), stream, stream_options.include_usage. Errors are OpenAI-style
// {"error":{"message","type","code"}}: 400 bad JSON / missing or wrong fields / JSON nested or larger than
// allowed, 401 no or wrong API key, 403 a Host that is not this server or a browser page of another origin,
// 404 unknown model or path, 405 wrong method, 408 a request that does not arrive in time, 411 no
// Content-Length, 413 body over max_body, 429 too many connections from one client, 431 headers over 16 KiB,
// 500 an internal error (a bug; the server goes on), 503 busy. Parsing and the access checks are
// studio/http_request.h.
//
// Hostile clients: the whole request head must arrive within head_timeout_ms and the body within
// body_timeout_ms (a client sending one byte every few seconds is cut off, not only one that goes silent);
// max_connections in all and max_per_client from one address; a client over a limit still has its request read
// and gets a 503/429 answer (by one small rejecting thread, not a thread each) instead of a reset. No request
// can end the server: every failure of a handler becomes a JSON error response.
//
// Concurrent generations: up to the generator's max_parallel() requests generate at once (the local engine decodes
// them in one batch; `n` > 1 choices of a request are decoded together too); a request that arrives while all
// slots are taken waits up to queue_wait_ms for one, then gets 503 (with Retry-After). A client that disconnects
// (mid-stream or while waiting for a whole response) is noticed by a watcher sleeping in poll() on its socket, which
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
  std::string host = "127.0.0.1";     // IPv4 address to listen on; not loopback → api_key is required
  int port = 8080;                    // 0 = any free port (see HttpServer::port())
  std::string model_name;             // id in /v1/models ("" = the generator's name())
  size_t max_body = size_t(8) << 20;  // bytes of a completion request body (other endpoints take none)
  int queue_wait_ms = 60000;          // a request waits this long for the running generation, then 503
  int max_connections = 32;           // open connections beyond this get 503 (after their request is read)
  int max_per_client = 16;            // open connections from one address beyond this get 429
  int head_timeout_ms = 10000;        // the whole request head (line + headers) must arrive within this
  int body_timeout_ms = 60000;        // the whole body must arrive within this
  int io_timeout_ms = 30000;          // writing a response stalls this long: drop it
  int max_tokens_default = 512;       // when a request sets none
  std::string api_key;                // when set: "Authorization: Bearer KEY" on every request but /health
  std::vector<std::string> allow_hosts;   // Host names answered besides 127.0.0.1, localhost and `host`
  std::vector<std::string> cors_origins;  // browser page origins allowed to call the API ("*" = any)
};

struct ServerCounters {
  std::atomic<int64_t> requests{0};      // HTTP requests parsed
  std::atomic<int64_t> generations{0};   // generations finished (any stop reason)
  std::atomic<int64_t> disconnects{0};   // generations stopped because the client went away
  std::atomic<int64_t> busy_rejects{0};  // 503s for a generation already running
  std::atomic<int64_t> refused{0};       // connections answered 503/429 for being over a connection limit
  std::atomic<int64_t> timeouts{0};      // requests cut off by the head or body deadline (408)
  std::atomic<int64_t> internal_errors{0};  // handler failures answered with 500
  std::atomic<int64_t> tokens{0};        // generated, all requests
  std::atomic<int> last_gen_tokens{0};   // of the last finished generation
  std::atomic<bool> generating{false};
  std::atomic<int> running{0};           // generations now
};

class HttpServer {
 public:
  // Binds host:port and starts serving on background threads. `gen` must outlive the server.
  static Result<std::unique_ptr<HttpServer>> start(Generator& gen, const ServerOptions& opts);
  ~HttpServer();

  int port() const { return port_; }
  std::string url() const;
  const std::string& model_name() const { return name_; }
  ServerCounters& counters() { return counters_; }
  std::string last_stop_reason() const;

  // Stops accepting, stops a running generation within one token, closes connections, joins. Idempotent.
  void stop();

 private:
  struct Conn;
  struct Rejected;
  HttpServer(Generator& gen, const ServerOptions& opts);
  void accept_loop();
  void reject_loop();
  void serve(Conn* c);
  void serve_request(Conn* c);
  void reap(bool all);

  Generator& gen_;
  ServerOptions opts_;
  std::string name_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> quit_{false};
  std::thread acceptor_;
  std::thread rejecter_;
  std::mutex conns_mu_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::mutex reject_mu_;
  std::vector<Rejected> to_reject_;  // handed from the acceptor to the rejecter
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
