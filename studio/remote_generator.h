// Generator over an OpenAI-compatible server (vLLM, SGLang, llama-server, changjuan-cli serve), for models
// larger than this machine holds. A request with chat on (the default) or with messages goes to
// /v1/chat/completions as a user turn / the conversation; chat off (prompt style "plain") goes to
// /v1/completions as raw text. Streaming, cancel within one piece, the server's errors as messages.
//
// The server's tokenizer is not here, so count_tokens() is an estimate meant to over-count (one token per
// non-ASCII code point, one per 3 ASCII bytes): the workflows use it to fit book context into n_ctx (the
// window the writer says the server has, --ctx).
#pragma once
#include <memory>
#include <string>

#include "engine/base/result.h"
#include "studio/generator.h"
#include "studio/openai_client.h"

namespace cj::studio {

struct RemoteSettings {
  std::string url;           // http(s)://host:port[/v1]
  std::string model;         // the server's model id ("" = the first one /v1/models lists)
  std::string api_key;       // "" = none
  int ctx = 4096;            // the server's context window, in tokens
  float temperature = 0.8f;  // default for requests that set none (< 0: the server's default)
  bool chat = true;          // default for requests with chat = -1
  int connect_timeout_ms = 10000;
  int idle_timeout_s = 300;
};

Status validate(const RemoteSettings& s);

class RemoteGenerator : public Generator {
 public:
  // Validates the settings; with no model set, asks the server for its models (the first one is used).
  static Result<std::unique_ptr<RemoteGenerator>> open(const RemoteSettings& s);

  Result<std::string> generate(const SessionRequest& req, const std::function<bool(std::string_view)>& on_text,
                               std::atomic<bool>* stop, SessionStats* stats = nullptr) override;
  int count_tokens(const std::string& text) const override;
  int n_ctx() const override { return settings_.ctx; }
  bool has_chat_tokens() const override { return true; }
  std::string name() const override { return settings_.model; }
  OpenAIClient& client() { return *client_; }

 private:
  RemoteGenerator() = default;
  RemoteSettings settings_;
  std::unique_ptr<OpenAIClient> client_;
};

// The estimate count_tokens() uses.
int estimate_tokens(std::string_view text);

}  // namespace cj::studio
