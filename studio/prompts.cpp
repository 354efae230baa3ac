// Every Chinese prompt the workflows send to the model. Keep the fixed part first (see prompts.h).
#include "studio/prompts.h"

namespace cj::studio::prompts {

namespace {
std::string header(const std::string& book_title, const std::string& context) {
  std::string s = "你是一位经验丰富的中文长篇小说作者，正在协助作者续写《" + book_title + "》。\n";
  s += "保持人物性格、称谓、时间线和文风与前文一致；只输出正文，不加解释、标题或评论。\n\n";
  if (!context.empty()) s += "【前文与设定】\n" + context + "\n\n";
  return s;
}
}  // namespace

std::string continue_prompt(const std::string& book_title, const std::string& context, const std::string& chapter_heading,
                            const std::string& before, const std::string& after) {
  std::string s = header(book_title, context);
  if (!after.empty()) s += "【光标之后的原文（续写须能自然衔接）】\n" + after + "\n\n";
  s += "【任务】从光标处接着写下去。\n\n【" + chapter_heading + "】\n" + before;
  return s;
}

std::string draft_prompt(const std::string& book_title, const std::string& context, const std::string& chapter_heading,
                         const std::string& outline, int target_chars) {
  std::string s = header(book_title, context);
  s += "【本章大纲】\n" + outline + "\n\n";
  s += "【任务】按大纲写出本章正文，约" + std::to_string(target_chars) + "字，依次写到每个情节点，场景要具体，有对话和细节。\n\n";
  s += "【" + chapter_heading + "】\n";
  return s;
}

std::string rewrite_prompt(const std::string& mode, const std::string& book_title, const std::string& context,
                           const std::string& surrounding_before, const std::string& selection,
                           const std::string& surrounding_after, const std::string& instruction) {
  std::string s = header(book_title, context);
  if (!surrounding_before.empty()) s += "【选段之前】\n" + surrounding_before + "\n\n";
  if (!surrounding_after.empty()) s += "【选段之后】\n" + surrounding_after + "\n\n";
  s += "【选段】\n" + selection + "\n\n";
  std::string what = mode == "expand" ? "扩写" : mode == "condense" ? "精简" : "改写";
  s += "【任务】" + what + "上面的选段。要求：" + (instruction.empty() ? default_instruction(mode) : instruction) +
       "\n只输出" + what + "后的选段。\n\n【" + what + "结果】\n";
  return s;
}

std::string plain_prompt(const std::string& context, const std::string& chapter_heading, const std::string& outline,
                         const std::string& before) {
  std::string s = context;
  if (!s.empty() && s.back() != '\n') s += "\n";
  if (!chapter_heading.empty()) s += chapter_heading + "\n";
  if (!outline.empty()) s += outline + (outline.back() == '\n' ? "" : "\n");
  return s + before;
}

std::string default_instruction(const std::string& mode) {
  if (mode == "expand") return "在不改变情节的前提下，增加动作、对话与环境描写，篇幅约为原文的两倍。";
  if (mode == "condense") return "保留全部情节要点与关键对话，删去冗余描写，篇幅约为原文的一半。";
  return "语句更流畅自然，保持原意、人物口吻和情节不变。";
}

}  // namespace cj::studio::prompts
