// SearchIndex: full-text search over the chapters of a book (FTS5 table chapter_fts, tokenizer "cj",
// fts_tokenizer.h). The index follows chapter text automatically (SQL triggers on `chapters`, in the same
// transaction as the change).
//
// Query language: whitespace separates terms; every term must occur (AND); a term matches as an exact
// substring of the text (ignoring letter case and full-width/half-width forms — 阿Q finds 阿Ｑ; punctuation in a
// term matches any punctuation). Repeated terms count once; at most kMaxSearchTerms terms of kMaxSearchTermChars. Terms of one or
// two 汉字 work like any other (黛玉 is found inside 林黛玉). Ranking is BM25, with a bonus for chapters where a
// term (or a word of it, as segmented with the book's lexicon) occurs as a whole word, not only as a substring.
//
// The lexicon and consistency. Word tokens depend on the segmenter's lexicon (entity names and aliases of every
// book in the file). FTS5 deletes re-tokenize the old text, so the index must always be maintained with the
// lexicon it was built with: that lexicon is a snapshot (table search_lexicon, version
// meta.index_lexicon_version) and only rebuild() replaces it. Editing entities bumps meta.entities_version; the
// next search() on a writable database sees the difference and rebuilds first (about 0.5 s per million
// characters), and callers that change many entities may call rebuild() once themselves. Until then searches
// stay correct (substring matches never depend on the lexicon); only the whole-word bonus uses the old names.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

struct SearchHit {
  int64_t chapter_id = 0;
  int64_t ordinal = 0;   // chapter ordinal
  std::string title;
  std::string snippet;   // a passage around the best match, whole query terms wrapped in the open/close marks
  double score = 0;      // higher is better (negated BM25)
  int64_t hits = 0;      // occurrences of the query's terms in this chapter
};

// How many chapters match a query, and how many occurrences of its terms they hold.
struct SearchCount {
  int64_t chapters = 0;
  int64_t hits = 0;
};

// What a query turns into (for tests and benchmarks that bound the work): its distinct terms and the phrases of
// the FTS5 expression.
struct SearchPlan {
  std::string expr;
  size_t terms = 0;
  size_t phrases = 0;
  std::vector<std::string> term_list;  // the distinct terms, as typed (first spelling), in query order
};

// Limits on a query: terms are deduplicated first (阿Q and 阿Ｑ are the same term); more distinct terms, or a
// longer term, is an error that says so. A 10,000-character query therefore costs at most a 16-term expression.
inline constexpr size_t kMaxSearchTerms = 16;
inline constexpr size_t kMaxSearchTermChars = 64;

struct SearchOptions {
  int limit = 20;
  int snippet_tokens = 40;  // about this many characters of context
  std::string mark_open = "【";
  std::string mark_close = "】";
  std::string ellipsis = "…";
};

class SearchIndex {
 public:
  explicit SearchIndex(Database& db) : db_(db) {}

  // Chapters of `book_id` matching `query`, best first (at most opts.limit). An empty query (or one with no
  // letters/汉字) is an error; a query that matches nothing is an empty list.
  Result<std::vector<SearchHit>> search(int64_t book_id, std::string_view query, const SearchOptions& opts = {});
  // Every chapter matching `query` and the occurrences of its terms in them (not limited).
  Result<SearchCount> count(int64_t book_id, std::string_view query);
  // The expression a query becomes (after deduplication and limits).
  Result<SearchPlan> plan(std::string_view query);

  // Rebuilds the whole index with the current entity names and aliases as lexicon (one transaction).
  Status rebuild();
  // True when entities changed since the index lexicon was taken.
  Result<bool> stale();
  // rebuild() if stale() and the database is writable.
  Status refresh_if_stale();
  // FTS5's own integrity check (index agrees with chapter text); an error describes the damage.
  Status check();
  // Bytes used by the index (the chapter_fts_* shadow tables), via the dbstat virtual table when available.
  Result<int64_t> index_bytes();

  // The FTS5 MATCH expression for a user query (exposed for tests); error if the query has no terms.
  Result<std::string> match_expression(std::string_view query);

 private:
  struct Query {
    std::string expr;
    std::string phrase_terms;  // term index of each phrase in expression order, "-" for ranking-only ones ("0,-,-,1")
    size_t terms = 0;
    size_t phrases = 0;
    std::vector<std::string> term_list;
  };
  Result<Query> build_query(std::string_view query);

  Database& db_;
};

}  // namespace cj::storage
