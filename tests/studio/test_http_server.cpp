// The OpenAI-compatible server and client against each other over loopback, with the tiny random-weight Qwen3:
// greedy output over HTTP (streamed or not, chat or text completion) equals the local engine's for the same
// prompt; errors come back as the server's message and HTTP status (bad JSON 400, unknown model 404, unknown
// path 404, body over the limit 413, busy 503); a client that goes away mid-generation stops it within a few
// tokens (the server's counters show it) and the next request is served; client timeouts and refused
// connections give messages.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "studio/assistant.h"
#include "studio/http_server.h"
#include "studio/openai_client.h"
#include "studio/remote_generator.h"
#include "tests/studio/studio_test_util.h"

namespace cj::studio {
namespace {

using namespace std::chrono_literals;

const std::string kPrompt = "林黛玉进了荣国府，见过了贾母。";

std::string local_greedy(EngineSession& e, const SessionRequest& r0) {
  SessionRequest r = r0;
  r.temperature = 0;
  auto out = e.generate(r, nullptr, nullptr);
  EXPECT_TRUE(out.ok()) << out.error();
  return out.ok() ? *out : "";
}

// An HTTP exchange on a raw socket (for requests the client would never send). Returns the whole response.
std::string raw_http(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += size_t(n);
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, size_t(n));
  ::close(fd);
  return out;
}

std::string post(const std::string& path, const std::string& body) {
  return "POST " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

bool wait_for(const std::function<bool()>& f, std::chrono::milliseconds limit = 10s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (f()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return f();
}

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    served_ = testing::open_engine();
    local_ = testing::open_engine();
    ASSERT_TRUE(served_ && local_);
    ServerOptions so;
    so.port = 0;
    so.max_body = 64 << 10;
    so.queue_wait_ms = 100;
    auto s = HttpServer::start(*served_, so);
    ASSERT_TRUE(s.ok()) << s.error();
    server_ = std::move(s.value());
    ClientOptions co;
    co.base_url = server_->url();
    auto c = OpenAIClient::create(co);
    ASSERT_TRUE(c.ok()) << c.error();
    client_ = std::move(c.value());
  }

  CompletionRequest chat(const std::string& text, int n, bool stream) {
    CompletionRequest r;
    r.model = server_->model_name();
    r.messages = {{"user", text}};
    r.max_tokens = n;
    r.temperature = 0;
    r.stream = stream;
    return r;
  }

  std::unique_ptr<EngineSession> served_, local_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<OpenAIClient> client_;
};

TEST_F(HttpTest, ModelsListsTheServedModel) {
  auto ids = client_->models();
  ASSERT_TRUE(ids.ok()) << ids.error();
  EXPECT_EQ(*ids, std::vector<std::string>{"tiny-qwen3.gguf"});
  // The base URL works with and without /v1.
  auto c2 = OpenAIClient::create({.base_url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/"});
  ASSERT_TRUE(c2.ok());
  ASSERT_TRUE((*c2)->models().ok());
}

// Sampling without a seed: a fresh seed per request (three requests at temperature 1 used to return the same
// text), returned with the response; sending it back reproduces the text.
TEST_F(HttpTest, FreshSeedPerRequestReturnedAndReproducible) {
  const std::string body = R"({"messages":[{"role":"user","content":"林黛玉进了荣国府。"}],"max_tokens":24,"temperature":1.0})";
  std::vector<std::string> texts;
  std::vector<uint64_t> seeds;
  for (int i = 0; i < 3; ++i) {
    std::string resp = raw_http(server_->port(), post("/v1/chat/completions", body));
    const size_t at = resp.find("\r\n\r\n");
    ASSERT_NE(at, std::string::npos);
    auto j = nlohmann::json::parse(resp.substr(at + 4), nullptr, false);
    ASSERT_TRUE(j.is_object()) << resp;
    ASSERT_TRUE(j.contains("seed")) << resp;
    seeds.push_back(j["seed"].get<uint64_t>());
    texts.push_back(j["choices"][0]["message"]["content"].get<std::string>());
  }
  EXPECT_NE(seeds[0], seeds[1]);
  EXPECT_NE(seeds[1], seeds[2]);
  EXPECT_TRUE(texts[0] != texts[1] || texts[1] != texts[2]) << "three sampled requests gave one text";
  std::string again_body = body;
  again_body.insert(again_body.size() - 1, ",\"seed\":" + std::to_string(seeds[0]));
  std::string resp = raw_http(server_->port(), post("/v1/chat/completions", again_body));
  auto j = nlohmann::json::parse(resp.substr(resp.find("\r\n\r\n") + 4), nullptr, false);
  ASSERT_TRUE(j.is_object()) << resp;
  EXPECT_EQ(j["seed"].get<uint64_t>(), seeds[0]);
  EXPECT_EQ(j["choices"][0]["message"]["content"].get<std::string>(), texts[0]);
}

TEST_F(HttpTest, StreamedAndWholeResponsesEqualTheLocalEngine) {
  SessionRequest ref;
  ref.prompt = kPrompt;
  ref.chat = 1;
  ref.max_tokens = 24;
  const std::string want = local_greedy(*local_, ref);
  ASSERT_FALSE(want.empty());

  auto whole = client_->complete(chat(kPrompt, 24, false), nullptr, nullptr);
  ASSERT_TRUE(whole.ok()) << whole.error();
  EXPECT_EQ(whole->text, want);
  EXPECT_EQ(whole->completion_tokens, 24);
  EXPECT_EQ(whole->finish_reason, "length");

  std::string pieces;
  auto streamed = client_->complete(
      chat(kPrompt, 24, true),
      [&](std::string_view p) {
        pieces.append(p);
        return true;
      },
      nullptr);
  ASSERT_TRUE(streamed.ok()) << streamed.error();
  EXPECT_EQ(streamed->text, want);
  EXPECT_EQ(pieces, want);
  EXPECT_GT(streamed->chunks, 1);
  EXPECT_EQ(streamed->completion_tokens, 24);  // from the usage chunk
  EXPECT_GT(streamed->cached_tokens, 0);       // the same prompt again: the KV prefix was reused
  EXPECT_EQ(streamed->finish_reason, "length");
}

TEST_F(HttpTest, TextCompletionsAndConversationsEqualTheLocalEngine) {
  SessionRequest plain;
  plain.prompt = kPrompt;
  plain.chat = 0;
  plain.max_tokens = 16;
  CompletionRequest r;
  r.prompt = kPrompt;
  r.max_tokens = 16;
  r.temperature = 0;
  auto out = client_->complete(r, nullptr, nullptr);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->text, local_greedy(*local_, plain));

  SessionRequest conv;
  conv.messages = {{"system", "你是作家。"}, {"user", "写一句。"}, {"assistant", "好的。"}, {"user", kPrompt}};
  conv.max_tokens = 16;
  CompletionRequest rc = chat("", 16, true);
  rc.messages.clear();
  for (const auto& m : conv.messages) rc.messages.push_back({m.role, m.content});
  auto co = client_->complete(rc, nullptr, nullptr);
  ASSERT_TRUE(co.ok()) << co.error();
  EXPECT_EQ(co->text, local_greedy(*local_, conv));

  // The stop string ends the text before it, as locally.
  SessionRequest st = plain;
  st.max_tokens = 32;
  const std::string full = local_greedy(*local_, st);
  ASSERT_GT(full.size(), 6u);
  st.stop = {full.substr(full.size() / 2, 3)};
  r.stop = st.stop;
  r.max_tokens = 32;
  out = client_->complete(r, nullptr, nullptr);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->text, local_greedy(*local_, st));
  EXPECT_LT(out->text.size(), full.size());
  EXPECT_EQ(out->finish_reason, "stop");
}

TEST_F(HttpTest, RemoteGeneratorEqualsTheLocalEngine) {
  RemoteSettings rs;
  rs.url = server_->url();
  rs.ctx = 2048;
  auto g = RemoteGenerator::open(rs);  // no model named: the first one the server lists
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_EQ((*g)->name(), "tiny-qwen3.gguf");
  SessionRequest r;
  r.prompt = kPrompt;
  r.chat = 1;
  r.max_tokens = 20;
  r.temperature = 0;
  SessionStats st;
  auto out = (*g)->generate(r, nullptr, nullptr, &st);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(*out, local_greedy(*local_, r));
  EXPECT_EQ(st.gen_tokens, 20);
  EXPECT_EQ(st.stop_reason, "length");
  EXPECT_GT(st.prompt_tokens, 0);
}

// The app's assistant with backend "remote": it connects to the server, which runs the writer's jobs; the
// result is a revision of the project like a local run's. A server that is not there says so.
TEST_F(HttpTest, AssistantRunsJobsOnARemoteServer) {
  testing::TempDir dir;
  const std::string path = dir.file("p.cjdb");
  const int64_t book = testing::make_project(path);
  Settings s;
  s.backend = "remote";
  s.remote_url = server_->url();
  s.ctx = 2048;
  Assistant a(path, book);
  a.load(s);
  ASSERT_TRUE(wait_for([&] { return a.status().state != EngineFigures::kLoading; }));
  EngineFigures f = a.status();
  ASSERT_EQ(f.state, EngineFigures::kReady) << f.message;
  EXPECT_EQ(f.backend, "remote");
  EXPECT_EQ(f.model_name, "tiny-qwen3.gguf");
  EXPECT_EQ(f.n_ctx, 2048);
  WorkflowParams p;
  p.kind = "continue";
  p.ordinal = 1;
  p.max_tokens = 12;
  auto id = a.submit(p);
  ASSERT_TRUE(id.ok()) << id.error();
  auto job = [&] {
    for (const auto& j : a.snapshot().jobs)
      if (j.id == *id) return j;
    return JobView{};
  };
  ASSERT_TRUE(wait_for([&] { const auto s = job().status; return s == "done" || s == "failed"; }, 60s));
  EXPECT_EQ(job().status, "done") << job().message;
  EXPECT_GT(job().revision_id, 0);
  EXPECT_GT(job().tokens, 0);

  Settings gone = s;
  gone.remote_url = "http://127.0.0.1:1/v1";  // nothing listens on port 1
  Assistant b(path, book);
  b.load(gone);
  ASSERT_TRUE(wait_for([&] { return b.status().state != EngineFigures::kLoading; }, 30s));
  EXPECT_EQ(b.status().state, EngineFigures::kFailed);
  EXPECT_NE(b.status().message.find("无法连接"), std::string::npos) << b.status().message;
}

TEST_F(HttpTest, ErrorsCarryTheServersMessageAndStatus) {
  auto bad_model = chat(kPrompt, 4, true);
  bad_model.model = "gpt-9";
  auto r = client_->complete(bad_model, nullptr, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(client_->last_http_status(), 404);
  EXPECT_NE(r.error().find("HTTP 404"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("the model 'gpt-9' does not exist"), std::string::npos) << r.error();

  const int port = server_->port();
  std::string resp = raw_http(port, post("/v1/chat/completions", "{\"messages\": [oops"));
  EXPECT_EQ(resp.rfind("HTTP/1.1 400 ", 0), 0u) << resp;
  EXPECT_NE(resp.find("\"message\":\"the request body is not valid JSON"), std::string::npos) << resp;
  resp = raw_http(port, post("/v1/chat/completions", R"({"model":"tiny-qwen3.gguf"})"));
  EXPECT_EQ(resp.rfind("HTTP/1.1 400 ", 0), 0u) << resp;
  EXPECT_NE(resp.find("'messages' is required"), std::string::npos) << resp;
  resp = raw_http(port, post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})"));
  EXPECT_NE(resp.find("max_tokens"), std::string::npos) << resp;
  resp = raw_http(port, post("/v1/chat/completions", R"({"messages":[{"role":"robot","content":"x"}]})"));
  EXPECT_NE(resp.find("messages[0].role"), std::string::npos) << resp;
  resp = raw_http(port, "GET /v2/whatever HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 404 ", 0), 0u) << resp;
  resp = raw_http(port, "GET /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 405 ", 0), 0u) << resp;
  resp = raw_http(port, post("/v1/chat/completions", std::string(100 << 10, ' ')));
  EXPECT_EQ(resp.rfind("HTTP/1.1 413 ", 0), 0u) << resp;
  resp = raw_http(port, "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 411 ", 0), 0u) << resp;
  resp = raw_http(port, "GARBAGE\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 400 ", 0), 0u) << resp;
  // A prompt longer than the context: 400 with the engine's message.
  std::string longp;
  for (int i = 0; i < 300; ++i) longp += "林黛玉进了荣国府。";
  r = client_->complete(chat(longp, 4, true), nullptr, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(client_->last_http_status(), 400);
  EXPECT_NE(r.error().find("context"), std::string::npos) << r.error();
  // The client sees a 413 as an error with the server's message too.
  auto big = chat(std::string(70 << 10, 'x'), 4, false);
  r = client_->complete(big, nullptr, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("HTTP 413"), std::string::npos) << r.error();
  // ...and the server still works.
  EXPECT_TRUE(client_->complete(chat(kPrompt, 4, false), nullptr, nullptr).ok());
}

