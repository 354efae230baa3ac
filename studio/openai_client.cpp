#include "studio/openai_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <mutex>
#include <nlohmann/json.hpp>

#include "studio/sse_parser.h"

namespace cj::studio {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// "error": {"message": ...} (OpenAI, vLLM, llama-server), "error": "..." or "detail" (FastAPI); else the body.
std::string error_message(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    if (auto e = j.find("error"); e != j.end()) {
      if (e->is_object() && e->contains("message") && (*e)["message"].is_string()) return (*e)["message"];
      if (e->is_string()) return *e;
    }
    if (auto d = j.find("detail"); d != j.end())
      return d->is_string() ? d->get<std::string>() : d->dump(-1, ' ', false, json::error_handler_t::replace);
    if (auto m = j.find("message"); m != j.end() && m->is_string()) return *m;
  }
  std::string s = body.substr(0, 300);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s.empty() ? "(no message)" : s;
}

int as_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return -1;
  return int(std::min<uint64_t>(it->get<uint64_t>(), uint64_t(INT32_MAX)));
}

// The text of one choice, whole ("message": {"content"}) or streamed ("delta": {"content"}), or of a text
// completion ("text"). A choice that is not what the protocol says is an error — a server that answers
// {"choices":[5]} has not produced an empty chapter.
Result<std::string_view> choice_text(const json& c, bool streamed) {
  if (!c.is_object()) return make_error("a choice is not a JSON object");
  if (auto fr = c.find("finish_reason"); fr != c.end() && !fr->is_null() && !fr->is_string())
    return make_error("finish_reason is not a string");
  auto text_of = [](const json& holder, const char* key, bool optional) -> Result<std::string_view> {
    auto t = holder.find(key);
    if (t == holder.end() || t->is_null()) {
      if (optional) return std::string_view();
      return make_error(std::string("the choice has no '") + key + "' text");
    }
    if (!t->is_string()) return make_error(std::string("'") + key + "' is not a string");
    return std::string_view(t->get_ref<const std::string&>());
  };
  if (auto m = c.find(streamed ? "delta" : "message"); m != c.end()) {
    if (!m->is_object()) return make_error(std::string(streamed ? "delta" : "message") + " is not an object");
    return text_of(*m, "content", streamed);
  }
  if (c.contains("text")) return text_of(c, "text", streamed);
  if (streamed) return std::string_view();  // e.g. a chunk with only a finish_reason
  return make_error("the choice has neither a message nor a text");
}

void read_usage(const json& u, CompletionResult* r) {
  if (!u.is_object()) return;
  r->prompt_tokens = as_int(u, "prompt_tokens");
  r->completion_tokens = as_int(u, "completion_tokens");
  if (auto d = u.find("prompt_tokens_details"); d != u.end() && d->is_object())
    r->cached_tokens = as_int(*d, "cached_tokens");
}

// The state of one transfer, shared with libcurl's callbacks.
struct Transfer {
  CURL* h = nullptr;
  bool stream = false;
  bool decided = false;    // status and content type looked at
  bool ok_status = false;  // 2xx
  bool sse = false;        // the body is an event stream
  std::string body;        // error body, or a whole JSON body
  SseParser parser;
  const std::function<bool(std::string_view)>* on_text = nullptr;
  std::atomic<bool>* stop = nullptr;
  bool cancelled = false;
  bool done = false;           // [DONE] seen
  std::string stream_error;    // an error event inside the stream
  std::string protocol_error;  // unparseable chunk
  CompletionResult* r = nullptr;
  Clock::time_point t0;
  size_t max_body = size_t(64) << 20;

  bool piece(std::string_view s) {
    if (s.empty()) return true;
    if (r->chunks == 0) r->first_piece_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    ++r->chunks;
    r->text.append(s);
    if (*on_text && !(*on_text)(s)) {
      cancelled = true;
      return false;
    }
    return true;
  }

