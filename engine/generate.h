// The generation loop: prefill the prompt, then sample and decode token by token, streaming whole UTF-8 text
// through a callback, stopping on an end-of-generation token, a stop string, the token limit or a cancel flag
// set from another thread. Buffers are allocated before the loop.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/sampler.h"
#include "engine/tokenizer/tokenizer.h"

namespace cj {

struct GenerateParams {
  int n_predict = 128;              // tokens to generate at most
  SamplerParams sampling;
  std::vector<std::string> stop;    // stop strings (not included in the output)
  bool stop_on_eog = true;          // stop on end-of-generation tokens (and on BOS, which starts a new text)
};

struct GenerateStats {
  int prompt_tokens = 0;
  int gen_tokens = 0;
  double ttft_ms = 0;        // start → first token sampled (prefill + first sample)
  double prefill_ms = 0;
  double decode_ms = 0;      // time in the per-token forward passes after the first token
  double prefill_tok_s = 0;
  double decode_tok_s = 0;
  std::string stop_reason;   // "eog", "stop_string", "length", "cancelled", "context_full"
  std::vector<TokenId> tokens;  // generated ids
};

class StopFilter;

// One generation's state after the prompt: sampler, streaming decoder, stop strings, statistics. generate() drives
// one with a single sequence; the scheduler (engine/scheduler.h) drives many, one per sequence of a batch, so both
// sample, stream and stop the same way.
class Generation {
 public:
  // The Tokenizer must outlive this object. Statistics start counting now.
  Generation(const Tokenizer& tok, const std::vector<TokenId>& prompt, const GenerateParams& p, int n_vocab);
  ~Generation();
  Generation(Generation&&) noexcept;

  // Given the logits after the latest token ([n_vocab], modified by the penalties): samples the next token and
  // streams the text that became final through emit. Returns the token to evaluate next, or -1 when the generation
  // ended (eog, stop string, length; finished() is then true and the text flushed).
  TokenId step(float* logits, const std::function<void(std::string_view)>& emit);
  // Ends it from outside ("cancelled", "context_full", "error"): flushes the text held back.
  void finish(const std::string& reason, const std::function<void(std::string_view)>& emit);
  bool finished() const { return finished_; }
  // The prompt and every token generated so far (what a recomputed sequence must hold).
  const std::vector<TokenId>& history() const { return history_; }
  // Prefill and decode timings measured by the caller.
  void add_prefill_ms(double ms) { st_.prefill_ms += ms; }
  void add_decode(double ms, int steps) {
    st_.decode_ms += ms;
    n_decoded_ += steps;
  }
  GenerateStats& stats();

 private:
  void finish_(const std::string& reason, const std::function<void(std::string_view)>& emit);
  const Tokenizer& tok_;
  GenerateParams p_;
  std::vector<TokenId> history_;
  Sampler sampler_;
  StreamDecoder dec_;
  std::unique_ptr<StopFilter> filter_;
  std::chrono::steady_clock::time_point t0_;
  GenerateStats st_;
  TokenId prev_ = -1;
  int i_ = 0, n_decoded_ = 0;
  bool finished_ = false, strip_after_bos_ = false;
};

// on_text receives each piece of text as it becomes final (whole UTF-8 characters; text that might be the start
// of a stop string is held back until it is not). The backend continues from its current cache.
Result<GenerateStats> generate(Sequence& be, const Tokenizer& tok, const std::vector<TokenId>& prompt,
                               const GenerateParams& p, const std::function<void(std::string_view)>& on_text,
                               const std::atomic<bool>* cancel = nullptr);

// Prompt text → tokens: BOS when the vocabulary asks for it; chat = ChatML user turn (special tokens parsed).
std::vector<TokenId> tokenize_prompt(const Tokenizer& tok, const std::string& text, bool chat);

}  // namespace cj
