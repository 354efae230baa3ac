// The consistency checker: loads a book (chapters, entities, facts), runs the deterministic checks (name
// variants, after death, attributes, timeline) and optionally the LLM check on the chapters that are stale,
// and reconciles the results with the findings table:
//   - each finding has a key (kind + chapter + the sentence it quotes + the span text): a finding the writer
//     dismissed is not stored again while that text is unchanged;
//   - an open finding that a re-check no longer produces becomes "fixed"; a "fixed" one that comes back reopens;
//   - a chapter is stale when the hash of its text, the book's entities and facts, the story time before it
//     and the checker version differs from the one stored in check_state (schema v2).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"
#include "studio/check/check_types.h"
#include "studio/check/llm_check.h"

namespace cj::check {

struct CheckOptions {
  std::optional<int64_t> first, last;   // chapter ordinals, inclusive
  bool force = false;                   // re-check fresh chapters too
  TextGenerator* llm = nullptr;         // also run the LLM check
};

struct CheckReport {
  int chapters_checked = 0;
  int chapters_fresh = 0;               // skipped: unchanged since the last check
  int added = 0, kept = 0, fixed = 0, suppressed = 0;  // suppressed: dismissed before, text unchanged
  int llm_dropped_unverified = 0;
  std::vector<std::string> llm_errors;
  std::vector<std::string> notes;       // a check that ran in part (the shape rule without the CJK font)
};

// Pure: the deterministic findings for `which` chapters (ordinals) of a book given as text + knowledge.
std::vector<CheckFinding> run_deterministic(const BookKnowledge& k, const std::vector<CheckChapter>& all,
                                            const std::vector<int64_t>& which);

Result<CheckReport> check_book(storage::Database& db, int64_t book_id, const CheckOptions& opts);

// The stable key of a finding (see above); `body` is the chapter text.
std::string finding_key(const CheckFinding& f, std::u32string_view body);

}  // namespace cj::check
