// The HTTP server against hostile clients (issue 20, items 1, 9, 10, 14): requests that used to abort the process
// (a content part whose type is a number, include_usage "yes", a model name that is not UTF-8) are JSON errors;
// a client trickling its request head one byte at a time is cut off at the head deadline; clients over the
// connection limits get an answer instead of a reset; JSON nested or wide beyond the limits is refused before a
// DOM is built; Content-Length is digits only; an API key, the Host header and browser origins are checked.
// A scripted generator stands in for the model: these tests are about the server.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "studio/http_request.h"
#include "studio/http_server.h"
#include "studio/openai_client.h"

namespace cj::studio {
namespace {

using namespace std::chrono_literals;

// Answers "好" × max_tokens, or throws when the prompt says "throw".
class ScriptedGenerator : public Generator {
 public:
  explicit ScriptedGenerator(std::string name = "scripted") : name_(std::move(name)) {}
  Result<std::string> generate(const SessionRequest& req, const std::function<bool(std::string_view)>& on_text,
                               std::atomic<bool>*, SessionStats* stats) override {
    const std::string last = req.messages.empty() ? req.prompt : req.messages.back().content;
    if (last == "throw") throw std::runtime_error("[json.exception.type_error.302] scripted");
    std::string out;
    for (int i = 0; i < req.max_tokens; ++i) {
      out += "好";
      if (on_text && !on_text("好")) break;
    }
    if (stats) {
      stats->gen_tokens = req.max_tokens;
      stats->stop_reason = "length";
    }
    return out;
  }
  int count_tokens(const std::string& t) const override { return int(t.size()); }
  int n_ctx() const override { return 4096; }
  bool has_chat_tokens() const override { return true; }
  std::string name() const override { return name_; }

 private:
  std::string name_;
};

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

// Reads until the server closes (or `limit` passes); "" plus the reason on a reset.
std::string read_all(int fd, std::chrono::milliseconds limit = 10s, bool* reset = nullptr) {
  std::string out;
  char buf[4096];
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && reset) *reset = true;
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  return out;
}

std::string http_roundtrip(int port, const std::string& request) {
  int fd = connect_to(port);
  size_t off = 0;
  while (off < request.size()) {
    const ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += size_t(n);
  }
  std::string out = read_all(fd);
  ::close(fd);
  return out;
}

std::string post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

int status_of(const std::string& resp) { return resp.size() >= 12 ? std::atoi(resp.substr(9, 3).c_str()) : 0; }

std::unique_ptr<HttpServer> start(Generator& g, ServerOptions so = {}) {
  so.port = 0;
  auto s = HttpServer::start(g, so);
  EXPECT_TRUE(s.ok()) << s.error();
  return s.ok() ? std::move(s.value()) : nullptr;
}

}  // namespace

TEST(HttpHostile, HandlerFailuresAreJsonErrorsAndTheServerGoesOn) {
  ScriptedGenerator gen("bad\xff\xfe" "name");  // a --name or file name that is not valid UTF-8
  auto s = start(gen);
  ASSERT_TRUE(s);
  const int port = s->port();
  // Each of these aborted the process (an nlohmann exception escaped the connection thread).
  std::string r = http_roundtrip(port, post("/v1/chat/completions",
                                      R"({"messages":[{"role":"user","content":[{"type":5,"text":"x"}]}]})"));
  EXPECT_EQ(status_of(r), 400) << r;
  EXPECT_NE(r.find("only text parts"), std::string::npos) << r;
  r = http_roundtrip(port, post("/v1/chat/completions",
                          R"({"messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":"yes"}})"));
  EXPECT_EQ(status_of(r), 400) << r;
  EXPECT_NE(r.find("include_usage"), std::string::npos) << r;
  r = http_roundtrip(port, "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_NE(r.find("bad\xef\xbf\xbd"), std::string::npos) << r;  // U+FFFD in place of the bad bytes
  // A handler that throws anyway (a bug) answers 500 without the library's text, and the server goes on.
  r = http_roundtrip(port, post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"throw"}]})"));
  EXPECT_EQ(status_of(r), 500) << r;
  EXPECT_EQ(r.find("json.exception"), std::string::npos) << r;
  EXPECT_EQ(s->counters().internal_errors.load(), 1);
  // Bad JSON: no parser text either.
  r = http_roundtrip(port, post("/v1/chat/completions", "{\"messages\": [oops"));
  EXPECT_EQ(status_of(r), 400) << r;
  EXPECT_EQ(r.find("json.exception"), std::string::npos) << r;
  r = http_roundtrip(port, post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"max_tokens":3})"));
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_NE(r.find("好好好"), std::string::npos) << r;
}

