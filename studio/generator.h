// What the workflows, the job queue and the CLI generate text with: the local engine (EngineSession) or an
// OpenAI-compatible server (RemoteGenerator, studio/remote_generator.h). Same request, streaming and stop
// semantics on both: on_text gets each piece as it arrives, returning false ends the request, and `stop` (set
// from any thread) ends it within one token with stop_reason "cancelled".
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/tokenizer/tokenizer.h"

namespace cj::studio {

struct SessionRequest {
  std::string prompt;                 // plain text (a ChatML user turn when chat is on)
  std::vector<ChatMessage> messages;  // when not empty: a whole conversation instead of prompt (chat format)
  int max_tokens = 512;
  float temperature = -1;  // < 0: the generator's default
  float top_p = -1;        // < 0: the generator's default
  // Sampling seed. None: a fresh one for this request (fresh_seed()), reported in SessionStats::seed, so that
  // trying again gives another text and any result can be reproduced with the seed it reports.
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  int chat = -1;  // 1: chat user turn, 0: plain text, -1: the generator's default
  // Local engine: a KV session file for this request (a job's resume point). Before the prompt, when the file
  // exists and the cache holds none of the prompt, it is loaded (a refused or damaged file is ignored and noted
  // in the stats); after a prefill of at least one 256-token block, the prompt's KV is written there, so a job
  // resumed after a stop, a crash or a restart does not prefill its book context again.
  std::string kv_session;
  // Local engine: pieces the engine may decode ahead of the caller's on_text. 1 (the default): a stop takes effect
  // within one token. A server streaming to many clients on a busy machine sets more, so that a client whose
  // thread runs late does not make its sequence sit out decode steps (the pieces after a stop are dropped either
  // way, so the text is the same).
  int read_ahead = 1;
};

struct SessionStats {
  int prompt_tokens = 0;  // tokens of the whole prompt
  int reused_tokens = 0;  // of those, found in the KV cache (not prefilled again)
  int gen_tokens = 0;
  double prefill_ms = 0, decode_ms = 0;  // remote: time to the first piece, and from there to the end
  double decode_tok_s = 0;
  std::string stop_reason;      // "eog", "stop_string", "length", "cancelled", "context_full" (remote: "stop")
  uint64_t seed = 0;            // the sampling seed used (the request's, or the fresh one drawn for it)
  std::vector<TokenId> tokens;  // generated ids (local engine only)
  int session_loaded_tokens = 0;  // tokens read from req.kv_session (local engine)
  bool session_saved = false;     // the prompt's KV was written to req.kv_session
  std::string session_note;       // why a session file was not used or not written
};

// A seed no earlier call in this process returned (random device, time and a counter mixed; 63 bits, so that it
// travels through JSON and OpenAI-style APIs as a non-negative integer).
uint64_t fresh_seed();

class Generator {
 public:
  virtual ~Generator() = default;

  // Generates a continuation of req.prompt; returns the whole generated text.
  virtual Result<std::string> generate(const SessionRequest& req, const std::function<bool(std::string_view)>& on_text,
                                       std::atomic<bool>* stop, SessionStats* stats = nullptr) = 0;
  // n choices of one prompt (seeds seed .. seed + n - 1); on_text gets (choice, piece). The default runs them one
  // after another; the local engine decodes them in one batch.
  virtual Result<std::vector<std::string>> generate_choices(const SessionRequest& req, int n,
                                                           const std::function<bool(int, std::string_view)>& on_text,
                                                           std::atomic<bool>* stop, std::vector<SessionStats>* stats) {
    std::vector<std::string> out;
    if (stats) stats->clear();
    const uint64_t base = req.seed ? *req.seed : fresh_seed();
    for (int i = 0; i < n; ++i) {
      SessionRequest r = req;
      r.seed = base + uint64_t(i);
      SessionStats st;
      auto t = generate(r, [&](std::string_view p) { return on_text ? on_text(i, p) : true; }, stop, &st);
      if (!t.ok()) return make_error(t.error());
      out.push_back(std::move(*t));
      if (stats) stats->push_back(std::move(st));
    }
    return out;
  }
  // Requests this generator runs at once when called from several threads (the rest wait in it or in its caller).
  virtual int max_parallel() const { return 1; }
  // Tokens of plain text (no BOS). Exact for the local engine; an upper-bound estimate for a remote server
  // (whose tokenizer is not here): used to fit context into the window.
  virtual int count_tokens(const std::string& text) const = 0;
  virtual int n_ctx() const = 0;             // tokens a prompt + its generation may take
  virtual bool has_chat_tokens() const = 0;  // instructions can be sent as a chat user turn
  virtual std::string name() const = 0;      // model name (file name, or the server's model id)
  // The model's own tokenizer when it is on this machine (local engine); null for a remote server.
  virtual const Tokenizer* own_tokenizer() const { return nullptr; }
};

}  // namespace cj::studio
