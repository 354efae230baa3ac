// The context builder: turns the book into one prompt text for a task at chapter N within a token budget
// measured by the model's own tokenizer.
//
// Sections, always in this order (a section with nothing in it is left out):
//   instructions · synopsis (book node) · arc summaries (arcs finished before N) · chapter summaries (chapters
//   before N not shown verbatim) · entity sheets as of N (entities mentioned in the working text) · retrieved
//   passages (BM25, retrieval.h; chapters shown verbatim excluded) · the last chapters verbatim · outline ·
//   current text.
// Everything is a function of the book state and the request, so the same state and task give byte-identical
// text (the engine's prefix cache hits); the parts that change while writing (passages, current text) come last.
//
// The budget plan. The room for the book (the budget minus instructions, outline and current text) is shared
// out before anything is cut. When the task (outline + the end of the current text) names words that occur in
// earlier chapters and that few of the book's passages contain (rare words: an object, a place, a minor
// character), `passage_share` of that room (default 30 %) is reserved for retrieved passages — the evidence —
// and the summaries and verbatim chapters are degraded until the rest fits in what is left; when it names only
// common words, a third of that share is reserved; when it names nothing found in earlier chapters, none. So
// chapter summaries never crowd out the passages the task asks for. Leftover room is filled with more passages,
// best first. The manifest (Context::shares) says what each share was and why.
//
// Over budget it degrades step by step: verbatim chapters 3 → 2 → 1, each replaced by its summary; chapter
// summaries of old arcs dropped in favour of the arc summary, oldest first; shorter chapter summaries; no
// verbatim chapter; shorter arc summaries; fewer entity sheets; arcs dropped oldest first; shorter synopsis,
// none; chapter summaries dropped oldest first; only then the passage reserve (halved twice, then none); finally
// the current text keeps only its end. Cuts are made at sentence ends (or at least between characters), never
// inside a UTF-8 character. The result's token count, measured on the whole text, is <= budget.
//
// Time runs one way: everything in a context for chapter N comes from chapters before N — the synopsis is the
// one as of the last arc finished before N (summary_tree.h), arcs finished before N, summaries and passages of
// chapters before N, entity sheets from the facts established before N (entity_sheets.h, known_before).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/tokenizer/tokenizer.h"
#include "memory/prompts.h"
#include "storage/database.h"

namespace cj::memory {

struct ContextRequest {
  int64_t book_id = 0;
  int64_t chapter = 1;            // N: the chapter being written / checked
  prompts::Task task = prompts::Task::kContinue;
  std::string outline;            // draft: the chapter outline (optional for the other tasks)
  std::string current_text;       // the chapter so far; empty: chapter N's stored body (continue/check)
  bool use_stored_current = true; // take chapter N's body when current_text is empty
  int64_t budget = 131072 - 4096; // tokens (default: 128k minus the generation reserve)
  std::string method = "extractive";  // which summary tree to read
  int max_verbatim = 3;
  double passage_share = 0.3;     // of the book room, reserved for passages when the task names rare words
  int max_passages = 200;
  // Only the book's sections (synopsis … verbatim chapters) go into the text: no instructions, outline or current
  // text, for a caller that writes its own prompt around them (studio's workflows). The outline and the current
  // text still choose the entity sheets and the passages.
  bool book_only = false;
  // A chapter before N whose body is empty but which has an AI draft (batch drafting) is shown verbatim through
  // its latest draft.
  bool drafts_stand_in = true;
};

struct SectionInfo {
  std::string kind;               // instructions, synopsis, arc_summaries, chapter_summaries, entity_sheets,
                                  // passages, verbatim, outline, current_text
  int64_t tokens = 0;             // tokens of the section's text alone
  std::vector<int64_t> chapters;  // chapter ordinals it draws on
  std::string reason;
};

struct PassageRef {
  int64_t chapter = 0, offset = 0, length = 0;
};

// One share of the budget plan: what the plan set aside for a kind of material, what it got, and why.
struct BudgetShare {
  std::string kind;        // fixed (instructions, outline, current text), summaries (synopsis, arcs, chapters),
                           // entity_sheets, verbatim, passages
  int64_t tokens = 0;      // tokens of its sections in the text
  int64_t reserved = 0;    // tokens set aside for it before anything was cut (passages only; 0 for the others)
  std::string reason;
};

struct Context {
  std::string text;
  int64_t tokens = 0;  // encode(text).size(), <= budget
  int64_t budget = 0;
  std::vector<SectionInfo> sections;
  std::vector<PassageRef> passages;     // the passages included
  std::vector<int64_t> verbatim;        // chapters included verbatim
  std::vector<std::string> degradations;  // the degradation steps taken, in order
  int64_t room = 0;                       // budget minus instructions, outline and current text (as planned)
  std::vector<BudgetShare> shares;        // the budget plan, in the order fixed, summaries, entity_sheets,
                                          // verbatim, passages
};

Result<Context> build_context(storage::Database& db, const Tokenizer& tok, const ContextRequest& req);

}  // namespace cj::memory
