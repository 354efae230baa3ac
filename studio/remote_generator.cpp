#include "studio/remote_generator.h"

namespace cj::studio {

int estimate_tokens(std::string_view text) {
  int64_t non_ascii = 0, ascii = 0;
  for (unsigned char c : text) {
    if (c < 0x80)
      ++ascii;
    else if ((c & 0xC0) != 0x80)
      ++non_ascii;  // a lead byte: one code point
  }
  return int(non_ascii + (ascii + 2) / 3);
}

Status validate(const RemoteSettings& s) {
  if (s.url.rfind("http://", 0) != 0 && s.url.rfind("https://", 0) != 0)
    return make_error(
        "the remote server URL must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1), got '" + s.url +
        "'");
  if (s.ctx < 64 || s.ctx > (1 << 22))
    return make_error("the remote context size must be between 64 and 4194304 tokens");
  if (s.temperature > 5) return make_error("temperature above 5 gives noise; use 0..2");
  if (s.connect_timeout_ms < 1 || s.idle_timeout_s < 1) return make_error("remote timeouts must be positive");
  return Status();
}

Result<std::unique_ptr<RemoteGenerator>> RemoteGenerator::open(const RemoteSettings& s) {
  CJ_TRY(validate(s));
  ClientOptions co;
  co.base_url = s.url;
  co.api_key = s.api_key;
  co.connect_timeout_ms = s.connect_timeout_ms;
  co.idle_timeout_s = s.idle_timeout_s;
  auto c = OpenAIClient::create(co);
  if (!c.ok()) return make_error(c.error());
  std::unique_ptr<RemoteGenerator> g(new RemoteGenerator());
  g->settings_ = s;
  g->client_ = std::move(c.value());
  if (g->settings_.model.empty()) {
    auto ids = g->client_->models();
    if (!ids.ok()) return make_error("no remote model given and listing the server's models failed: " + ids.error());
    if (ids->empty()) return make_error("the server at " + s.url + " lists no models; name one (--remote-model)");
    g->settings_.model = ids->front();
  }
  return g;
}

int RemoteGenerator::count_tokens(const std::string& text) const { return estimate_tokens(text); }

Result<std::string> RemoteGenerator::generate(const SessionRequest& req,
                                              const std::function<bool(std::string_view)>& on_text,
                                              std::atomic<bool>* stop, SessionStats* stats) {
  CompletionRequest cr;
  cr.model = settings_.model;
  const bool chat = req.chat < 0 ? settings_.chat : req.chat > 0;
  if (!req.messages.empty()) {
    for (const auto& m : req.messages) cr.messages.push_back({m.role, m.content});
  } else if (chat) {
    cr.messages.push_back({"user", req.prompt});
  } else {
    cr.prompt = req.prompt;
  }
  cr.max_tokens = std::max(1, req.max_tokens);
  cr.temperature = req.temperature >= 0 ? req.temperature : settings_.temperature;
  cr.top_p = req.top_p;
  const uint64_t seed = req.seed ? *req.seed : fresh_seed();  // sent, so that the result can be reproduced
  cr.seed = int64_t(seed & 0x7fffffffffffffffULL);
  cr.stop = req.stop;
  cr.stream = true;
  auto r = client_->complete(cr, on_text, stop);
  if (!r.ok()) return make_error(r.error());
  if (stats) {
    *stats = SessionStats();
    stats->prompt_tokens = std::max(0, r->prompt_tokens);
    stats->reused_tokens = std::max(0, r->cached_tokens);
    stats->gen_tokens = r->completion_tokens >= 0 ? r->completion_tokens : r->chunks;
    stats->prefill_ms = r->first_piece_ms;
    stats->decode_ms = r->total_ms - r->first_piece_ms;
    stats->decode_tok_s = stats->decode_ms > 0 ? 1000.0 * std::max(0, stats->gen_tokens - 1) / stats->decode_ms : 0;
    stats->stop_reason = r->finish_reason == "length" ? "length" : r->finish_reason;
    stats->seed = uint64_t(cr.seed);
  }
  return std::move(r->text);
}

}  // namespace cj::studio
