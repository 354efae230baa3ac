// Every Chinese text the workflows send to the model. The order they are put together in is prompt_plan.cpp's.
#include "studio/prompts.h"

namespace cj::studio::prompts {

const char* const kBookContextLabel = "【前文与设定】\n";

std::string role(const std::string& book_title) {
  std::string s = "你是一位经验丰富的中文长篇小说作者，正在协助作者续写《" + book_title + "》。\n";
  s += "保持人物性格、称谓、时间线和文风与前文一致；只输出正文，不加解释、标题或评论。\n\n";
  return s;
}

std::string after_cursor(const std::string& after) {
  return after.empty() ? std::string() : "【光标之后的原文（续写须能自然衔接）】\n" + after + "\n\n";
}

std::string continue_task() { return "【任务】从光标处接着写下去。\n\n"; }

std::string chapter_line(const std::string& heading) { return "【" + heading + "】\n"; }

std::string outline_block(const std::string& outline) { return "【本章大纲】\n" + outline + "\n\n"; }

std::string draft_task(int target_chars) {
  return "【任务】按大纲写出本章正文，约" + std::to_string(target_chars) +
         "字，依次写到每个情节点，场景要具体，有对话和细节；写到一句话的结尾为止。\n\n";
}

std::string before_selection(const std::string& before) {
  return before.empty() ? std::string() : "【选段之前】\n" + before + "\n\n";
}
std::string after_selection(const std::string& after) {
  return after.empty() ? std::string() : "【选段之后】\n" + after + "\n\n";
}
std::string selection_block(const std::string& selection) { return "【选段】\n" + selection + "\n\n"; }

namespace {
std::string verb(const std::string& mode) { return mode == "expand" ? "扩写" : mode == "condense" ? "精简" : "改写"; }
}  // namespace

std::string rewrite_task(const std::string& mode, const std::string& instruction) {
  const std::string what = verb(mode);
  return "【任务】" + what + "上面的选段。要求：" + (instruction.empty() ? default_instruction(mode) : instruction) +
         "\n只输出" + what + "后的选段。\n\n";
}

std::string rewrite_result_label(const std::string& mode) { return "【" + verb(mode) + "结果】\n"; }

std::string plain_line(const std::string& line) {
  if (line.empty()) return "";
  return line.back() == '\n' ? line : line + "\n";
}

std::string default_instruction(const std::string& mode) {
  if (mode == "expand") return "在不改变情节的前提下，增加动作、对话与环境描写，篇幅约为原文的两倍。";
  if (mode == "condense") return "保留全部情节要点与关键对话，删去冗余描写，篇幅约为原文的一半。";
  return "语句更流畅自然，保持原意、人物口吻和情节不变。";
}

}  // namespace cj::studio::prompts
