#include "studio/context_words.h"

#include <algorithm>
#include <cstdlib>

namespace cj::studio {
namespace {

bool starts(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }
// The number right after `prefix` in s (0 when there is none).
int64_t num_after(const std::string& s, size_t at) { return std::strtoll(s.c_str() + std::min(at, s.size()), nullptr, 10); }
bool took(const memory::Context& c, const char* step) {
  return std::find(c.degradations.begin(), c.degradations.end(), step) != c.degradations.end();
}
// The highest k of the steps "<prefix>k…" taken (0: none).
int64_t most(const memory::Context& c, const char* prefix) {
  int64_t k = 0;
  for (const auto& s : c.degradations)
    if (starts(s, prefix)) k = std::max(k, num_after(s, std::char_traits<char>::length(prefix)));
  return k;
}
std::string range(const storage::ChapterNumbering& n, int64_t a, int64_t b) {
  return a == b ? n.label(a) : n.label(a) + "至" + n.label(b);
}
// Arc k (1-based, oldest first) as its chapters.
std::string arc(const memory::Context& c, const storage::ChapterNumbering& n, int64_t k) {
  if (k < 1 || size_t(k) > c.arcs.size()) return "第 " + std::to_string(k) + " 卷";
  return range(n, c.arcs[size_t(k - 1)].first, c.arcs[size_t(k - 1)].second);
}

}  // namespace

std::string section_name(const std::string& kind) {
  if (kind == "instructions") return "写作要求";
  if (kind == "synopsis") return "前文梗概";
  if (kind == "arc_summaries") return "各卷摘要";
  if (kind == "chapter_summaries") return "章节摘要";
  if (kind == "entity_sheets") return "人物与设定";
  if (kind == "passages") return "检索到的前文片段";
  if (kind == "verbatim") return "前文原文";
  if (kind == "outline") return "大纲";
  if (kind == "current_text") return "当前正文";
  // The prompt plan's own sections around the book's (studio/prompt_plan.h).
  if (kind == "book_context") return "书稿上下文";
  if (kind == "after_cursor") return "光标之后";
  if (kind == "before_selection") return "选段之前";
  if (kind == "after_selection") return "选段之后";
  if (kind == "selection") return "选段";
  if (kind == "task") return "任务";
  return kind;
}

std::string section_reason(const memory::SectionInfo& s, const memory::Context& c, const storage::ChapterNumbering& n,
                           int64_t ordinal) {
  const std::string N = n.label(ordinal);
  const std::string& k = s.kind;
  if (k == "instructions") return "写作要求";
  if (k == "synopsis") {
    std::string r = c.synopsis_last >= 0 ? "写到" + n.label(c.synopsis_last) + "为止的梗概（" + N + "之前最后写完的一卷）"
                                         : N + "之前的梗概";
    if (took(c, "shorter synopsis")) r += "，为放进份额改用短版";
    return r;
  }
  if (k == "arc_summaries") {
    const int64_t dropped = most(c, "arc summary ");
    std::string r = N + "之前已写完的卷";
    std::string which;
    for (size_t a = size_t(dropped); a < c.arcs.size(); ++a)
      which += (which.empty() ? "" : "、") + range(n, c.arcs[a].first, c.arcs[a].second);
    if (!which.empty()) r += "：" + which;
    if (took(c, "shorter arc summaries")) r += "；改用短版";
    if (dropped > 0) r += "；最早的 " + std::to_string(dropped) + " 卷为放进份额去掉了";
    return r;
  }
  if (k == "chapter_summaries") {
    std::string r = N + "之前、没有放原文的 " + std::to_string(s.chapters.size()) + " 章";
    if (!s.chapters.empty()) r += "（" + range(n, s.chapters.front(), s.chapters.back()) + "之间）";
    if (took(c, "shorter chapter summaries")) r += "；改用短版";
    if (const int64_t a = most(c, "chapter summaries of arc "); a > 0)
      r += "；最早 " + std::to_string(a) + " 卷的各章只留卷摘要";
    if (const int64_t d = most(c, "oldest chapter summaries dropped ("); d > 0)
      r += "；最早的 " + std::to_string(d) + " 章摘要为放进份额去掉了";
    return r;
  }
  if (k == "entity_sheets") {
    const int64_t chosen = std::strtoll(s.reason.c_str(), nullptr, 10);
    const size_t of = s.reason.find(" of ");
    const int64_t all = of == std::string::npos ? chosen : num_after(s.reason, of + 4);
    std::string r = "正文或大纲提到的人物、地点、物件 " + std::to_string(chosen) + " 个";
    if (all > chosen) r += "（共提到 " + std::to_string(all) + " 个，按提到的次数取前 " + std::to_string(chosen) + " 个）";
    return r + "；只用" + N + "之前已写明的设定";
  }
  if (k == "passages") {
    std::string r = "按本章正文与大纲里的词从前文检索到的片段 " + std::to_string(c.passages.size()) + " 段（每段几句）";
    if (!s.chapters.empty()) {
      r += "，出自";
      for (size_t i = 0; i < s.chapters.size() && i < 8; ++i) r += (i ? "、" : "") + n.label(s.chapters[i]);
      if (s.chapters.size() > 8) r += " 等 " + std::to_string(s.chapters.size()) + " 章";
    }
    return r;
  }
  if (k == "verbatim") {
    if (starts(s.reason, "the end of") && !s.chapters.empty())
      return n.label(s.chapters.front()) + "的结尾（整章放不下）";
    std::string r = N + "之前紧挨着的 " + std::to_string(s.chapters.size()) + " 章原文";
    if (!s.chapters.empty()) r += "（" + range(n, s.chapters.front(), s.chapters.back()) + "）";
    return r;
  }
  if (k == "outline") return "本章大纲";
  if (k == "current_text") return starts(s.reason, "end of") ? "本章已写的正文（放不下，只留结尾）" : "本章已写的正文";
  return s.reason;
}

std::string step_words(const std::string& s, const memory::Context& c, const storage::ChapterNumbering& n) {
  auto tail_num = [&](const char* p) { return num_after(s, std::char_traits<char>::length(p)); };
  if (starts(s, "verbatim chapters ")) return "前文原文减到 " + std::to_string(tail_num("verbatim chapters ")) + " 章";
  if (starts(s, "chapter summaries of arc "))
    return arc(c, n, tail_num("chapter summaries of arc ")) + "的章节摘要改用卷摘要";
  if (s == "shorter chapter summaries") return "章节摘要改用短版";
  if (s == "no verbatim chapter") return "不放前文原文";
  if (s == "shorter arc summaries") return "卷摘要改用短版";
  if (s == "fewer entity sheets") return "人物与设定减半";
  if (starts(s, "arc summary ")) return "去掉" + arc(c, n, tail_num("arc summary ")) + "的卷摘要";
  if (s == "shorter synopsis") return "前文梗概改用短版";
  if (s == "no synopsis") return "不放前文梗概";
  if (starts(s, "oldest chapter summaries dropped ("))
    return "去掉最早的 " + std::to_string(tail_num("oldest chapter summaries dropped (")) + " 章摘要";
  if (starts(s, "passage reserve ")) return "检索片段的预留减到 " + std::to_string(tail_num("passage reserve ")) + " 令牌";
  if (s == "no reserved passages") return "不再为检索片段预留";
  if (starts(s, "current text cut to its last "))
    return "当前正文只留最后 " + std::to_string(tail_num("current text cut to its last ")) + " 令牌";
  return s;
}

}  // namespace cj::studio
