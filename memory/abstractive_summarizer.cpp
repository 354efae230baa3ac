#include "memory/abstractive_summarizer.h"

#include "engine/base/text.h"
#include "memory/prompts.h"

namespace cj::memory {
namespace {

std::string trim(std::string s) {
  auto ws = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!s.empty() && ws(s.back())) s.pop_back();
  size_t b = 0;
  while (b < s.size() && ws(s[b])) ++b;
  s.erase(0, b);
  // Full-width spaces at the start.
  while (s.rfind("\xE3\x80\x80", 0) == 0) s.erase(0, 3);
  return s;
}

}  // namespace

Result<std::string> AbstractiveSummarizer::summarize(const SummaryRequest& req) {
  GenOptions o;
  // Chinese runs about 1–1.5 字 per token on Qwen; leave room for the model to finish its sentence.
  o.max_tokens = int(req.target_zi * 2 + 64);
  auto r = gen_.generate(prompts::summary_prompt(req), o, [](std::string_view) { return true; });
  if (!r.ok()) return Error{"summarizing " + req.title + ": " + r.error()};
  std::string s = trim(*r);
  for (const char* label : {"摘要：", "摘要:", "【摘要】"})
    if (s.rfind(label, 0) == 0) s = trim(s.substr(std::string(label).size()));
  if (text::zishu(s) > req.target_zi + req.target_zi / 2) {
    std::string cut;
    for (auto sent : text::sentences(s)) {
      if (text::zishu(cut) + text::zishu(sent) > req.target_zi + req.target_zi / 2) break;
      cut += sent;
    }
    if (!cut.empty()) s = cut;
  }
  if (s.empty()) return make_error("the model returned an empty summary for " + req.title);
  return s;
}

}  // namespace cj::memory
