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
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"
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
  uint64_t seed = 0;
  std::string prompt_style = "instruct";  // instruct (Chinese instructions) | plain (base models: text only)
};
nlohmann::json to_json(const WorkflowParams& p);
Result<WorkflowParams> params_from_json(const nlohmann::json& j);  // validated, messages name the field

struct WorkflowProgress {
  int tokens = 0;        // generated in this run
  int64_t chars = 0;     // 字数 generated so far (text::zishu, including resumed text)
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
  int64_t chars = 0;           // 字数 (text::zishu) of `generated`
  int gen_tokens = 0;          // this run
  int reused_tokens = 0;       // prompt tokens found in the KV cache
  int prompt_tokens = 0;
  std::string stop_reason;
};

// Runs one workflow on `db` (the caller's connection) with `engine`. Drafting a chapter that does not exist
// creates it (empty body, heading from params) first.
Result<WorkflowResult> run_workflow(storage::Database& db, Generator& engine, const WorkflowParams& p,
                                    const std::string& resume_text, const WorkflowHooks& hooks);

// The book context for chapter `ordinal` within budget_tokens, from memory's context builder (book sections only:
// synopsis, arc and chapter summaries of the summary tree when it is built, entity sheets as of the chapter,
// passages retrieved for the outline / current text, the last chapters verbatim — an undrafted chapter through
// its latest AI draft). Same book state and request → byte-identical text, so the KV prefix is reused.
Result<std::string> book_context(storage::Database& db, Generator& engine, int64_t book_id, int64_t ordinal,
                                 int budget_tokens, const std::string& outline = "",
                                 const std::string& current_text = "");

// Byte offset of code point `cp` in s (s.size() when past the end).
size_t byte_offset_of(std::string_view s, int64_t cp);

}  // namespace cj::studio
