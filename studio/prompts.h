// The Chinese texts of the writing workflows' prompts, in one reviewable place (prompts.cpp). The prompt plan
// (studio/prompt_plan.h) puts them together with the book context, always in this order: what stays the same
// across requests (instructions, book context) first, the text being written last, so that a continued or
// resumed generation shares the KV-cached prefix.
//
// Instruct style (instruction-tuned models):
//   role · 【前文与设定】 + the book context · [续写: 【光标之后的原文】 · 【任务】 · 【heading】 + text before the
//   cursor] [起草: 【本章大纲】 · 【任务】 · 【heading】] [改写: 【选段之前】 · 【选段之后】 · 【选段】 · 【任务】 ·
//   【改写结果】]
// Plain style (base models that only continue text): the book context · heading line · outline line · text.
#pragma once
#include <string>

namespace cj::studio::prompts {

// The opening: who the model is and the rules (ends with a blank line).
std::string role(const std::string& book_title);
// The label in front of the book context.
extern const char* const kBookContextLabel;  // "【前文与设定】\n"
// 续写: the text after the cursor (may be cut), the task, and the chapter's heading line before the text.
std::string after_cursor(const std::string& after);
std::string continue_task();
std::string chapter_line(const std::string& heading);  // "【heading】\n"
// 起草: the outline and the task for about target_chars 字.
std::string outline_block(const std::string& outline);
std::string draft_task(int target_chars);
// 改写 / 扩写 / 精简 (mode "rewrite", "expand", "condense"): the surroundings, the selection, the task with the
// writer's instruction ("" = the mode's default), and the label the result follows.
std::string before_selection(const std::string& before);
std::string after_selection(const std::string& after);
std::string selection_block(const std::string& selection);
std::string rewrite_task(const std::string& mode, const std::string& instruction);
std::string rewrite_result_label(const std::string& mode);
// Plain style: the heading and the outline as opening lines.
std::string plain_line(const std::string& line);  // line + "\n" (nothing for "")

// The default instruction for each mode when the writer gives none.
std::string default_instruction(const std::string& mode);

}  // namespace cj::studio::prompts
