#include "studio/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "studio/http_request.h"

namespace cj::studio {
namespace {

using json = nlohmann::json;

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

bool send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(size_t(n));
  }
  return true;
}

std::string error_body(int status, const std::string& message, const std::string& code) {
  json e = {{"message", message},
            {"type", status >= 500 ? "server_error" : "invalid_request_error"},
            {"param", nullptr},
            {"code", code.empty() ? json(nullptr) : json(code)}};
  return json{{"error", e}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool send_response(int fd, int status, const std::string& body, const std::string& extra_headers = "") {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                  "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\nConnection: close\r\n" + extra_headers + "\r\n";
  return send_all(fd, h + body);
}

bool send_error(int fd, int status, const std::string& message, const std::string& code = "",
                const std::string& extra_headers = "") {
  return send_response(fd, status, error_body(status, message, code), extra_headers);
}

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point until) {
  return int(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count()));
}

// Reads what is there within the deadline: >0 bytes read, 0 the peer closed, -1 an error, -2 the deadline passed.
// `quit` is looked at every 100 ms.
ssize_t recv_before(int fd, char* buf, size_t n, Clock::time_point until, const std::atomic<bool>& quit) {
  for (;;) {
    if (quit.load()) return -1;
    const int left = ms_left(until);
    if (left <= 0) return -2;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, std::min(left, 100));
    if (r < 0 && errno != EINTR) return -1;
    if (r <= 0) continue;
    const ssize_t got = ::recv(fd, buf, n, MSG_DONTWAIT);
    if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    return got;
  }
}

// Reads and drops what the client still sends (up to a limit, briefly), so that closing after an early error
// answer (413) does not reset the connection before the client has read the answer.
void drain(int fd) {
  ::shutdown(fd, SHUT_WR);
  char tmp[65536];
  size_t total = 0;
  auto until = Clock::now() + std::chrono::seconds(2);
  while (total < (size_t(64) << 20) && Clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) break;
    total += size_t(n);
  }
}

std::string finish_reason(const std::string& stop_reason) {
  return stop_reason == "length" || stop_reason == "context_full" ? "length" : "stop";
}

json usage_json(const SessionStats& st) {
  return {{"prompt_tokens", st.prompt_tokens},
          {"completion_tokens", st.gen_tokens},
          {"total_tokens", st.prompt_tokens + st.gen_tokens},
          {"prompt_tokens_details", {{"cached_tokens", st.reused_tokens}}}};
}

std::string sse(const json& j) { return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n"; }

}  // namespace

struct HttpServer::Conn {
  int fd = -1;
  std::string peer;  // the client's address (per-client limit)
  std::thread th;
  std::atomic<bool> done{false};
};

// A connection over a limit: its request head is read (bounded), answered with `status`, drained, closed.
struct HttpServer::Rejected {
  int fd = -1;
  int status = 503;
  std::string message;
  Clock::time_point until;
  std::string head;
  bool answered = false;
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(Generator& gen, const ServerOptions& opts) {
  if (opts.port < 0 || opts.port > 65535) return make_error("the port must be between 0 and 65535");
  if (opts.max_body < 1024) return make_error("the body limit must be at least 1 KiB");
  if (opts.queue_wait_ms < 0 || opts.max_connections < 1 || opts.max_per_client < 1 || opts.io_timeout_ms < 1 ||
      opts.head_timeout_ms < 1 || opts.body_timeout_ms < 1 || opts.max_tokens_default < 1)
    return make_error("bad server limits (queue wait, connections, timeouts, default max tokens)");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(opts.port));
  const std::string host = opts.host == "localhost" ? "127.0.0.1" : opts.host;
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1)
    return make_error("cannot listen on '" + opts.host + "': give an IPv4 address such as 127.0.0.1");
  const bool loopback = (ntohl(a.sin_addr.s_addr) >> 24) == 127;
  if (!loopback && opts.api_key.empty())
    return make_error("listening on " + opts.host +
                      " lets other machines use the model: set an API key (serve --api-key-env VAR) first");
  for (const auto& o : opts.cors_origins)
    if (o != "*" && o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0)
      return make_error("a CORS origin looks like http://localhost:5173 (scheme, host and port), not '" + o + "'");
  std::unique_ptr<HttpServer> s(new HttpServer(gen, opts));
  s->opts_.host = host;
  s->name_ = opts.model_name.empty() ? gen.name() : opts.model_name;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
    std::string e = std::strerror(errno);
    ::close(fd);
    return make_error("cannot listen on " + host + ":" + std::to_string(opts.port) + ": " + e +
                      (opts.port ? " (is another server on that port? try --port 0 for any free port)" : ""));
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  s->port_ = ntohs(a.sin_port);
  s->listen_fd_ = fd;
  s->acceptor_ = std::thread([p = s.get()] { p->accept_loop(); });
  s->rejecter_ = std::thread([p = s.get()] { p->reject_loop(); });
  return s;
}

