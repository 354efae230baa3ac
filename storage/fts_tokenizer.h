// The "cj" FTS5 tokenizer: Chinese full-text search without a blind spot for one- or two-character queries.
//
// Every indexed position is one Han character (folded to simplified: 範 is 范, han_fold.h) or one run of
// letters/digits (case-folded, full-width forms folded to ASCII: Ｑ is q), so any Chinese
// string is found as a phrase of its characters — 黛玉 is found inside 林黛玉, 亮 alone works, a name broken by
// a hard line wrap still matches. On top of that, each word of two or more Han characters found by the
// segmenter (ICU word breaks overlaid with the book's lexicon of entity names and aliases, longest match wins;
// engine/base/segmenter.h) is indexed as an extra token colocated with its first character (FTS5_TOKEN_COLOCATED),
// spelled kWordMarker + word. Search uses those word tokens to rank passages where the query is a whole word
// above passages where it is only a substring across a word boundary (人参 vs 夫人参见). A run of punctuation
// is one break token (kBreakToken), so a phrase never matches across 。，！ (whitespace does not break: hard-wrapped
// text still matches).
//
// Modes: documents get characters + words; queries get characters, or one word token when the query string
// starts with kWordMarker; auxiliary functions (snippet/highlight) get characters only, without running ICU,
// which keeps snippets cheap (colocated tokens do not move positions, so positions agree with the index).
//
// The lexicon lives in SearchTokenizerState, one per connection (Database owns it). FTS5 deletes re-tokenize
// the old text, so the lexicon used by a connection must be the one the index was built with: see
// search_index.h for how that is kept true.
#pragma once
#include <cstdint>
#include <string>

#include "engine/base/result.h"
#include "engine/base/segmenter.h"

struct sqlite3;

namespace cj::storage {

// Bumped whenever the tokens of a text change (e.g. width folding); Database::open rebuilds an index built by another
// version, so that deletes re-tokenize exactly as inserts did.
inline constexpr int kTokenizerVersion = 3;

inline constexpr char kWordMarker = '\x01';
inline constexpr const char* kBreakToken = "\x02";

struct SearchTokenizerState {
  Lexicon lexicon;          // the index lexicon (a snapshot of entity names and aliases; search_index.h)
  Segmenter segmenter;      // uses `lexicon`
  int64_t version = -1;     // meta.index_lexicon_version this lexicon corresponds to; -1 = not loaded
  bool index_words = true;  // false: characters only (used to measure what the word tokens cost)
  SearchTokenizerState() { segmenter.set_lexicon(&lexicon); }
};

// Registers tokenizer "cj" on the connection; `state` must outlive it. Arguments in the table definition:
// tokenize='cj' (characters + words) or tokenize='cj chars' (characters only).
Status register_search_tokenizer(sqlite3* db, SearchTokenizerState* state);

// The non-SQLite core, exposed for tests. Calls sink(ctx, flags, token, token_bytes, byte_begin, byte_end)
// like FTS5's xToken (flags = FTS5_TOKEN_COLOCATED for word tokens); a non-zero return stops and is returned.
enum class TokenizeMode { kDocument, kQuery, kAux };
using TokenSink = int (*)(void* ctx, int flags, const char* token, int n, int begin, int end);
int tokenize_text(SearchTokenizerState& st, std::string_view text, TokenizeMode mode, bool words, void* ctx,
                  TokenSink sink);

}  // namespace cj::storage