TEST(HttpHostile, TypesOfEveryFieldAreChecked) {
  // The parser alone, on the request bodies a fuzzer found or a careless client sends.
  const char* bodies[] = {
      R"({"messages":[{"role":5}]})",
      R"({"messages":[{"role":"user","content":{"a":1}}]})",
      R"({"messages":[{"role":"user","content":[5]}]})",
      R"({"messages":[{"role":"user","content":[{"type":"text","text":7}]}]})",
      R"({"messages":[{"role":"user","content":"x"}],"max_tokens":18446744073709551615})",
      R"({"messages":[{"role":"user","content":"x"}],"max_tokens":-5})",
      R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1.5})",
      R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})",
      R"({"messages":[{"role":"user","content":"x"}],"seed":1.5})",
      R"({"messages":[{"role":"user","content":"x"}],"stop":[""]})",
      R"({"messages":[{"role":"user","content":"x"}],"stop":7})",
      R"({"messages":[{"role":"user","content":"x"}],"n":18446744073709551615})",
      R"({"messages":[{"role":"user","content":"x"}],"n":"1"})",
      R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})",
      R"({"messages":[{"role":"user","content":"x"}],"stream_options":[]})",
      R"({"model":5,"messages":[{"role":"user","content":"x"}]})",
      R"([1,2,3])",
      R"("just a string")",
  };
  for (const char* b : bodies) {
    GenRequest g;
    HttpError e;
    ASSERT_NO_THROW(e = parse_completion_request(b, true, "m", 16, &g)) << b;
    EXPECT_EQ(e.status, 400) << b;
    EXPECT_FALSE(e.message.empty()) << b;
  }
  GenRequest g;
  EXPECT_FALSE(parse_completion_request(R"({"prompt":"x","max_tokens":1048576,"n":1})", false, "m", 16, &g));
  EXPECT_EQ(g.req.max_tokens, 1 << 20);
}

TEST(HttpHostile, JsonNestedOrWideBeyondTheLimitsIsRefusedBeforeParsing) {
  ScriptedGenerator gen;
  auto s = start(gen, {.max_body = size_t(8) << 20});
  ASSERT_TRUE(s);
  // 8 MB of '[' cost ~300 MB of DOM while parsing; now one linear pass refuses it.
  std::string r = http_roundtrip(s->port(), post("/v1/chat/completions", std::string(size_t(8) << 20, '[')));
  EXPECT_EQ(status_of(r), 400) << r.substr(0, 300);
  EXPECT_NE(r.find("nested deeper than 64"), std::string::npos) << r.substr(0, 300);
  std::string wide = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"junk\":[";
  for (int i = 0; i < 200000; ++i) wide += "1,";
  wide += "1]}";
  r = http_roundtrip(s->port(), post("/v1/chat/completions", wide));
  EXPECT_EQ(status_of(r), 400) << r.substr(0, 300);
  EXPECT_NE(r.find("more than 65536 values"), std::string::npos) << r.substr(0, 300);
}

