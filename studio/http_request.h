// The HTTP server's parsing, apart from its sockets so that it can be tested and fuzzed on bytes alone
// (tests/fuzz/fuzz_http_request.cpp): the request head, the body's framing, the security checks of a local
// server (Host, browser Origin, API key) and the OpenAI-style completion request in the body. Nothing here
// throws or trusts a length, a type or a nesting depth from the client; every failure is an HTTP status with a
// one-line message.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "studio/generator.h"

namespace cj::studio {

constexpr size_t kMaxRequestHead = 16 << 10;  // request line + headers
constexpr size_t kMaxHeaderCount = 100;

struct HttpRequest {
  std::string method, path;                    // path without the query, trailing '/' dropped
  std::map<std::string, std::string> headers;  // names lower-cased, values trimmed
  std::string body;
  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

// An HTTP status and a message for the client (status 0 = fine).
struct HttpError {
  int status = 0;
  std::string message;
  std::string code;  // OpenAI-style error code ("invalid_json", "unauthorized", …)
  explicit operator bool() const { return status != 0; }
};

// Parses the head (everything before the blank line that ends it, without it).
HttpError parse_request_head(std::string_view head, HttpRequest* rq);

// The body's length from Content-Length (digits only, at most max_body; no Transfer-Encoding). A GET or HEAD
// carries no body (*len = 0).
HttpError body_length(const HttpRequest& rq, size_t max_body, size_t* len);

// Who may talk to the server. A browser page can reach 127.0.0.1 too, so: the Host header must name this server
// (DNS rebinding), a request from a browser page of another origin is refused unless that origin was allowed
// (CORS), and with an API key every request but GET /health must carry "Authorization: Bearer KEY".
struct AccessPolicy {
  std::string bind_host = "127.0.0.1";  // the address the server listens on
  int port = 0;
  std::vector<std::string> allow_hosts;  // more Host names (with or without :port)
  std::vector<std::string> cors_origins; // browser origins allowed ("http://localhost:5173", or "*")
  std::string api_key;                   // empty: no key needed
};
HttpError check_access(const HttpRequest& rq, const AccessPolicy& policy);
// The origin a response may name in Access-Control-Allow-Origin ("" = none).
std::string cors_origin(const HttpRequest& rq, const AccessPolicy& policy);

// A validated completion request.
struct GenRequest {
  int n = 1;  // choices
  bool chat = true;
  bool stream = false;
  bool include_usage = false;
  SessionRequest req;
};

constexpr int kMaxJsonDepth = 64;
constexpr size_t kMaxJsonValues = 1u << 16;

// Parses and validates a completion request body (chat: /v1/chat/completions, else /v1/completions): JSON
// within kMaxJsonDepth / kMaxJsonValues, then every field's type and range. 400 names the field, 404 an unknown
// model.
HttpError parse_completion_request(std::string_view body, bool chat, const std::string& model_name,
                                   int default_max_tokens, GenRequest* g);

}  // namespace cj::studio
