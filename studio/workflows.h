// The writing workflows: continue at the cursor, draft a chapter from an outline to a target length in 字, and
// rewrite / expand / condense a selection. Each builds its context from the book, streams the generated text,
// and on completion saves the result as a new revision that is NOT current (Chapters::add_revision, source
// "ai") — the writer's text is never overwritten; accepting is Chapters::set_current.
//
// Resumable: a workflow can start from text already generated (`resume_text`, the job's checkpoint); the
// prompt is then context + that text, so the model continues where it stopped. When stopped (cancel, pause),
// nothing is saved and the result says so; the caller keeps the text as a checkpoint.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"
#include "storage/chapter_numbering.h"
#include "storage/database.h"
#include "studio/generator.h"

namespace cj::studio {

struct WorkflowParams {
  std::string kind = "continue";   // continue | draft | rewrite | expand | condense
  int64_t book_id = 0;
  int64_t ordinal = 1;             // chapter ordinal
  int64_t cursor = -1;             // continue: code points into the body; -1 = end
  std::string heading;             // draft: heading line of a chapter that is created ("" = numbered like the
                                   // previous chapter's heading, e.g. 第二十一回, then `title`)
  std::string title;               // draft: title of a chapter that is created, when `heading` is ""
  std::string outline;             // draft
  int target_chars = 3000;         // draft: about this many 字 (text::zishu: 汉字 + full-width punctuation);
                                   // continue/rewrite: at most max_tokens
  int64_t sel_begin = 0, sel_end = 0;  // rewrite: code points [begin, end) of the selection
  std::string instruction;         // rewrite: the writer's instruction ("" = the mode's default)
  int max_tokens = 512;            // continue / rewrite
  int context_tokens = 0;          // budget for the book context; 0 = half the context window
  float temperature = 0.8f;
  // Sampling seed; none = a fresh one (the job queue and the CLI draw it when the job is made, so a resumed job
  // keeps it). Round k of a draft samples with seed + k. Stored with the revision (its note: "… · seed N").
  std::optional<uint64_t> seed;
  std::string prompt_style = "instruct";  // instruct (Chinese instructions) | plain (base models: text only)
};
nlohmann::json to_json(const WorkflowParams& p);
Result<WorkflowParams> params_from_json(const nlohmann::json& j);  // validated, messages name the field

struct WorkflowProgress {
  int tokens = 0;        // generated in this run
  int64_t chars = 0;     // 字数 (count_zi = text::zishu) generated so far, including resumed text
  double fraction = 0;   // 0..1 of the target
};

struct WorkflowHooks {
  std::function<void(std::string_view piece, const WorkflowProgress&)> on_text;  // every piece
  // Called every checkpoint_every pieces with all text generated so far (resume_text + new).
  std::function<void(const std::string& text, const WorkflowProgress&)> on_checkpoint;
  int checkpoint_every = 32;
  std::atomic<bool>* stop = nullptr;  // set from any thread: generation stops within one token
  std::string kv_session;             // SessionRequest::kv_session of every request (a job's resume point)
};

struct WorkflowResult {
  bool completed = false;      // false: stopped before the end (nothing saved)
  int64_t chapter_id = 0;
  int64_t revision_id = 0;     // the new (not current) revision when completed
  std::string generated;       // all generated text (resume_text + new)
  int64_t chars = 0;           // 字数 (count_zi = text::zishu)
  int gen_tokens = 0;          // this run
  int reused_tokens = 0;       // prompt tokens found in the KV cache
  int prompt_tokens = 0;
  std::string stop_reason;
  uint64_t seed = 0;           // the sampling seed used (round k: seed + k)
  // How the text ends: "sentence" (a sentence end outside quotes), "paragraph" (a paragraph that ends a sentence,
  // its quotes left open), "in_quote" (a sentence end inside a quote that never closes), "open" (none of them:
  // a model that wrote no sentence end, or a continue the model stopped itself).
  std::string ending;
};

// The seed a workflow revision was sampled with, from its note (" · seed N"); none for other revisions.
std::optional<uint64_t> seed_of_note(const std::string& note);

// Runs one workflow on `db` (the caller's connection) with `engine`. Drafting a chapter that does not exist
// creates it (empty body, heading from params) first.
Result<WorkflowResult> run_workflow(storage::Database& db, Generator& engine, const WorkflowParams& p,
                                    const std::string& resume_text, const WorkflowHooks& hooks);

// The heading a chapter created by a draft gets: params.heading, else numbered like the chapter before it
// (第二十一回 after 第二十回) and followed by params.title.
std::string draft_heading(storage::Database& db, const WorkflowParams& p);
// New chapters follow the book's last one without a gap: drafting (or adding) from ordinal `first` is refused when it
// lies past the chapter right after the last, with a one-line error naming that next chapter
// ("the book ends at 第一百二十回; the next chapter is 第一百二十一回 (121)"; in Chinese for the GUI with chinese).
Status check_no_gap(const storage::ChapterNumbering& numbering, int64_t first, bool chinese = false);

// The 字 a draft's target and the progress figures count (CJK characters and full-width punctuation, plus one
// per Western word, so that a book in English is counted in words).
int64_t count_zi(std::string_view text);

// Byte offset of code point `cp` in s (s.size() when past the end).
size_t byte_offset_of(std::string_view s, int64_t cp);

}  // namespace cj::studio
