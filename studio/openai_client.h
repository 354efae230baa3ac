// A client for OpenAI-compatible servers (vLLM, SGLang, llama-server, changjuan-cli serve): chat and text
// completions, streamed over server-sent events, and the models list. libcurl; no engine code.
//
// The base URL is "http://host:port" or ".../v1" (both work). Errors carry the server's own message and the
// HTTP status ("HTTP 404 from http://...: The model 'x' does not exist"); connection failures and timeouts say
// what failed. Cancelling (the stop flag, or on_text returning false) aborts the transfer within one streamed
// piece (the flag is also polled every 50 ms while the server is silent, e.g. during its prefill).
// One request at a time per client object.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"

namespace cj::studio {

struct ClientOptions {
  std::string base_url;  // http(s)://host:port[/v1]
  std::string api_key;   // "" = no Authorization header
  int connect_timeout_ms = 10000;
  int idle_timeout_s = 300;  // the server sent nothing for this long: fail (covers a long prefill)
  int total_timeout_s = 0;   // 0 = no limit on a whole request
};

struct ClientMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

struct CompletionRequest {
  std::string model;
  std::vector<ClientMessage> messages;  // chat completions (/v1/chat/completions)
  std::string prompt;                   // text completions (/v1/completions) when messages is empty
  int max_tokens = 512;
  float temperature = -1;  // < 0: not sent (the server's default)
  float top_p = -1;        // < 0: not sent
  int64_t seed = -1;       // < 0: not sent
  std::vector<std::string> stop;
  bool stream = true;
};

struct CompletionResult {
  std::string text;
  std::string finish_reason;  // "stop", "length", ... from the server; "cancelled" when stopped here
  int prompt_tokens = -1;     // from the server's usage (-1: not reported)
  int completion_tokens = -1;
  int cached_tokens = -1;     // usage.prompt_tokens_details.cached_tokens
  int chunks = 0;             // streamed pieces with text
  double first_piece_ms = 0;  // request sent → first text
  double total_ms = 0;
};

class OpenAIClient {
 public:
  // Checks the URL (http:// or https://); connects nothing yet.
  static Result<std::unique_ptr<OpenAIClient>> create(const ClientOptions& opts);
  ~OpenAIClient();

  // on_text gets each piece of text (streaming: as it arrives; otherwise once); returning false stops the
  // request. `stop` may be null. A stopped request returns the text so far with finish_reason "cancelled".
  Result<CompletionResult> complete(const CompletionRequest& req, const std::function<bool(std::string_view)>& on_text,
                                    std::atomic<bool>* stop);
  Result<std::vector<std::string>> models();  // ids from GET /v1/models

  int last_http_status() const { return last_status_; }  // of the last request (0: no response)
  const std::string& base_url() const { return base_; }  // normalized: no trailing "/v1" or '/'

 private:
  OpenAIClient() = default;
  ClientOptions opts_;
  std::string base_;
  int last_status_ = 0;
};

// The request body complete() sends (exposed for tests).
std::string request_json(const CompletionRequest& req);

}  // namespace cj::studio
