// Retrieval: the passages of earlier chapters that matter for the text being written. Chapters before N are cut
// into passages (consecutive paragraphs up to about `passage_zi` 字; a longer paragraph is cut at sentence ends),
// segmented with ICU word breaks overlaid with the book's lexicon of names and aliases (engine/base/segmenter.h),
// and ranked by BM25 over words of two or more characters (single characters are mostly particles). A passage
// that mentions entities the query mentions (by name or alias) is boosted: score × (1 + entity_boost × shared
// entities). Each passage keeps its chapter ordinal and its code-point offset and length in the chapter body.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::memory {

struct Passage {
  int64_t chapter = 0;   // ordinal
  int64_t offset = 0;    // code points from the start of the chapter body
  int64_t length = 0;    // code points
  std::string text;
  double score = 0;
};

struct RetrievalOptions {
  size_t passage_zi = 300;
  double k1 = 1.2, b = 0.75;
  double entity_boost = 0.25;
  int threads = 2;
};

class PassageIndex {
 public:
  // Indexes the chapters with ordinal < before_chapter (all chapters when before_chapter <= 0).
  static Result<std::unique_ptr<PassageIndex>> build(storage::Database& db, int64_t book_id, int64_t before_chapter,
                                                     const RetrievalOptions& o = {});
  // The best `k` passages for `query`, best first (ties: earlier chapter, then offset). Passages that share no
  // word with the query are never returned.
  std::vector<Passage> search(const std::string& query, size_t k) const;
  size_t size() const { return passages_.size(); }

 private:
  PassageIndex() = default;
  struct Posting {
    uint32_t passage;
    uint32_t tf;
  };
  RetrievalOptions o_;
  std::vector<Passage> passages_;
  std::vector<uint32_t> lengths_;  // words per passage
  double avg_len_ = 1;
  std::unordered_map<std::string, std::vector<Posting>> postings_;
  std::vector<std::vector<std::string>> entity_forms_;  // per entity: name + aliases
  std::vector<std::string> lexicon_;
};

}  // namespace cj::memory
