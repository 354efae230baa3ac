// All prompt texts of the memory layer. Review changes here: they decide what the model is asked to do.
#include "memory/prompts.h"

namespace cj::memory::prompts {

std::string summary_prompt(const SummaryRequest& req) {
  const std::string n = std::to_string(req.target_zi);
  std::string what;
  switch (req.level) {
    case SummaryLevel::kScene: what = "下面是小说某一章中的一个场景"; break;
    case SummaryLevel::kChapter: what = "下面是小说的一章"; break;
    case SummaryLevel::kArc: what = "下面是小说连续若干章的章节摘要"; break;
    case SummaryLevel::kBook: what = "下面是小说从开头起各卷的摘要"; break;
  }
  std::string p = "你是一位严谨的文学编辑。" + what;
  if (!req.title.empty()) p += "（" + req.title + "）";
  p += "。请用简体中文写一段摘要，不超过" + n + "字。\n要求：\n"
       "1. 只写原文中发生的事，不评论，不猜测，不添加原文没有的情节；\n"
       "2. 写清楚出场人物的名字、他们做了什么、结果如何，按时间顺序叙述；\n"
       "3. 人物的生死、身份、关系、所在地点如有变化，必须写明；\n"
       "4. 直接输出摘要正文，不要标题，不要列表，不要说明。\n\n"
       "【原文】\n" + req.text + "\n【摘要（不超过" + n + "字）】\n";
  return p;
}

const char* task_name(Task t) {
  switch (t) {
    case Task::kContinue: return "continue";
    case Task::kDraft: return "draft";
    case Task::kCheck: return "check";
  }
  return "";
}

std::string instructions(Task t, const std::string& book_title) {
  std::string book = book_title.empty() ? "这部小说" : "《" + book_title + "》";
  std::string p = "【说明】\n你是" + book + "的合著者。下面依次给出：前文梗概、各卷摘要、各章摘要、"
                  "截至本章的人物与设定（已去世的人物会注明）、与本章相关的前文段落、最近几章原文，"
                  "以及当前任务的材料。请严格遵守前文已经确立的事实，人物的称呼、身份、生死、关系不得与之矛盾；"
                  "保持原作的语言风格、叙述视角和用词习惯。\n";
  switch (t) {
    case Task::kContinue:
      p += "任务：从“当前正文”的末尾接着往下写，不要重复已有的文字，不要总结，不要加标题。\n";
      break;
    case Task::kDraft:
      p += "任务：按照“本章大纲”写出本章的完整正文，情节以大纲为准，细节与前文一致。\n";
      break;
    case Task::kCheck:
      p += "任务：检查“当前正文”与前文是否矛盾（人物生死、称呼、关系、时间、地点、物品），"
           "逐条列出矛盾之处，并引用前文的章回作为依据；没有矛盾则回答“未发现矛盾”。\n";
      break;
  }
  return p + "\n";
}

const char* const kSynopsisHeading = "【前文梗概】\n";
const char* const kArcsHeading = "【各卷摘要】\n";
const char* const kChaptersHeading = "【各章摘要】\n";
const char* const kEntitiesHeading = "【人物与设定】\n";
const char* const kPassagesHeading = "【相关前文】\n";
const char* const kVerbatimHeading = "【最近章节原文】\n";
const char* const kOutlineHeading = "【本章大纲】\n";
const char* const kCurrentHeading = "【当前正文】\n";

}  // namespace cj::memory::prompts
