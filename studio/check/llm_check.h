// LLM consistency check over memory::TextGenerator:
// the chapter, the entity sheets as of that chapter and a summary of what came before go into a prompt that asks
// for contradictions as JSON, each with a verbatim quote from the chapter. The answer is parsed leniently
// (json_repair.h); every quote is looked up in the chapter and a finding whose quote is not there is dropped
// (models invent quotes). Nothing here can crash on a bad answer: the worst case is an error in the result.
#pragma once
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "memory/text_generator.h"
#include "studio/check/check_types.h"

namespace cj::check {

// The model behind the check is memory's TextGenerator (the one interface studio implements over the local
// engine, a remote server or a test fake).
using memory::TextGenerator;

struct LlmCheckInput {
  const CheckChapter* chapter = nullptr;
  std::string chapter_title;
  std::string entity_sheets;   // the relevant entities as of this chapter (names, aliases, facts)
  std::string summary_before;  // what happened before this chapter
};

struct LlmCheckResult {
  std::vector<CheckFinding> findings;
  int dropped_unverified = 0;  // findings whose quote is not in the chapter
  int dropped_malformed = 0;   // items without a usable quote or message
  std::string repairs;         // what json repair did, if anything
  std::string error;           // the answer was unusable (no findings then)
};

std::string llm_system_prompt();
std::string build_llm_prompt(const LlmCheckInput& in);
// Parses a model answer into findings for in.chapter (verification included).
LlmCheckResult parse_llm_answer(const LlmCheckInput& in, std::string_view answer);
LlmCheckResult llm_check(TextGenerator& gen, const LlmCheckInput& in);

// A plain-text entity sheet: the entities named in the chapter with aliases and the facts that hold there.
std::string entity_sheets_for(const BookKnowledge& k, const NameIndex& names, const CheckChapter& ch);

}  // namespace cj::check
