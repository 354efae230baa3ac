// The prompt plan: the one composer of what a writing request sends to the model. The workflows
// (run_workflow) send plan.prompt (plus, for a draft or a resumed job, the tail of the text written so far),
// and the context panel shows the same plan — so what the writer inspects is, byte for byte, what the model
// receives, section by section with each section's tokens.
//
// Budgets are shares of the real context window (the loaded model's n_ctx, or the server's):
//   window = generation reserve + instructions/headings/task (measured) + book context + the writer's text
// where, of what is left after the reserve and the fixed text, the book context gets 55 % (or the settings'
// context_budget when that is smaller) and the writer's text 45 % (续写: 35 % before the cursor, 10 % after it;
// 改写: the whole selection, then its surroundings; 起草: the text drafted so far). The shares do not depend on how
// long the chapter is, so consecutive requests keep the same book context and the KV prefix cache hits. The
// book context is memory's context builder (book sections only) run within its share; the plan's manifest says
// every share in the writer's words.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "studio/workflows.h"

namespace cj::studio {

struct PromptSection {
  // instructions · synopsis · arc_summaries · chapter_summaries · entity_sheets · passages · verbatim (the book
  // context, memory/context_builder.h) · after_cursor · outline · before_selection · after_selection · selection
  // · task · current_text
  std::string kind;
  std::string text;              // exact bytes: the prompt is the concatenation of the sections' texts
  int64_t tokens = 0;            // tokens of this text alone
  std::vector<int64_t> chapters; // chapter ordinals it draws on
  std::string reason;            // why it is there (the context builder's words for the book sections)
};

struct PromptPlan {
  std::string prompt;                  // what the model receives (before any text written so far)
  std::vector<PromptSection> sections;
  int n_ctx = 0;                       // the window
  int gen_reserve = 0;                 // tokens kept for the generated text of one request
  int fixed_tokens = 0;                // instructions, headings, task
  int book_budget = 0;                 // tokens the book context may take
  int text_budget = 0;                 // tokens the writer's text may take (before + after / selection / so far)
  int64_t book_tokens = 0;             // tokens the book context took
  int64_t prompt_tokens = 0;           // the whole prompt, counted as the generator counts it
  std::vector<std::string> degradations;  // the context builder's steps to fit its share, in the writer's words
                                       // (studio/context_words.h)
  std::vector<std::string> manifest;   // the window's shares, one line each, in the writer's words
  // What the workflow needs around the generated text: the chapter's text before and after the cursor or the
  // selection (whole, not cut), the selection, and the heading.
  int64_t chapter_id = 0;
  std::string heading, before, after, selection;
};

struct PromptTarget {
  const Tokenizer* tokenizer = nullptr;  // the model's own (a server: the bundled Qwen one): measures the book
  // Tokens of a text as the generator counts them (a server: an over-estimate); empty: the tokenizer's count.
  std::function<int(const std::string&)> count;
  int n_ctx = 0;
  std::string model;                     // for the manifest
};

// The plan for workflow `p` on `chapter` (for a draft of a chapter not made yet: chapter.id 0, heading set).
Result<PromptPlan> compose_prompt(storage::Database& db, const std::string& book_title, const storage::Chapter& chapter,
                                  const WorkflowParams& p, const PromptTarget& target);
// The same, looking the book and the chapter (by p.ordinal) up; a draft of a missing chapter is planned with the
// heading it would get.
Result<PromptPlan> compose_prompt(storage::Database& db, const WorkflowParams& p, const PromptTarget& target);

// The longest tail (or head) of text whose count is at most `budget` (cut between characters).
std::string fit_tail(const std::function<int(const std::string&)>& count, const std::string& text, int budget);
std::string fit_head(const std::function<int(const std::string&)>& count, const std::string& text, int budget);

// The heading a chapter is shown with in prompts.
std::string prompt_heading(const storage::ChapterInfo& c);

}  // namespace cj::studio
