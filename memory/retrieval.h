// Retrieval: the passages of earlier chapters that matter for the text being written.
//
// Passages are short windows of consecutive sentences (text::split_sentences; a sentence longer than twice the
// window is cut into window-sized pieces): a window starts at a sentence and takes sentences until it holds
// about `passage_zi` 字, and the next window starts half a window later, so every pair of neighbouring sentences
// shares at least one window. Windows never cross chapters; they may cross paragraphs (dialogue lines are short).
//
// Terms are the words from ICU word breaks overlaid with the book's lexicon of names and aliases
// (engine/base/segmenter.h; every word counts, single characters included) plus the bigrams of consecutive Han
// characters, so that a phrase the dictionary cuts differently in the query and in the book (一件事情 = 一件|事情,
// 那件事情 = 那件事|情) still matches. Ranking is BM25 over the windows, so a term's weight is its
// inverse document frequency over the book's passages: a rare object noun found in a dozen passages outweighs a
// name found in a thousand. A window that mentions entities the query mentions (by name or alias) is boosted:
// score × (1 + entity_boost × shared entities). search() returns windows that do not overlap each other (a
// window overlapping a better one is skipped), each with its chapter ordinal and its code-point offset and
// length in the chapter body.
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
  size_t passage_zi = 120;  // about this many 字 per window (a few sentences)
  double k1 = 1.2, b = 0.75;
  double entity_boost = 0.25;
  int threads = 2;
};

// A word of the query as the index sees it.
struct QueryTerm {
  std::string word;
  uint32_t df = 0;   // passages that contain it
  double idf = 0;    // BM25 idf over the book's passages
};

class PassageIndex {
 public:
  // Indexes the chapters with ordinal < before_chapter (all chapters when before_chapter <= 0).
  static Result<std::unique_ptr<PassageIndex>> build(storage::Database& db, int64_t book_id, int64_t before_chapter,
                                                     const RetrievalOptions& o = {});
  // The same index, shared: the last two indexes built through shared() are kept, keyed by a hash of everything
  // the index is made of (the chapters' ordinals and text, the lexicon, the options), so that building contexts
  // for one chapter again and again (the assistant, an evaluation) segments the book once; any edit, a new
  // entity or alias, or another chapter N makes a new key. Thread-safe.
  static Result<std::shared_ptr<const PassageIndex>> shared(storage::Database& db, int64_t book_id,
                                                            int64_t before_chapter, const RetrievalOptions& o = {});
  // The best `k` non-overlapping passages for `query`, best first (ties: earlier chapter, then offset).
  // Passages that share no word with the query are never returned.
  std::vector<Passage> search(const std::string& query, size_t k) const;
  // The distinct words of `query` that occur in the indexed chapters, rarest first (the context builder uses
  // them to decide whether the task names things from earlier chapters, and to say so in its manifest).
  std::vector<QueryTerm> query_terms(const std::string& query) const;
  size_t size() const { return passages_.size(); }

 private:
  PassageIndex() = default;
  struct Source;  // what an index is made of, read from the database
  static Result<Source> read(storage::Database& db, int64_t book_id, int64_t before_chapter);
  static std::unique_ptr<PassageIndex> make(Source src, const RetrievalOptions& o);
  uint32_t intern(const std::string& word);
  uint32_t intern(uint64_t bigram);
  std::vector<std::pair<uint32_t, uint32_t>> lookup(const std::string& text) const;  // (term, count in text)
  double idf(size_t df) const;
  struct Posting {
    uint32_t passage;
    uint32_t tf;
  };
  RetrievalOptions o_;
  std::vector<Passage> passages_;  // in chapter, offset order
  std::vector<uint32_t> lengths_;  // terms per passage
  double avg_len_ = 1;
  std::unordered_map<std::string, uint32_t> word_ids_;   // word -> term id
  std::unordered_map<uint64_t, uint32_t> bigram_ids_;    // Han bigram -> term id
  std::vector<std::vector<Posting>> postings_;           // by term id, passages ascending
  std::vector<std::vector<std::string>> entity_forms_;  // per entity: name + aliases
  std::vector<std::string> lexicon_;
};

}  // namespace cj::memory