  // One streamed chunk: {"choices":[{"delta":{"content":...}} or {"text":...}, "finish_reason":...}], "usage":...}
  bool chunk(const std::string& data) {
    if (data == "[DONE]") {
      done = true;
      return true;
    }
    auto j = json::parse(data, nullptr, false);
    if (!j.is_object()) {
      protocol_error = "the server sent an event that is not JSON: " + data.substr(0, 200);
      return false;
    }
    if (j.contains("error")) {
      stream_error = error_message(data);
      return false;
    }
    if (auto u = j.find("usage"); u != j.end()) read_usage(*u, r);
    auto ch = j.find("choices");
    if (ch == j.end() || ch->is_null()) return true;
    if (!ch->is_array()) {
      protocol_error = "'choices' is not a list: " + data.substr(0, 200);
      return false;
    }
    if (ch->empty()) return true;
    const json& c = (*ch)[0];
    auto text = choice_text(c, true);
    if (!text.ok()) {
      protocol_error = text.error() + ": " + data.substr(0, 200);
      return false;
    }
    if (auto fr = c.find("finish_reason"); fr != c.end() && fr->is_string()) r->finish_reason = *fr;
    return piece(*text);
  }

  size_t write(const char* p, size_t n) {
    if (stop && stop->load()) {
      cancelled = true;
      return 0;  // aborts the transfer
    }
    if (!decided) {
      decided = true;
      long code = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
      ok_status = code >= 200 && code < 300;
      char* ct = nullptr;
      curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
      sse = ok_status && stream && ct && std::string_view(ct).rfind("text/event-stream", 0) == 0;
    }
    if (!sse) {  // an error body or a whole JSON response
      if (body.size() + n > max_body) {
        protocol_error = "the server's response is larger than " + std::to_string(max_body >> 20) + " MiB";
        return 0;
      }
      body.append(p, n);
      return n;
    }
    if (!parser.feed(std::string_view(p, n), [&](const SseEvent& e) { return chunk(e.data); })) {
      if (parser.overflow()) protocol_error = "the server sent an event line longer than 16 MiB";
      return 0;
    }
    return n;
  }

  static size_t write_cb(char* p, size_t size, size_t n, void* self) {
    return static_cast<Transfer*>(self)->write(p, size * n);
  }
};

struct Easy {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  ~Easy() {
    if (headers) curl_slist_free_all(headers);
    if (h) curl_easy_cleanup(h);
  }
};

}  // namespace

std::string request_json(const CompletionRequest& req) {
  json j = {{"max_tokens", req.max_tokens}, {"stream", req.stream}};
  if (!req.model.empty()) j["model"] = req.model;
  if (!req.messages.empty()) {
    json m = json::array();
    for (const auto& msg : req.messages) m.push_back({{"role", msg.role}, {"content", msg.content}});
    j["messages"] = std::move(m);
  } else {
    j["prompt"] = req.prompt;
  }
  if (req.temperature >= 0) j["temperature"] = req.temperature;
  if (req.top_p >= 0) j["top_p"] = req.top_p;
  if (req.seed >= 0) j["seed"] = req.seed;
  if (!req.stop.empty()) j["stop"] = req.stop;
  if (req.stream) j["stream_options"] = {{"include_usage", true}};
  // Text from a book may hold invalid UTF-8 (a cut in the middle of a character): replace rather than throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::unique_ptr<OpenAIClient>> OpenAIClient::create(const ClientOptions& opts) {
  if (opts.base_url.rfind("http://", 0) != 0 && opts.base_url.rfind("https://", 0) != 0)
    return make_error("the server URL must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1), got '" +
                      opts.base_url + "'");
  if (opts.connect_timeout_ms < 1 || opts.idle_timeout_s < 1 || opts.total_timeout_s < 0)
    return make_error("client timeouts must be positive");
  global_init();
  std::unique_ptr<OpenAIClient> c(new OpenAIClient());
  c->opts_ = opts;
  std::string b = opts.base_url;
  while (!b.empty() && b.back() == '/') b.pop_back();
  if (b.size() >= 3 && b.compare(b.size() - 3, 3, "/v1") == 0) b.resize(b.size() - 3);
  c->base_ = b;
  return c;
}