TEST_F(HttpTest, ClientThatStopsMidStreamStopsTheGeneration) {
  ServerCounters& c = server_->counters();
  int pieces = 0;
  auto r = client_->complete(
      chat(kPrompt, 1500, true), [&](std::string_view) { return ++pieces < 3; }, nullptr);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->finish_reason, "cancelled");
  EXPECT_EQ(pieces, 3);
  ASSERT_TRUE(wait_for([&] { return c.generations.load() == 1; }));
  EXPECT_EQ(c.disconnects.load(), 1);
  EXPECT_EQ(server_->last_stop_reason(), "cancelled");
  EXPECT_LT(c.last_gen_tokens.load(), 100) << "the server went on generating after the client left";

  // A stop flag set from another thread: the same, and the next request is served normally.
  std::atomic<bool> stop{false};
  std::atomic<int> seen{0};
  std::thread t([&] {
    wait_for([&] { return seen.load() >= 2; });
    stop.store(true);
  });
  r = client_->complete(
      chat(kPrompt, 1500, true), [&](std::string_view) { return ++seen, true; }, &stop);
  t.join();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->finish_reason, "cancelled");
  ASSERT_TRUE(wait_for([&] { return c.generations.load() == 2; }));
  EXPECT_EQ(c.disconnects.load(), 2);
  EXPECT_LT(c.last_gen_tokens.load(), 100);

  SessionRequest ref;
  ref.prompt = kPrompt;
  ref.chat = 1;
  ref.max_tokens = 12;
  auto next = client_->complete(chat(kPrompt, 12, false), nullptr, nullptr);
  ASSERT_TRUE(next.ok()) << next.error();
  EXPECT_EQ(next->text, local_greedy(*local_, ref));
}