HttpServer::HttpServer(Generator& gen, const ServerOptions& opts)
    : gen_(gen), opts_(opts), free_slots_(std::max(1, gen.max_parallel())) {}
HttpServer::~HttpServer() { stop(); }

std::string HttpServer::url() const {
  const std::string h = opts_.host == "0.0.0.0" ? "127.0.0.1" : opts_.host;
  return "http://" + h + ":" + std::to_string(port_) + "/v1";
}

std::string HttpServer::last_stop_reason() const {
  std::lock_guard<std::mutex> l(last_mu_);
  return last_stop_;
}

void HttpServer::stop() {
  if (quit_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> l(slot_mu_);
    for (auto* f : running_stops_) f->store(true);
  }
  slot_cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  if (rejecter_.joinable()) rejecter_.join();
  {
    std::lock_guard<std::mutex> l(conns_mu_);
    for (auto& c : conns_)
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
  }
  reap(true);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void HttpServer::reap(bool all) {
  std::vector<std::unique_ptr<Conn>> finished;
  {
    std::lock_guard<std::mutex> l(conns_mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (all || (*it)->done.load()) {
        finished.push_back(std::move(*it));
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished)
    if (c->th.joinable()) c->th.join();
}

void HttpServer::accept_loop() {
  while (!quit_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    sockaddr_in peer{};
    socklen_t plen = sizeof peer;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_CLOEXEC);
    if (fd < 0) continue;
    char addr[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof addr);
    timeval tv{opts_.io_timeout_ms / 1000, (opts_.io_timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    reap(false);
    std::lock_guard<std::mutex> l(conns_mu_);
    int from_peer = 0;
    for (const auto& c : conns_) from_peer += c->peer == addr;
    if (int(conns_.size()) >= opts_.max_connections || from_peer >= opts_.max_per_client) {
      Rejected r;
      r.fd = fd;
      r.until = Clock::now() + std::chrono::milliseconds(std::min(opts_.head_timeout_ms, 2000));
      if (int(conns_.size()) >= opts_.max_connections) {
        r.status = 503;
        r.message = "too many open connections (" + std::to_string(opts_.max_connections) + "); retry later";
      } else {
        r.status = 429;
        r.message = "too many open connections from " + std::string(addr) + " (" +
                    std::to_string(opts_.max_per_client) + "); retry later";
      }
      counters_.refused.fetch_add(1);
      std::lock_guard<std::mutex> rl(reject_mu_);
      if (to_reject_.size() >= 256) {
        ::close(fd);  // a flood: no more reading for it
      } else {
        to_reject_.push_back(std::move(r));
      }
      continue;
    }
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->peer = addr;
    Conn* raw = c.get();
    conns_.push_back(std::move(c));
    raw->th = std::thread([this, raw] {
      serve(raw);
      std::lock_guard<std::mutex> l(conns_mu_);  // closed here (EOF ends a streamed body), under the lock stop() takes
      ::close(raw->fd);
      raw->fd = -1;
      raw->done.store(true);
    });
  }
}

// One thread for every connection over a limit: read its request head (so that closing does not reset the
// connection before the client reads the answer), answer 503/429, read and drop the rest for a moment, close.
void HttpServer::reject_loop() {
  std::vector<Rejected> mine;
  char tmp[16384];
  while (!quit_.load() || !mine.empty()) {
    {
      std::lock_guard<std::mutex> l(reject_mu_);
      for (auto& r : to_reject_) mine.push_back(std::move(r));
      to_reject_.clear();
    }
    if (quit_.load()) {
      for (auto& r : mine) ::close(r.fd);
      mine.clear();
      break;
    }
    if (mine.empty()) {
      ::poll(nullptr, 0, 20);
      continue;
    }
    std::vector<pollfd> ps;
    for (const auto& r : mine) ps.push_back({r.fd, POLLIN, 0});
    ::poll(ps.data(), ps.size(), 20);
    const auto now = Clock::now();
    for (size_t i = 0; i < mine.size(); ++i) {
      Rejected& r = mine[i];
      bool closed = false;
      if (ps[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = ::recv(r.fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) closed = true;
        else if (n > 0 && !r.answered && r.head.size() < kMaxRequestHead + 4) r.head.append(tmp, size_t(n));
      }
      if (!r.answered && (closed || now >= r.until || r.head.find("\r\n\r\n") != std::string::npos ||
                          r.head.size() >= kMaxRequestHead)) {
        const std::string body = error_body(r.status, r.message, "busy");
        const std::string resp = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) +
                                 "\r\nContent-Type: application/json\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body;
        (void)::send(r.fd, resp.data(), resp.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        ::shutdown(r.fd, SHUT_WR);
        r.answered = true;
        r.until = now + std::chrono::seconds(1);
      }
      if (r.answered && (closed || now >= r.until)) {
        ::close(r.fd);
        r.fd = -1;
      }
    }
    mine.erase(std::remove_if(mine.begin(), mine.end(), [](const Rejected& r) { return r.fd < 0; }), mine.end());
  }
}

void HttpServer::serve(Conn* c) {
  // No request may end the server: whatever a handler throws (a bug) becomes a 500 with a plain message — the
  // library's own text ("[json.exception…]") is not for the client.
  try {
    serve_request(c);
  } catch (const std::exception&) {
    counters_.internal_errors.fetch_add(1);
    send_error(c->fd, 500, "internal server error (a bug in the server; the request was not served)", "internal_error");
  } catch (...) {
    counters_.internal_errors.fetch_add(1);
    send_error(c->fd, 500, "internal server error", "internal_error");
  }
}

void HttpServer::serve_request(Conn* c) {
  const int fd = c->fd;
  AccessPolicy policy;
  policy.bind_host = opts_.host;
  policy.port = port_;
  policy.allow_hosts = opts_.allow_hosts;
  policy.cors_origins = opts_.cors_origins;
  policy.api_key = opts_.api_key;

  // The head, within one deadline for all of it (a per-recv timeout lets a client trickle a byte at a time).
  std::string buf;
  char tmp[8192];
  const auto head_until = Clock::now() + std::chrono::milliseconds(opts_.head_timeout_ms);
  size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    const ssize_t n = recv_before(fd, tmp, sizeof tmp, head_until, quit_);
    if (n == -2) {
      counters_.timeouts.fetch_add(1);
      if (!buf.empty()) {
        send_error(fd, 408, "the request head did not arrive within " + std::to_string(opts_.head_timeout_ms) + " ms",
                   "timeout");
        drain(fd);
      }
      return;
    }
    if (n <= 0) return;
    buf.append(tmp, size_t(n));
    header_end = buf.find("\r\n\r\n", buf.size() > size_t(n) + 3 ? buf.size() - size_t(n) - 3 : 0);
    if (header_end == std::string::npos && buf.size() > kMaxRequestHead) {
      counters_.requests.fetch_add(1);
      send_error(fd, 431, "the request headers are larger than 16 KiB");
      drain(fd);
      return;
    }
  }
  counters_.requests.fetch_add(1);
  HttpRequest rq;
  auto fail = [&](const HttpError& e, const std::string& extra = "") {
    send_error(fd, e.status, e.message, e.code, extra);
    drain(fd);
  };
  if (auto e = parse_request_head(std::string_view(buf.data(), header_end), &rq)) return fail(e);
  if (auto e = check_access(rq, policy)) return fail(e, e.status == 401 ? "WWW-Authenticate: Bearer\r\n" : "");
  std::string cors;
  if (std::string o = cors_origin(rq, policy); !o.empty())
    cors = "Access-Control-Allow-Origin: " + o + "\r\nVary: Origin\r\n";
  if (rq.method == "OPTIONS") {  // a browser's preflight for an allowed origin
    if (cors.empty()) return fail({405, "OPTIONS is only answered for an allowed browser origin (serve --cors)", ""});
    send_all(fd, "HTTP/1.1 204 No Content\r\n" + cors +
                     "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
                     "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
                     "Access-Control-Max-Age: 600\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  const bool chat = rq.path == "/v1/chat/completions" || rq.path == "/chat/completions";
  const bool text = rq.path == "/v1/completions" || rq.path == "/completions";
  const bool models = rq.path == "/v1/models" || rq.path == "/models";
  const bool health = rq.path == "/health";
  if (!chat && !text && !models && !health)
    return fail({404,
                 "no such endpoint: " + rq.method + " " + rq.path.substr(0, 200) +
                     " (this server has POST /v1/chat/completions, POST /v1/completions, GET /v1/models)",
                 "not_found"}, cors);
  if ((chat || text) && rq.method != "POST") return fail({405, "use POST for " + rq.path, ""}, cors);
  if ((models || health) && rq.method != "GET") return fail({405, "use GET for " + rq.path, ""}, cors);
  // Per endpoint: only the completions take a body, up to max_body.
  size_t len = 0;
  if (auto e = body_length(rq, (chat || text) ? opts_.max_body : 0, &len)) return fail(e, cors);
  if (auto ex = rq.header("expect"); ex && len > 0 && (*ex == "100-continue" || *ex == "100-Continue"))
    if (!send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return;
  rq.body = buf.substr(header_end + 4, len);
  const auto body_until = Clock::now() + std::chrono::milliseconds(opts_.body_timeout_ms);
  while (rq.body.size() < len) {
    const ssize_t n = recv_before(fd, tmp, std::min(sizeof tmp, len - rq.body.size()), body_until, quit_);
    if (n == -2) {
      counters_.timeouts.fetch_add(1);
      return fail({408, "the request body did not arrive within " + std::to_string(opts_.body_timeout_ms) + " ms",
                   "timeout"}, cors);
    }
    if (n <= 0) return;
    rq.body.append(tmp, size_t(n));
  }

  if (models) {
    json m = {
        {"id", name_}, {"object", "model"}, {"created", 0}, {"owned_by", "changjuan"}, {"max_model_len", gen_.n_ctx()}};
    // The name may come from a file name that is not valid UTF-8: replace, never throw.
    send_response(fd, 200, json{{"object", "list"}, {"data", json::array({m})}}.dump(-1, ' ', false,
                                                                                      json::error_handler_t::replace),
                  cors);
    return;
  }
  if (health) {
    send_response(fd, 200, R"({"status":"ok"})", cors);
    return;
  }

  GenRequest g;
  if (auto e = parse_completion_request(rq.body, chat, name_, opts_.max_tokens_default, &g)) {
    send_error(fd, e.status, e.message, e.code, cors);
    return;
  }

  // A generation slot; this request's stop flag is registered so that stop() reaches it.
  std::atomic<bool> gen_stop{false};
  {
    std::unique_lock<std::mutex> l(slot_mu_);
    if (!slot_cv_.wait_for(l, std::chrono::milliseconds(opts_.queue_wait_ms),
                           [&] { return free_slots_ > 0 || quit_.load(); })) {
      counters_.busy_rejects.fetch_add(1);
      l.unlock();
      send_error(fd, 503, "the server is busy (all " + std::to_string(std::max(1, gen_.max_parallel())) +
                              " generation slots are taken); retry later", "busy", "Retry-After: 5\r\n" + cors);
      return;
    }
    if (quit_.load()) {
      l.unlock();
      return (void)send_error(fd, 503, "the server is stopping", "shutting_down", cors);
    }
    --free_slots_;
    running_stops_.push_back(&gen_stop);
  }
  auto release_slot = [&] {
    {
      std::lock_guard<std::mutex> l(slot_mu_);
      ++free_slots_;
      running_stops_.erase(std::find(running_stops_.begin(), running_stops_.end(), &gen_stop));
    }
    slot_cv_.notify_one();
  };
  counters_.running.fetch_add(1);
  counters_.generating.store(true);

  // The watcher: a peer that closes (or resets) the connection stops the generation within one token. It sleeps in
  // poll() on the socket and an eventfd that finish() signals (no periodic wake-ups: with 8 clients a 10 ms poll
  // woke the machine 800 times a second, pre-empting the engine's threads).
  std::atomic<bool> watching{true}, gone{false};
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::thread watcher([&] {
    char scratch[4096];
    while (watching.load()) {
      pollfd p[2] = {{fd, POLLIN | POLLRDHUP, 0}, {wake_fd, POLLIN, 0}};
      int n = ::poll(p, wake_fd >= 0 ? 2 : 1, wake_fd >= 0 ? 1000 : 10);
      if (n <= 0) continue;
      bool closed = p[0].revents & (POLLRDHUP | POLLHUP | POLLERR);
      if (!closed && (p[0].revents & POLLIN)) closed = ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) == 0;
      if (closed) {
        gone.store(true);
        gen_stop.store(true);
        return;
      }
    }
  });
  // Stops the watcher and gives the slot back, once: after the generation or, on any other way out of this block
  // (exceptions included), from the guard.
  bool finished = false;
  auto finish = [&] {
    if (finished) return;
    finished = true;
    watching.store(false);
    if (wake_fd >= 0) {
      const uint64_t one = 1;
      (void)!::write(wake_fd, &one, sizeof one);
    }
    if (watcher.joinable()) watcher.join();
    if (wake_fd >= 0) ::close(wake_fd);
    release_slot();
    if (counters_.running.fetch_sub(1) == 1) counters_.generating.store(false);
  };
  struct FinishGuard {
    decltype(finish)& f;
    ~FinishGuard() { f(); }
  } guard{finish};

  const std::string id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(next_id_.fetch_add(1));
  const int64_t created = int64_t(std::time(nullptr));
  auto chunk = [&](const json& choice) {
    return json{{"id", id},
                {"object", chat ? "chat.completion.chunk" : "text_completion"},
                {"created", created},
                {"model", name_},
                {"choices", json::array({choice})}};
  };
  bool headers_sent = false;
  auto start_stream = [&] {
    headers_sent = true;
    std::string h = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n" + cors +
                    "Connection: close\r\n\r\n";
    if (chat)
      h += sse(chunk({{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}}));
    return send_all(fd, h);
  };
  auto on_text = [&](int index, std::string_view piece) {
    if (gone.load()) return false;
    if (!g.stream) return true;
    if (!headers_sent && !start_stream()) return gone.store(true), false;
    json choice = chat ? json{{"index", index}, {"delta", {{"content", piece}}}, {"finish_reason", nullptr}}
                       : json{{"index", index}, {"text", piece}, {"finish_reason", nullptr}};
    if (!send_all(fd, sse(chunk(choice)))) return gone.store(true), false;
    return true;
  };
  std::vector<SessionStats> all_stats;
  Result<std::vector<std::string>> outs = make_error("not run");
  // Clients run on the same cores as the engine: let it decode a few pieces ahead of a late client's thread instead
  // of leaving its sequence out of decode steps (8 clients on 2 cores: 0 slots sat out instead of 337-533 of ~3200,
  // aggregate 3.08-3.17x one client instead of 2.60-3.03x; scripts/bench_serve.py).
  g.req.read_ahead = 4;
  try {
    outs = gen_.generate_choices(g.req, g.n, on_text, &gen_stop, &all_stats);
  } catch (const std::bad_alloc&) {
    outs = make_error("out of memory while generating");
  }
  finish();
  SessionStats stats;  // all choices together: the prompt once, every choice's tokens
  for (const SessionStats& s : all_stats) {
    stats.gen_tokens += s.gen_tokens;
    stats.prompt_tokens = s.prompt_tokens;
    stats.reused_tokens = s.reused_tokens;
    stats.stop_reason = s.stop_reason;
  }
  if (!all_stats.empty()) stats.seed = all_stats[0].seed;
  counters_.generations.fetch_add(1);
  counters_.tokens.fetch_add(stats.gen_tokens);
  counters_.last_gen_tokens.store(stats.gen_tokens);
  {
    std::lock_guard<std::mutex> l(last_mu_);
    last_stop_ = outs.ok() ? stats.stop_reason : "error";
  }
  auto& out = outs;

  if (gone.load()) {
    counters_.disconnects.fetch_add(1);
    return;
  }
  if (!out.ok()) {
    if (headers_sent)
      send_all(fd, sse(json{{"error", {{"message", out.error()}, {"type", "server_error"}}}}));
    else
      send_error(fd, 400, out.error(), "generation_failed", cors);
    return;
  }
  if (quit_.load() && stats.stop_reason == "cancelled") return;  // stopped by shutdown: close the stream
  if (g.stream) {
    if (!headers_sent && !start_stream()) return;
    std::string tail;
    for (int i = 0; i < int(all_stats.size()); ++i) {
      const std::string fr = finish_reason(all_stats[size_t(i)].stop_reason);
      json fin = chunk(chat ? json{{"index", i}, {"delta", json::object()}, {"finish_reason", fr}}
                            : json{{"index", i}, {"text", ""}, {"finish_reason", fr}});
      fin["seed"] = stats.seed;  // the sampling seed used (choice i: seed + i)
      tail += sse(fin);
    }
    if (g.include_usage) {
      json u = chunk(json::object());
      u["choices"] = json::array();
      u["usage"] = usage_json(stats);
      u["seed"] = stats.seed;
      tail += sse(u);
    }
    tail += "data: [DONE]\n\n";
    send_all(fd, tail);
    return;
  }
  json choices = json::array();
  for (int i = 0; i < int(out->size()); ++i) {
    const std::string fr = finish_reason(all_stats[size_t(i)].stop_reason);
    const std::string& text = (*out)[size_t(i)];
    choices.push_back(chat ? json{{"index", i}, {"message", {{"role", "assistant"}, {"content", text}}}, {"finish_reason", fr}}
                           : json{{"index", i}, {"text", text}, {"finish_reason", fr}});
  }
  json resp = {{"id", id},
               {"object", chat ? "chat.completion" : "text_completion"},
               {"created", created},
               {"model", name_},
               {"seed", stats.seed},  // the sampling seed used (choice i: seed + i): send it back to reproduce
               {"choices", choices},
               {"usage", usage_json(stats)}};
  send_response(fd, 200, resp.dump(-1, ' ', false, json::error_handler_t::replace), cors);
}

}  // namespace cj::studio
