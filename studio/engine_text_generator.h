// memory's TextGenerator over a Generator (the local engine or a remote server): what the abstractive
// summarizer and the LLM consistency checks call. Instructions are sent as a chat user turn when the model has them.
// (Compiled only once memory/text_generator.h is in the tree; memory lands on its own branch.)
#pragma once
#if __has_include("memory/text_generator.h")
#define CJ_STUDIO_HAVE_TEXT_GENERATOR 1
#include <atomic>

#include "memory/text_generator.h"
#include "studio/generator.h"

namespace cj::studio {

class EngineTextGenerator : public memory::TextGenerator {
 public:
  // `engine` must outlive this object; `stop` (may be null) cancels from another thread within one token.
  explicit EngineTextGenerator(Generator& engine, std::atomic<bool>* stop = nullptr) : engine_(engine), stop_(stop) {}

  Result<std::string> generate(const std::string& prompt, const memory::GenOptions& opts,
                               std::function<bool(std::string_view)> on_text) override {
    SessionRequest req;
    req.prompt = prompt;
    req.max_tokens = opts.max_tokens;
    req.temperature = opts.temperature;
    req.seed = opts.seed;
    req.chat = engine_.has_chat_tokens() ? 1 : 0;
    return engine_.generate(req, [&](std::string_view piece) { return on_text ? on_text(piece) : true; }, stop_);
  }
  std::string name() const override { return engine_.name(); }

 private:
  Generator& engine_;
  std::atomic<bool>* stop_;
};

}  // namespace cj::studio
#endif