TEST_F(HttpTest, ClientThatDisconnectsBeforeAWholeResponseStopsTheGeneration) {
  ServerCounters& c = server_->counters();
  std::thread t([&] {
    // stream false: nothing is written until the end, so only the watcher can notice the client leaving.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(server_->port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    std::string req = post("/v1/chat/completions",
                           R"({"messages":[{"role":"user","content":"林黛玉"}],"max_tokens":1500,"temperature":0})");
    ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), ssize_t(req.size()));
    wait_for([&] { return c.generating.load(); });
    std::this_thread::sleep_for(20ms);
    ::close(fd);
  });
  t.join();
  ASSERT_TRUE(wait_for([&] { return c.generations.load() == 1; }));
  EXPECT_EQ(c.disconnects.load(), 1);
  EXPECT_EQ(server_->last_stop_reason(), "cancelled");
  EXPECT_LT(c.last_gen_tokens.load(), 1500);
  EXPECT_TRUE(client_->complete(chat(kPrompt, 4, true), nullptr, nullptr).ok());
}

TEST_F(HttpTest, SecondRequestWhileGeneratingGets503AfterTheQueueWait) {
  ServerCounters& c = server_->counters();
  std::atomic<bool> stop{false};
  std::thread first([&] {
    auto r = client_->complete(
        chat(kPrompt, 1500, true),
        [&](std::string_view) {
          std::this_thread::sleep_for(1ms);
          return true;
        },
        &stop);
    EXPECT_TRUE(r.ok());
  });
  ASSERT_TRUE(wait_for([&] { return c.generating.load(); }));
  auto c2 = OpenAIClient::create({.base_url = server_->url()});
  ASSERT_TRUE(c2.ok());
  auto r = (*c2)->complete(chat(kPrompt, 4, false), nullptr, nullptr);
  stop.store(true);
  first.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ((*c2)->last_http_status(), 503);
  EXPECT_NE(r.error().find("busy"), std::string::npos) << r.error();
  EXPECT_EQ(c.busy_rejects.load(), 1);
}

