// The generation loop: prefill the prompt, then sample and decode token by token, streaming whole UTF-8 text
// through a callback, stopping on an end-of-generation token, a stop string, the token limit or a cancel flag
// set from another thread. Buffers are allocated before the loop.
#pragma once
#include <atomic>
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

// on_text receives each piece of text as it becomes final (whole UTF-8 characters; text that might be the start
// of a stop string is held back until it is not). The backend continues from its current cache.
Result<GenerateStats> generate(Sequence& be, const Tokenizer& tok, const std::vector<TokenId>& prompt,
                               const GenerateParams& p, const std::function<void(std::string_view)>& on_text,
                               const std::atomic<bool>* cancel = nullptr);

// Prompt text → tokens: BOS when the vocabulary asks for it; chat = ChatML user turn (special tokens parsed).
std::vector<TokenId> tokenize_prompt(const Tokenizer& tok, const std::string& text, bool chat);

}  // namespace cj