TEST(HttpHostile, ContentLengthIsDigitsOnlyAndEachEndpointHasItsBodyLimit) {
  ScriptedGenerator gen;
  auto s = start(gen, {.max_body = 4096});
  ASSERT_TRUE(s);
  const int port = s->port();
  const std::string head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const char* cl : {"-1", "+5", "0x10", "99999999999999999999", "5 5", ""}) {
    std::string r = http_roundtrip(port, head + "Content-Length: " + cl + "\r\n\r\n");
    EXPECT_EQ(status_of(r), 400) << cl << ": " << r;
    EXPECT_EQ(r.find("18446744073709551615"), std::string::npos) << r;  // "-1" was echoed as this
  }
  std::string r = http_roundtrip(port, head + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(status_of(r), 400) << r;
  r = http_roundtrip(port, head + "Content-Length: 5000\r\n\r\n");
  EXPECT_EQ(status_of(r), 413) << r;
  // GET endpoints take no body at all.
  r = http_roundtrip(port, "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n0123456789");
  EXPECT_EQ(status_of(r), 400) << r;
  // Malformed heads.
  for (const char* h : {"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n",
                        "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n folded: value\r\n\r\n",
                        "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\x01" "b\r\n\r\n",
                        "GET v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "GET /v1/models HTTP/1.1x\r\n\r\n"}) {
    r = http_roundtrip(port, h);
    EXPECT_EQ(status_of(r), 400) << h << r;
  }
}

TEST(HttpHostile, ATricklingRequestHeadIsCutOffAtTheDeadline) {
  ScriptedGenerator gen;
  auto s = start(gen, {.max_connections = 4, .head_timeout_ms = 400});
  ASSERT_TRUE(s);
  const int port = s->port();
  // Slowloris: every connection sends one byte of its head every 50 ms, well inside any per-recv timeout, and
  // all connection slots are taken.
  std::atomic<bool> go{true};
  std::vector<int> fds;
  for (int i = 0; i < 4; ++i) fds.push_back(connect_to(port));
  std::thread trickle([&] {
    const std::string head = "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + std::string(1000, 'a');
    for (size_t k = 0; k < head.size() && go.load(); ++k) {
      for (int fd : fds) (void)::send(fd, &head[k], 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      std::this_thread::sleep_for(50ms);
    }
  });
  std::this_thread::sleep_for(100ms);
  // While the slots are held, a new client is answered 503 (its request read first), not reset.
  bool reset = false;
  int extra = connect_to(port);
  const std::string req = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(::send(extra, req.data(), req.size(), MSG_NOSIGNAL), ssize_t(req.size()));
  std::string r = read_all(extra, 5s, &reset);
  ::close(extra);
  EXPECT_FALSE(reset);
  EXPECT_EQ(status_of(r), 503) << r;
  // Each trickling client gets 408 once its head is 400 ms old, although it never stopped sending.
  for (int fd : fds) {
    r = read_all(fd, 5s);
    EXPECT_EQ(status_of(r), 408) << r;
  }
  go.store(false);
  trickle.join();
  for (int fd : fds) ::close(fd);
  EXPECT_GE(s->counters().timeouts.load(), 4);
  EXPECT_GE(s->counters().refused.load(), 1);
  // The slots are free again.
  EXPECT_TRUE([&] {
    for (int i = 0; i < 50; ++i) {
      if (status_of(http_roundtrip(port, req)) == 200) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }());
}

TEST(HttpHostile, ClientsOverTheConnectionLimitsGetAnAnswerNotAReset) {
  ScriptedGenerator gen;
  auto s = start(gen, {.max_connections = 8, .max_per_client = 2, .head_timeout_ms = 3000});
  ASSERT_TRUE(s);
  const int port = s->port();
  int a = connect_to(port), b = connect_to(port);  // two idle connections from 127.0.0.1
  std::this_thread::sleep_for(100ms);
  // A third from the same address sends a request with a 200 KB body and then reads: it used to get the 503 and
  // a reset at once (unread data at close), often losing the answer.
  const std::string body = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + std::string(200000, 'x') + "\"}]}";
  int c = connect_to(port);
  std::thread sender([&] {
    const std::string req = post("/v1/chat/completions", body);
    size_t off = 0;
    while (off < req.size()) {
      const ssize_t n = ::send(c, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += size_t(n);
    }
  });
  bool reset = false;
  std::string r = read_all(c, 5s, &reset);
  sender.join();
  ::close(c);
  EXPECT_FALSE(reset);
  EXPECT_EQ(status_of(r), 429) << r;
  EXPECT_NE(r.find("too many open connections from 127.0.0.1"), std::string::npos) << r;
  ::close(a);
  ::close(b);
}

TEST(HttpHostile, ApiKeyHostAndBrowserOriginsAreChecked) {
  ScriptedGenerator gen;
  auto s = start(gen, {.api_key = "s3cret", .allow_hosts = {"box.lan"}, .cors_origins = {"http://localhost:5173"}});
  ASSERT_TRUE(s);
  const int port = s->port();
  const std::string body = R"({"messages":[{"role":"user","content":"x"}],"max_tokens":2})";
  const std::string auth = "Authorization: Bearer s3cret\r\n";
  // No key, a wrong key, the right one; /health needs none.
  std::string r = http_roundtrip(port, post("/v1/chat/completions", body));
  EXPECT_EQ(status_of(r), 401) << r;
  EXPECT_NE(r.find("WWW-Authenticate: Bearer"), std::string::npos) << r;
  EXPECT_EQ(status_of(http_roundtrip(port, post("/v1/chat/completions", body, "Authorization: Bearer s3creT\r\n"))), 401);
  EXPECT_EQ(status_of(http_roundtrip(port, post("/v1/chat/completions", body, auth))), 200);
  EXPECT_EQ(status_of(http_roundtrip(port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")), 200);
  EXPECT_EQ(status_of(http_roundtrip(port, "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")), 401);
  // The client sends the key as OpenAI clients do.
  auto client = OpenAIClient::create({.base_url = s->url(), .api_key = "s3cret"});
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE((*client)->models().ok());

  // Host: only this server's names (DNS rebinding points evil.example at 127.0.0.1).
  auto with_host = [&](const std::string& host) {
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: " + host + "\r\n" + auth +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  EXPECT_EQ(status_of(http_roundtrip(port, with_host("evil.example"))), 403);
  EXPECT_EQ(status_of(http_roundtrip(port, with_host("127.0.0.1:" + std::to_string(port + 1)))), 403);
  EXPECT_EQ(status_of(http_roundtrip(port, with_host("localhost:" + std::to_string(port)))), 200);
  EXPECT_EQ(status_of(http_roundtrip(port, with_host("box.lan"))), 200);
  EXPECT_EQ(status_of(http_roundtrip(port, "GET /health HTTP/1.1\r\n\r\n")), 400);  // no Host at all

  // A web page of another origin: a "simple" text/plain POST (no preflight) is refused.
  r = http_roundtrip(port, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"
                     "Content-Type: text/plain\r\n" + auth + "Content-Length: " + std::to_string(body.size()) +
                         "\r\n\r\n" + body);
  EXPECT_EQ(status_of(r), 403) << r;
  EXPECT_NE(r.find("--cors"), std::string::npos) << r;
  r = http_roundtrip(port, post("/v1/chat/completions", body, auth + "Sec-Fetch-Site: cross-site\r\n"));
  EXPECT_EQ(status_of(r), 403) << r;
  // The allowed origin: preflight, then the request with Access-Control-Allow-Origin.
  r = http_roundtrip(port, "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:5173\r\n"
                     "Access-Control-Request-Method: POST\r\n\r\n");
  EXPECT_EQ(status_of(r), 204) << r;
  EXPECT_NE(r.find("Access-Control-Allow-Origin: http://localhost:5173"), std::string::npos) << r;
  EXPECT_NE(r.find("Authorization"), std::string::npos) << r;
  r = http_roundtrip(port, post("/v1/chat/completions", body, auth + "Origin: http://localhost:5173\r\n"));
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_NE(r.find("Access-Control-Allow-Origin: http://localhost:5173"), std::string::npos) << r;
}

TEST(HttpHostile, OtherMachinesNeedAnApiKey) {
  ScriptedGenerator gen;
  auto s = HttpServer::start(gen, {.host = "0.0.0.0", .port = 0});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("API key"), std::string::npos) << s.error();
  s = HttpServer::start(gen, {.host = "not-an-address", .port = 0});
  ASSERT_FALSE(s.ok());
  s = HttpServer::start(gen, {.host = "0.0.0.0", .port = 0, .api_key = "k"});
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ((*s)->url().rfind("http://127.0.0.1:", 0), 0u);
}

}  // namespace cj::studio