// With a generator that runs two requests at once, a second client is served while the first streams (no 503
// even with a short queue wait), both get the local engine's text, and n = 2 returns two choices.
TEST(HttpConcurrent, TwoClientsAtOnceAndTwoChoices) {
  auto served = testing::open_engine(2048, 2);
  auto local = testing::open_engine();
  ASSERT_TRUE(served && local);
  ServerOptions so;
  so.port = 0;
  so.queue_wait_ms = 0;
  auto s = HttpServer::start(*served, so);
  ASSERT_TRUE(s.ok()) << s.error();
  auto chat = [&](const std::string& text, int n, bool stream) {
    CompletionRequest r;
    r.model = (*s)->model_name();
    r.messages = {{"user", text}};
    r.max_tokens = n;
    r.temperature = 0;
    r.stream = stream;
    return r;
  };
  SessionRequest lr;
  lr.messages = {{"user", kPrompt}};
  lr.max_tokens = 300;
  const std::string want_long = local_greedy(*local, lr);
  lr.messages = {{"user", "宝玉"}};
  lr.max_tokens = 6;
  const std::string want_short = local_greedy(*local, lr);
  std::atomic<int> pieces{0};
  std::string got_long;
  std::thread first([&] {
    auto c = OpenAIClient::create({.base_url = (*s)->url()});
    ASSERT_TRUE(c.ok());
    auto r = (*c)->complete(chat(kPrompt, 300, true), [&](std::string_view) {
      ++pieces;
      std::this_thread::sleep_for(1ms);
      return true;
    }, nullptr);
    ASSERT_TRUE(r.ok()) << r.error();
    got_long = r->text;
  });
  ASSERT_TRUE(wait_for([&] { return pieces.load() > 0; }));
  auto c2 = OpenAIClient::create({.base_url = (*s)->url()});
  ASSERT_TRUE(c2.ok());
  auto r2 = (*c2)->complete(chat("宝玉", 6, false), nullptr, nullptr);
  const bool first_still_running = (*s)->counters().running.load() > 0;
  first.join();
  ASSERT_TRUE(r2.ok()) << r2.error();
  EXPECT_EQ(r2->text, want_short);
  EXPECT_EQ(got_long, want_long);
  EXPECT_TRUE(first_still_running);
  EXPECT_EQ((*s)->counters().busy_rejects.load(), 0);
  // n = 2: two choices of one request.
  std::string resp = raw_http((*s)->port(), post("/v1/chat/completions",
      R"({"messages":[{"role":"user","content":"宝玉"}],"max_tokens":6,"temperature":0,"n":2})"));
  auto body = nlohmann::json::parse(resp.substr(resp.find("\r\n\r\n") + 4), nullptr, false);
  ASSERT_TRUE(body.is_object()) << resp;
  ASSERT_EQ(body["choices"].size(), 2u);
  EXPECT_EQ(body["choices"][0]["message"]["content"], want_short);
  EXPECT_EQ(body["choices"][1]["message"]["content"], want_short);  // greedy: both the same
  EXPECT_EQ(body["choices"][1]["index"], 1);
  (*s)->stop();
}