OpenAIClient::~OpenAIClient() = default;

namespace {

// Runs the transfer on a multi handle so the stop flag is polled every 50 ms even while nothing arrives, and
// the idle limit counts from the last byte received (libcurl's low-speed check averages over several seconds
// and counts the upload too).
CURLcode perform(CURL* h, std::atomic<bool>* stop, bool* cancelled, int idle_s, bool* idle_out) {
  CURLM* m = curl_multi_init();
  curl_multi_add_handle(m, h);
  CURLcode rc = CURLE_OK;
  curl_off_t last_bytes = -1;
  auto last = Clock::now();
  for (;;) {
    int running = 0;
    CURLMcode mc = curl_multi_perform(m, &running);
    if (mc != CURLM_OK) {
      rc = CURLE_FAILED_INIT;
      break;
    }
    if (!running) {
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(m, &left))
        if (msg->msg == CURLMSG_DONE) rc = msg->data.result;
      break;
    }
    if (stop && stop->load()) {
      *cancelled = true;
      rc = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    curl_off_t bytes = 0;
    curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
    if (bytes != last_bytes) {
      last_bytes = bytes;
      last = Clock::now();
    } else if (Clock::now() - last > std::chrono::seconds(idle_s)) {
      *idle_out = true;
      rc = CURLE_OPERATION_TIMEDOUT;
      break;
    }
    curl_multi_poll(m, nullptr, 0, 50, nullptr);
  }
  curl_multi_remove_handle(m, h);
  curl_multi_cleanup(m);
  return rc;
}

void common_options(CURL* h, const ClientOptions& o, char* errbuf) {
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(o.connect_timeout_ms));
  if (o.total_timeout_s > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT, long(o.total_timeout_s));
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
}

std::string curl_failure(CURLcode rc, const char* errbuf, const std::string& url, const ClientOptions& o, bool idle) {
  std::string what = idle ? "the server sent nothing for " + std::to_string(o.idle_timeout_s) + " s (idle limit " +
                                std::to_string(o.idle_timeout_s) + " s)"
                     : errbuf[0] ? errbuf
                                 : curl_easy_strerror(rc);
  if (rc == CURLE_OPERATION_TIMEDOUT && !idle)
    what += o.total_timeout_s > 0 ? " (total limit " + std::to_string(o.total_timeout_s) + " s)" : "";
  return "request to " + url + " failed: " + what;
}

}  // namespace

