// The Chinese prompts of the writing workflows, in one reviewable place (prompts.cpp). Each prompt is built so
// that everything that stays the same across requests (instructions, book context) comes first and the text
// being written comes last: a resumed or continued generation then shares the KV-cached prefix.
#pragma once
#include <string>

namespace cj::studio::prompts {

// Continue writing at the cursor: `before` is the text up to the cursor, `after` (may be empty) what follows.
std::string continue_prompt(const std::string& book_title, const std::string& context, const std::string& chapter_heading,
                            const std::string& before, const std::string& after);

// Draft a chapter from an outline (beats) to about target_chars 字. The generated text follows the prompt.
std::string draft_prompt(const std::string& book_title, const std::string& context, const std::string& chapter_heading,
                         const std::string& outline, int target_chars);

// Rewrite / expand / condense a selection with the writer's instruction (mode: "rewrite", "expand", "condense").
std::string rewrite_prompt(const std::string& mode, const std::string& book_title, const std::string& context,
                           const std::string& surrounding_before, const std::string& selection,
                           const std::string& surrounding_after, const std::string& instruction);

// Plain style, for base models that only continue text (no instructions): the book context, the heading, the
// outline (draft) as the opening line, then the text so far.
std::string plain_prompt(const std::string& context, const std::string& chapter_heading, const std::string& outline,
                         const std::string& before);

// The default instruction for each mode when the writer gives none.
std::string default_instruction(const std::string& mode);

}  // namespace cj::studio::prompts