TEST_F(HttpTest, StopEndsARunningGenerationAndRefusesNewConnections) {
  ServerCounters& c = server_->counters();
  std::thread t([&] {
    auto r = client_->complete(chat(kPrompt, 1500, true), nullptr, nullptr);
    EXPECT_FALSE(r.ok());  // the stream ended without [DONE]
  });
  ASSERT_TRUE(wait_for([&] { return c.generating.load(); }));
  auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_LT(c.last_gen_tokens.load(), 1500);
  auto r = client_->models();
  EXPECT_FALSE(r.ok());
}

TEST(HttpClient, TimeoutsAndRefusedConnectionsSayWhatFailed) {
  // A socket that listens but never answers: the idle limit ends the request.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/v1";
  auto c = OpenAIClient::create({.base_url = url, .idle_timeout_s = 1});
  ASSERT_TRUE(c.ok());
  CompletionRequest r;
  r.messages = {{"user", "x"}};
  auto t0 = std::chrono::steady_clock::now();
  auto out = (*c)->complete(r, nullptr, nullptr);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().find("idle limit 1 s"), std::string::npos) << out.error();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // Cancel while the server is silent (a long prefill): within the 50 ms poll, not the idle limit.
  auto c2 = OpenAIClient::create({.base_url = url, .idle_timeout_s = 30});
  std::atomic<bool> stop{false};
  std::thread t([&] {
    std::this_thread::sleep_for(100ms);
    stop.store(true);
  });
  t0 = std::chrono::steady_clock::now();
  out = (*c2)->complete(r, nullptr, &stop);
  t.join();
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->finish_reason, "cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ::close(fd);

  auto refused = OpenAIClient::create({.base_url = url});  // closed now: nothing listens
  auto m = (*refused)->models();
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("failed"), std::string::npos) << m.error();
  EXPECT_FALSE(OpenAIClient::create({.base_url = "ftp://x"}).ok());
}

}  // namespace
}  // namespace cj::studio

