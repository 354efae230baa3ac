// Abstractive summarizer: asks the LLM (through TextGenerator) for a summary in Chinese with a 字 target
// (prompts.cpp). The answer is trimmed of whitespace and of any "摘要：" label the model adds; if it runs over
// the target by more than half it is cut at the last sentence end that fits (never inside a character).
#pragma once
#include "memory/summarizer.h"
#include "memory/text_generator.h"

namespace cj::memory {

class AbstractiveSummarizer final : public Summarizer {
 public:
  explicit AbstractiveSummarizer(TextGenerator& gen) : gen_(gen) {}
  Result<std::string> summarize(const SummaryRequest& req) override;
  std::string method() const override { return "abstractive:" + gen_.name(); }
  bool thread_safe() const override { return false; }

 private:
  TextGenerator& gen_;
};

}  // namespace cj::memory
