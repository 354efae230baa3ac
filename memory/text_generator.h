// The one thing memory needs from a language model: text in, text out, streamed. studio implements it over the
// engine (or a remote server); tests use a fake. memory never sees tokens, backends or sampling details.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "engine/base/result.h"

namespace cj::memory {

struct GenOptions {
  int max_tokens = 512;         // generated tokens at most
  float temperature = 0.3f;     // summaries want little randomness
  uint64_t seed = 0;
};

class TextGenerator {
 public:
  virtual ~TextGenerator() = default;
  // Generates a continuation of `prompt` (a user instruction; the implementation applies the chat template).
  // on_text receives each new piece; returning false cancels (the text so far is returned). Returns the whole
  // generated text.
  virtual Result<std::string> generate(const std::string& prompt, const GenOptions& opts,
                                       std::function<bool(std::string_view)> on_text) = 0;
  // A short identifier of the model, stored with each summary ("abstractive:<name>").
  virtual std::string name() const = 0;
};

}  // namespace cj::memory
