#include "studio/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

namespace cj::studio {
namespace {

using json = nlohmann::json;
constexpr size_t kMaxHeader = 16 << 10;

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
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

struct Request {
  std::string method, path, body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// Reads one request. Returns 0 when a request was read, -1 when the client went away or stalled (nothing to
// answer), or an HTTP status to answer with (message in *err).
int read_request(int fd, size_t max_body, Request* rq, std::string* err) {
  std::string buf;
  char tmp[8192];
  size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf.append(tmp, size_t(n));
    header_end = buf.find("\r\n\r\n");
    if (header_end == std::string::npos && buf.size() > kMaxHeader) {
      *err = "the request headers are larger than 16 KiB";
      return 431;
    }
  }
  std::string_view head(buf.data(), header_end);
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t s1 = line.find(' '), s2 = line.rfind(' ');
  if (s1 == std::string_view::npos || s2 == s1 || line.substr(s2 + 1).rfind("HTTP/1.", 0) != 0) {
    *err = "malformed HTTP request line";
    return 400;
  }
  rq->method = std::string(line.substr(0, s1));
  rq->path = std::string(line.substr(s1 + 1, s2 - s1 - 1));
  if (size_t q = rq->path.find('?'); q != std::string::npos) rq->path.resize(q);
  while (rq->path.size() > 1 && rq->path.back() == '/') rq->path.pop_back();
  size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string_view::npos) e = head.size();
    std::string_view h = head.substr(pos, e - pos);
    if (size_t c = h.find(':'); c != std::string_view::npos)
      rq->headers[lower(std::string(h.substr(0, c)))] = trim(h.substr(c + 1));
    pos = e + 2;
  }
  std::string rest = buf.substr(header_end + 4);
  if (rq->method != "POST") return 0;
  if (rq->headers.count("transfer-encoding")) {
    *err = "chunked request bodies are not supported; send Content-Length";
    return 411;
  }
  auto cl = rq->headers.find("content-length");
  if (cl == rq->headers.end()) {
    *err = "a POST needs a Content-Length header";
    return 411;
  }
  size_t len = 0;
  try {
    size_t used = 0;
    unsigned long long v = std::stoull(cl->second, &used);
    if (used != cl->second.size()) throw std::invalid_argument("x");
    len = size_t(v);
  } catch (...) {
    *err = "bad Content-Length '" + cl->second + "'";
    return 400;
  }
  if (len > max_body) {
    *err = "the request body is " + std::to_string(len) + " bytes; this server takes at most " +
           std::to_string(max_body) + " (serve --max-body-mb)";
    return 413;
  }
  if (auto ex = rq->headers.find("expect"); ex != rq->headers.end() && lower(ex->second) == "100-continue")
    if (!send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return -1;
  rq->body = std::move(rest);
  if (rq->body.size() > len) rq->body.resize(len);
  while (rq->body.size() < len) {
    ssize_t n = ::recv(fd, tmp, std::min(sizeof tmp, len - rq->body.size()), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    rq->body.append(tmp, size_t(n));
  }
  return 0;
}

// Reads and drops what the client still sends (up to a limit, briefly), so that closing after an early error
// answer (413) does not reset the connection before the client has read the answer.
void drain(int fd) {
  ::shutdown(fd, SHUT_WR);
  char tmp[65536];
  size_t total = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (total < (size_t(64) << 20) && std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) break;
    total += size_t(n);
  }
}

// A validated completion request.
struct GenRequest {
  int n = 1;  // choices
  bool chat = true;
  bool stream = false;
  bool include_usage = false;
  SessionRequest req;
};

// Fills g from the JSON body; returns "" or the message for a 400 (or "404:" + message for an unknown model).
std::string parse_gen_request(const json& j, bool chat, const std::string& model_name, int default_max, GenRequest* g) {
  if (!j.is_object()) return "the request body must be a JSON object";
  if (auto m = j.find("model"); m != j.end() && !m->is_null()) {
    if (!m->is_string()) return "'model' must be a string";
    if (m->get<std::string>() != model_name)
      return "404:the model '" + m->get<std::string>() + "' does not exist; this server has '" + model_name + "'";
  }
  g->chat = chat;
  g->req.max_tokens = default_max;
  if (chat) {
    auto ms = j.find("messages");
    if (ms == j.end()) return "'messages' is required";
    if (!ms->is_array() || ms->empty()) return "'messages' must be a non-empty array";
    for (size_t i = 0; i < ms->size(); ++i) {
      const json& m = (*ms)[i];
      std::string at = "messages[" + std::to_string(i) + "]";
      if (!m.is_object()) return at + " must be an object";
      auto role = m.find("role");
      if (role == m.end() || !role->is_string()) return at + ".role is required (system, user or assistant)";
      std::string r = *role;
      if (r == "developer") r = "system";
      if (r != "system" && r != "user" && r != "assistant")
        return at + ".role must be system, user or assistant, not '" + r + "'";
      auto content = m.find("content");
      std::string text;
      if (content == m.end() || content->is_null()) {
        if (r != "assistant") return at + ".content is required";
      } else if (content->is_string()) {
        text = *content;
      } else if (content->is_array()) {  // [{"type":"text","text":...}, ...]
        for (const auto& part : *content) {
          if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
              !part["text"].is_string())
            return at + ".content: only text parts ({\"type\":\"text\",\"text\":...}) are supported";
          text += part["text"].get<std::string>();
        }
      } else {
        return at + ".content must be a string or a list of text parts";
      }
      g->req.messages.push_back({r, text});
    }
  } else {
    auto p = j.find("prompt");
    if (p == j.end()) return "'prompt' is required";
    if (p->is_array() && p->size() == 1 && (*p)[0].is_string())
      g->req.prompt = (*p)[0];
    else if (p->is_string())
      g->req.prompt = *p;
    else
      return "'prompt' must be a string";
    g->req.chat = 0;
  }
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > (1 << 20))
      return std::string("'") + key + "' must be an integer between 1 and 1048576";
    g->req.max_tokens = int(it->get<int64_t>());
  }
  if (auto it = j.find("temperature"); it != j.end() && !it->is_null()) {
    if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 5)
      return "'temperature' must be a number in [0, 5]";
    g->req.temperature = it->get<float>();
  }
  if (auto it = j.find("top_p"); it != j.end() && !it->is_null()) {
    if (!it->is_number() || it->get<double>() <= 0 || it->get<double>() > 1)
      return "'top_p' must be a number in (0, 1]";
    g->req.top_p = it->get<float>();
  }
  if (auto it = j.find("seed"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) return "'seed' must be an integer";
    g->req.seed = it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t(it->get<int64_t>());
  }
  if (auto it = j.find("stop"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      g->req.stop.push_back(*it);
    } else if (it->is_array() && it->size() <= 16) {
      for (const auto& s : *it) {
        if (!s.is_string() || s.get<std::string>().empty())
          return "'stop' must be a string or a list of up to 16 non-empty strings";
        g->req.stop.push_back(s);
      }
    } else {
      return "'stop' must be a string or a list of up to 16 non-empty strings";
    }
  }
  if (auto it = j.find("n"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 16)
      return "'n' must be an integer between 1 and 16";
    g->n = int(it->get<int64_t>());
  }
  if (auto it = j.find("stream"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return "'stream' must be true or false";
    g->stream = *it;
  }
  if (auto it = j.find("stream_options"); it != j.end() && it->is_object())
    g->include_usage = it->value("include_usage", false);
  return "";
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
  std::thread th;
  std::atomic<bool> done{false};
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(Generator& gen, const ServerOptions& opts) {
  if (opts.port < 0 || opts.port > 65535) return make_error("the port must be between 0 and 65535");
  if (opts.max_body < 1024) return make_error("the body limit must be at least 1 KiB");
  if (opts.queue_wait_ms < 0 || opts.max_connections < 1 || opts.io_timeout_ms < 1 || opts.max_tokens_default < 1)
    return make_error("bad server limits (queue wait, connections, I/O timeout, default max tokens)");
  std::unique_ptr<HttpServer> s(new HttpServer(gen, opts));
  s->name_ = opts.model_name.empty() ? gen.name() : opts.model_name;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(opts.port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // 127.0.0.1 only
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
    std::string e = std::strerror(errno);
    ::close(fd);
    return make_error("cannot listen on 127.0.0.1:" + std::to_string(opts.port) + ": " + e +
                      (opts.port ? " (is another server on that port? try --port 0 for any free port)" : ""));
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  s->port_ = ntohs(a.sin_port);
  s->listen_fd_ = fd;
  s->acceptor_ = std::thread([p = s.get()] { p->accept_loop(); });
  return s;
}

HttpServer::HttpServer(Generator& gen, const ServerOptions& opts)
    : gen_(gen), opts_(opts), free_slots_(std::max(1, gen.max_parallel())) {}
HttpServer::~HttpServer() { stop(); }

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
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{opts_.io_timeout_ms / 1000, (opts_.io_timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    reap(false);
    std::lock_guard<std::mutex> l(conns_mu_);
    if (int(conns_.size()) >= opts_.max_connections) {
      send_error(fd, 503, "too many open connections (" + std::to_string(opts_.max_connections) + ")", "busy",
                 "Retry-After: 1\r\n");
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<Conn>();
    c->fd = fd;
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

void HttpServer::serve(Conn* c) {
  const int fd = c->fd;
  Request rq;
  std::string err;
  int st = read_request(fd, opts_.max_body, &rq, &err);
  if (st < 0) return;
  counters_.requests.fetch_add(1);
  if (st > 0) {
    send_error(fd, st, err);
    drain(fd);
    return;
  }
  const bool chat = rq.path == "/v1/chat/completions" || rq.path == "/chat/completions";
  const bool text = rq.path == "/v1/completions" || rq.path == "/completions";
  if (rq.path == "/v1/models" || rq.path == "/models") {
    if (rq.method != "GET") return (void)send_error(fd, 405, "use GET for " + rq.path);
    json m = {
        {"id", name_}, {"object", "model"}, {"created", 0}, {"owned_by", "changjuan"}, {"max_model_len", gen_.n_ctx()}};
    send_response(fd, 200, json{{"object", "list"}, {"data", json::array({m})}}.dump());
    return;
  }
  if (rq.path == "/health") {
    send_response(fd, 200, R"({"status":"ok"})");
    return;
  }
  if (!chat && !text) {
    send_error(fd, 404,
               "no such endpoint: " + rq.method + " " + rq.path +
                   " (this server has POST /v1/chat/completions, POST /v1/completions, GET /v1/models)",
               "not_found");
    return;
  }
  if (rq.method != "POST") return (void)send_error(fd, 405, "use POST for " + rq.path);

  json j;
  try {
    j = json::parse(rq.body);
  } catch (const json::parse_error& e) {
    send_error(fd, 400, std::string("the request body is not valid JSON: ") + e.what(), "invalid_json");
    return;
  }
  GenRequest g;
  if (std::string bad = parse_gen_request(j, chat, name_, opts_.max_tokens_default, &g); !bad.empty()) {
    if (bad.rfind("404:", 0) == 0)
      send_error(fd, 404, bad.substr(4), "model_not_found");
    else
      send_error(fd, 400, bad, "invalid_request");
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
                              " generation slots are taken); retry later", "busy", "Retry-After: 5\r\n");
      return;
    }
    if (quit_.load()) {
      l.unlock();
      return (void)send_error(fd, 503, "the server is stopping", "shutting_down");
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

  // The watcher: a peer that closes (or resets) the connection stops the generation within one token.
  std::atomic<bool> watching{true}, gone{false};
  std::thread watcher([&] {
    char scratch[4096];
    while (watching.load()) {
      pollfd p{fd, POLLIN | POLLRDHUP, 0};
      int n = ::poll(&p, 1, 10);
      if (n <= 0) continue;
      bool closed = p.revents & (POLLRDHUP | POLLHUP | POLLERR);
      if (!closed && (p.revents & POLLIN)) closed = ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) == 0;
      if (closed) {
        gone.store(true);
        gen_stop.store(true);
        return;
      }
    }
  });

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
    std::string h =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
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
  auto outs = gen_.generate_choices(g.req, g.n, on_text, &gen_stop, &all_stats);
  watching.store(false);
  watcher.join();
  release_slot();
  if (counters_.running.fetch_sub(1) == 1) counters_.generating.store(false);
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
      send_error(fd, 400, out.error(), "generation_failed");
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
  send_response(fd, 200, resp.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace cj::studio
