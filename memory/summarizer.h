// Summarizers behind one interface: extractive (extractive_summarizer.h: ranked sentences of the source itself,
// no model) and abstractive (abstractive_summarizer.h: the LLM, prompts in prompts.cpp). Lengths are in 字
// (text::zishu: 汉字 + full-width punctuation + one per Western word).
#pragma once
#include <string>
#include <vector>

#include "engine/base/result.h"

namespace cj::memory {

enum class SummaryLevel { kScene = 0, kChapter = 1, kArc = 2, kBook = 3 };
const char* level_name(SummaryLevel l);  // "场景", "章节", "卷", "全书"

struct SummaryRequest {
  SummaryLevel level = SummaryLevel::kChapter;
  std::string title;               // chapter title / "第1–10回" (prompts only)
  std::string text;                // what to summarize: the chapter text, or the child summaries joined
  size_t target_zi = 300;          // at most this many 字 (extractive: a hard limit; LLM: asked for)
  std::vector<std::string> names;  // the book's character names and aliases (weighted by the extractive ranker)
};

class Summarizer {
 public:
  virtual ~Summarizer() = default;
  virtual Result<std::string> summarize(const SummaryRequest& req) = 0;
  // Stored with each node: "extractive" or "abstractive:<model>".
  virtual std::string method() const = 0;
  // Whether summarize() may be called from several threads at once.
  virtual bool thread_safe() const = 0;
};

}  // namespace cj::memory
