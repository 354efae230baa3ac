// Extractive summarizer: TextRank over the sentences of the source (text::split_sentences). Sentences are nodes;
// edges weigh the Han-character bigrams two sentences share, normalized by their lengths (TextRank's
// similarity); PageRank ranks them. A sentence that names the book's characters is weighted up. Sentences are
// picked best first, skipping any that mostly repeats one already picked, until the 字 target is reached; the
// summary is the picked sentences, verbatim, in their original order. No model, deterministic, thread-safe.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "memory/summarizer.h"

namespace cj::memory {

struct ExtractiveOptions {
  double damping = 0.85;
  int iterations = 30;
  double name_weight = 0.5;     // score *= 1 + name_weight * min(names in the sentence, 3)
  double redundancy = 0.6;      // skip a sentence sharing more than this share of its bigrams with a picked one
  size_t min_sentence_zi = 4;   // shorter sentences ("是。") are never picked
};

class ExtractiveSummarizer final : public Summarizer {
 public:
  explicit ExtractiveSummarizer(ExtractiveOptions o = {}) : o_(o) {}
  Result<std::string> summarize(const SummaryRequest& req) override;
  std::string method() const override { return "extractive"; }
  bool thread_safe() const override { return true; }

  // The picked sentences (views into `text`), in text order; their 字 sum is <= target_zi.
  std::vector<std::string_view> pick(std::string_view text, size_t target_zi,
                                     const std::vector<std::string>& names) const;

 private:
  ExtractiveOptions o_;
};

// Joins sentences into one text: no separator after a sentence that ends with a terminator (。！？…, optionally
// followed by closing quotes), a line break otherwise, so that splitting the result gives the same sentences.
std::string join_sentences(const std::vector<std::string_view>& sentences);

}  // namespace cj::memory