Result<CompletionResult> OpenAIClient::complete(const CompletionRequest& req,
                                                const std::function<bool(std::string_view)>& on_text,
                                                std::atomic<bool>* stop) {
  last_status_ = 0;
  if (req.messages.empty() && req.prompt.empty()) return make_error("the request has neither messages nor a prompt");
  const std::string url = base_ + (req.messages.empty() ? "/v1/completions" : "/v1/chat/completions");
  const std::string body = request_json(req);
  Easy e;
  if (!e.h) return make_error("libcurl could not start a transfer");
  char errbuf[CURL_ERROR_SIZE] = {0};
  common_options(e.h, opts_, errbuf);
  e.headers = curl_slist_append(e.headers, "Content-Type: application/json");
  e.headers = curl_slist_append(e.headers, req.stream ? "Accept: text/event-stream" : "Accept: application/json");
  e.headers = curl_slist_append(e.headers, "Expect:");  // no 100-continue round trip for large prompts
  if (!opts_.api_key.empty())
    e.headers = curl_slist_append(e.headers, ("Authorization: Bearer " + opts_.api_key).c_str());
  curl_easy_setopt(e.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, e.headers);
  curl_easy_setopt(e.h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(e.h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));

  CompletionResult r;
  Transfer t;
  t.h = e.h;
  t.stream = req.stream;
  t.on_text = &on_text;
  t.stop = stop;
  t.r = &r;
  t.t0 = Clock::now();
  curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, &Transfer::write_cb);
  curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &t);

  bool idle = false;
  CURLcode rc = perform(e.h, stop, &t.cancelled, opts_.idle_timeout_s, &idle);
  long code = 0;
  curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &code);
  last_status_ = int(code);
  r.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t.t0).count();

  if (t.cancelled) {
    r.finish_reason = "cancelled";
    return r;
  }
  if (!t.stream_error.empty())
    return make_error("the server " + base_ + " reported an error mid-stream: " + t.stream_error);
  if (!t.protocol_error.empty()) return make_error("bad response from " + url + ": " + t.protocol_error);
  if (rc != CURLE_OK) return make_error(curl_failure(rc, errbuf, url, opts_, idle));
  if (code < 200 || code >= 300)
    return make_error("HTTP " + std::to_string(code) + " from " + url + ": " + error_message(t.body));
  if (t.sse) {
    if (!t.done && r.finish_reason.empty())
      return make_error("the stream from " + url + " ended early (no [DONE]); the server may have stopped");
    return r;
  }
  // A whole JSON response (stream false, or a server that ignored stream).
  auto j = json::parse(t.body, nullptr, false);
  if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty())
    return make_error("bad response from " + url + ": expected JSON with choices, got: " + t.body.substr(0, 200));
  const json& c = j["choices"][0];
  auto text_r = choice_text(c, false);
  if (!text_r.ok()) return make_error("bad response from " + url + ": " + text_r.error() + ": " + t.body.substr(0, 200));
  const std::string text(*text_r);
  if (auto fr = c.find("finish_reason"); fr != c.end() && fr->is_string()) r.finish_reason = *fr;
  if (auto u = j.find("usage"); u != j.end()) read_usage(*u, &r);
  if (!t.piece(text)) r.finish_reason = "cancelled";
  return r;
}

Result<std::vector<std::string>> OpenAIClient::models() {
  last_status_ = 0;
  const std::string url = base_ + "/v1/models";
  Easy e;
  if (!e.h) return make_error("libcurl could not start a transfer");
  char errbuf[CURL_ERROR_SIZE] = {0};
  common_options(e.h, opts_, errbuf);
  if (!opts_.api_key.empty())
    e.headers = curl_slist_append(e.headers, ("Authorization: Bearer " + opts_.api_key).c_str());
  curl_easy_setopt(e.h, CURLOPT_URL, url.c_str());
  if (e.headers) curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, e.headers);
  std::string body;
  curl_easy_setopt(
      e.h, CURLOPT_WRITEFUNCTION, +[](char* p, size_t size, size_t n, void* s) {
        auto* b = static_cast<std::string*>(s);
        if (b->size() > (size_t(16) << 20)) return size_t(0);
        b->append(p, size * n);
        return size * n;
      });
  curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &body);
  bool cancelled = false, idle = false;
  CURLcode rc = perform(e.h, nullptr, &cancelled, opts_.idle_timeout_s, &idle);
  long code = 0;
  curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &code);
  last_status_ = int(code);
  if (rc != CURLE_OK) return make_error(curl_failure(rc, errbuf, url, opts_, idle));
  if (code < 200 || code >= 300)
    return make_error("HTTP " + std::to_string(code) + " from " + url + ": " + error_message(body));
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array())
    return make_error("bad response from " + url + ": expected {\"data\": [...]}, got: " + body.substr(0, 200));
  std::vector<std::string> ids;
  for (const auto& m : j["data"])
    if (m.is_object() && m.contains("id") && m["id"].is_string()) ids.push_back(m["id"]);
  return ids;
}

}  // namespace cj::studio
