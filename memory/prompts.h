// Every prompt text memory sends to a model or puts into a context, in one reviewable place (prompts.cpp).
#pragma once
#include <cstddef>
#include <string>

#include "memory/summarizer.h"

namespace cj::memory::prompts {

// The summarization prompt for one node of the tree (Chinese, with a 字 target).
std::string summary_prompt(const SummaryRequest& req);

enum class Task { kContinue, kDraft, kCheck };
const char* task_name(Task t);  // "continue", "draft", "check"
// The instructions section that opens every context for `task`.
std::string instructions(Task t, const std::string& book_title);

// Section headings of the assembled context.
extern const char* const kSynopsisHeading;
extern const char* const kArcsHeading;
extern const char* const kChaptersHeading;
extern const char* const kEntitiesHeading;
extern const char* const kPassagesHeading;
extern const char* const kVerbatimHeading;
extern const char* const kOutlineHeading;
extern const char* const kCurrentHeading;

}  // namespace cj::memory::prompts
