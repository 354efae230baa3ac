// cj_snippet(): the FTS5 auxiliary function behind SearchHit::snippet. FTS5's own snippet() scores every
// candidate window against every match and tokenizes the whole chapter for sentence breaks, which costs
// milliseconds per chapter for common characters; this one picks the window with the most distinct query terms
// (then the most matches) from the match positions alone and tokenizes only up to the window's end.
//   cj_snippet(chapter_fts, open_mark, close_mark, ellipsis, tokens [, phrase_terms])
// phrase_terms ("0,0,0,1") maps each query phrase, in expression order, to the user's term it came from, so
// that a term's whole-word and substring phrases count once.
// Whitespace runs inside the window become one space.
#pragma once
#include "engine/base/result.h"

struct sqlite3;

namespace cj::storage {

Status register_snippet_function(sqlite3* db);

}  // namespace cj::storage