namespace cj::studio {
namespace {

// A one-shot fake server: accepts one connection, keeps the request, answers with `response` and closes.
class FakeServer {
 public:
  explicit FakeServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CJ_ASSERT(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 4) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    th_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[8192];
      while (request_.find("\r\n\r\n") == std::string::npos || !body_complete()) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request_.append(buf, size_t(n));
      }
      ::send(c, response_.data(), response_.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~FakeServer() {
    th_.join();
    ::close(fd_);
  }
  const std::string& url() const { return url_; }
  std::string request() {
    th_.join();
    th_ = std::thread([] {});
    return request_;
  }

 private:
  bool body_complete() const {
    size_t h = request_.find("\r\n\r\n");
    size_t cl = request_.find("Content-Length: ");
    if (cl == std::string::npos) return true;
    return request_.size() - h - 4 >= std::stoul(request_.substr(cl + 16));
  }
  std::string response_, request_, url_;
  int fd_ = -1;
  std::thread th_;
};

std::string sse_response(const std::string& events) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + events;
}

CompletionRequest one_message() {
  CompletionRequest r;
  r.model = "m";
  r.messages = {{"user", "你好"}};
  return r;
}

TEST(HttpClient, OtherServersDialects) {
  {  // vLLM-style: text split oddly across events, usage in the last chunk, API key sent.
    FakeServer s(
        sse_response("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"
                     "data: {\"choices\":[{\"delta\":{\"content\":\"林\"},\"finish_reason\":null}]}\r\n\r\n"
                     ": ping\n\n"
                     "data: {\"choices\":[{\"delta\":{\"content\":\"黛玉\"},\"finish_reason\":\"stop\"}]}\n\n"
                     "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n"
                     "data: [DONE]\n\n"));
    auto c = OpenAIClient::create({.base_url = s.url() + "/v1/", .api_key = "sk-abc"});
    ASSERT_TRUE(c.ok());
    auto r = (*c)->complete(one_message(), nullptr, nullptr);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->text, "林黛玉");
    EXPECT_EQ(r->finish_reason, "stop");
    EXPECT_EQ(r->prompt_tokens, 5);
    EXPECT_EQ(r->completion_tokens, 2);
    std::string req = s.request();
    EXPECT_EQ(req.rfind("POST /v1/chat/completions HTTP/1.1", 0), 0u) << req;
    EXPECT_NE(req.find("Authorization: Bearer sk-abc"), std::string::npos) << req;
    EXPECT_NE(req.find("\"stream\":true"), std::string::npos) << req;
  }
  {  // A server that ignores stream: one JSON body.
    FakeServer s(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
        "{\"choices\":[{\"message\":{\"content\":\"整段\"},\"finish_reason\":\"length\"}]}");
    auto c = OpenAIClient::create({.base_url = s.url()});
    std::string seen;
    auto r = (*c)->complete(
        one_message(), [&](std::string_view p) { return seen.append(p), true; }, nullptr);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->text, "整段");
    EXPECT_EQ(seen, "整段");
    EXPECT_EQ(r->finish_reason, "length");
  }
  {  // An error event mid-stream.
    FakeServer s(
        sse_response("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
                     "data: {\"error\":{\"message\":\"CUDA out of memory\"}}\n\n"));
    auto c = OpenAIClient::create({.base_url = s.url()});
    auto r = (*c)->complete(one_message(), nullptr, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("CUDA out of memory"), std::string::npos) << r.error();
  }
  {  // A stream cut off before [DONE].
    FakeServer s(sse_response("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"));
    auto c = OpenAIClient::create({.base_url = s.url()});
    auto r = (*c)->complete(one_message(), nullptr, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("ended early"), std::string::npos) << r.error();
  }
  {  // FastAPI-style error body, and a non-JSON one.
    FakeServer s(
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
        "{\"detail\":\"bad api key\"}");
    auto c = OpenAIClient::create({.base_url = s.url()});
    auto r = (*c)->complete(one_message(), nullptr, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("HTTP 401"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("bad api key"), std::string::npos) << r.error();
    EXPECT_EQ((*c)->last_http_status(), 401);
  }
  {
    FakeServer s("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 11\r\nConnection: close\r\n\r\nupstream!!\n");
    auto c = OpenAIClient::create({.base_url = s.url()});
    auto r = (*c)->complete(one_message(), nullptr, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("HTTP 502"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("upstream!!"), std::string::npos) << r.error();
  }
}

// Malformed answers are errors, not "done — revision 22, 0 字" (issue 20, item 13).
TEST(HttpClient, MalformedResponsesAreErrors) {
  const std::string json_head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
  for (const char* body : {R"({"choices":[5,6]})", R"({"choices":[{"message":{"content":5}}]})",
                           R"({"choices":[{"message":"hi"}]})", R"({"choices":[{"message":{"content":null}}]})",
                           R"({"choices":[{"finish_reason":"stop"}]})", R"({"choices":[{"text":["a"]}]})",
                           R"({"choices":[{"message":{"content":"a"},"finish_reason":3}]})", R"({"choices":{}})"}) {
    FakeServer s(json_head + body);
    auto c = OpenAIClient::create({.base_url = s.url()});
    auto r = (*c)->complete(one_message(), nullptr, nullptr);
    EXPECT_FALSE(r.ok()) << body << " was taken for text '" << (r.ok() ? r->text : "") << "'";
    if (!r.ok()) {
      EXPECT_NE(r.error().find("bad response"), std::string::npos) << r.error();
    }
  }
  for (const char* event : {R"({"choices":[5]})", R"({"choices":[{"delta":{"content":5}}]})",
                            R"({"choices":[{"delta":"x"}]})", R"({"choices":"x"})"}) {
    FakeServer s(sse_response(std::string("data: ") + event + "\n\ndata: [DONE]\n\n"));
    auto c = OpenAIClient::create({.base_url = s.url()});
    auto r = (*c)->complete(one_message(), nullptr, nullptr);
    EXPECT_FALSE(r.ok()) << event;
  }
}

}  // namespace
}  // namespace cj::studio
