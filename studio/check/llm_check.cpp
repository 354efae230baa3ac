#include "studio/check/llm_check.h"

#include <set>

#include "studio/check/json_repair.h"

namespace cj::check {

namespace {

std::string str_field(const nlohmann::json& o, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = o.find(k);
    if (it != o.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

std::u32string trim_quote(std::u32string q) {
  auto strip = [](char32_t c) {
    return c == U' ' || c == U'　' || c == U'\n' || c == U'\t' || c == U'“' || c == U'”' || c == U'"' ||
           c == U'「' || c == U'」' || c == U'‘' || c == U'’' || c == U'…';
  };
  while (!q.empty() && strip(q.front())) q.erase(q.begin());
  while (!q.empty() && strip(q.back())) q.pop_back();
  return q;
}

}  // namespace

std::string llm_system_prompt() {
  return "你是一位严谨的长篇小说编辑，负责检查章节与前文设定是否矛盾。只报告确实的矛盾，不要评价文笔。";
}

std::string build_llm_prompt(const LlmCheckInput& in) {
  std::string p;
  p += "【前情提要】\n" + (in.summary_before.empty() ? std::string("（无）") : in.summary_before) + "\n\n";
  p += "【人物与设定（截至本章）】\n" + (in.entity_sheets.empty() ? std::string("（无）") : in.entity_sheets) + "\n\n";
  p += "【本章】" + in.chapter_title + "\n" + to_utf8(in.chapter->body) + "\n\n";
  p += "请找出本章与前情提要或人物设定相矛盾之处（如已死之人再出场、年龄/称谓/亲属关系/地名/物品归属不符、时间倒流）。"
       "只输出 JSON 数组，不要输出其他文字。每项格式：\n"
       "{\"quote\": \"本章原文中逐字摘录的一句（必须原样出现在本章）\", \"kind\": \"矛盾类型\", "
       "\"message\": \"用中文说明矛盾\", \"evidence\": \"与之矛盾的设定或前文\"}\n"
       "没有矛盾时输出 []。";
  return p;
}

LlmCheckResult parse_llm_answer(const LlmCheckInput& in, std::string_view answer) {
  LlmCheckResult r;
  auto parsed = parse_model_json(answer);
  if (!parsed.ok()) {
    r.error = parsed.error();
    return r;
  }
  r.repairs = parsed->repairs;
  nlohmann::json items = parsed->value;
  if (items.is_object()) {
    nlohmann::json inner;
    for (const char* k : {"contradictions", "findings", "issues", "results", "矛盾"})
      if (items.contains(k) && items[k].is_array()) inner = items[k];
    if (inner.is_null()) inner = nlohmann::json::array({items});
    items = inner;
  }
  if (!items.is_array()) {
    r.error = "the model's answer is JSON but not a list of contradictions";
    return r;
  }
  const std::u32string& body = in.chapter->body;
  std::set<std::pair<int64_t, int64_t>> seen;
  for (const auto& it : items) {
    if (!it.is_object()) {
      ++r.dropped_malformed;
      continue;
    }
    std::string quote = str_field(it, {"quote", "原文", "text"});
    std::string message = str_field(it, {"message", "problem", "reason", "说明", "description"});
    if (quote.empty() || message.empty()) {
      ++r.dropped_malformed;
      continue;
    }
    std::u32string q = trim_quote(to_u32(quote));
    if (q.size() < 2) {
      ++r.dropped_malformed;
      continue;
    }
    size_t at = body.find(q);
    if (at == std::u32string::npos) {  // invented or paraphrased: drop
      ++r.dropped_unverified;
      continue;
    }
    if (!seen.insert({int64_t(at), int64_t(at + q.size())}).second) continue;
    CheckFinding f;
    f.chapter = in.chapter->ordinal;
    f.start = int64_t(at);
    f.end = int64_t(at + q.size());
    f.kind = kKindLlm;
    std::string sub = str_field(it, {"kind", "type", "类型"});
    f.message = sub.empty() ? message : "【" + sub + "】" + message;
    std::string ev = str_field(it, {"evidence", "依据"});
    f.evidence = to_utf8(q) + (ev.empty() ? "" : " ｜ " + ev);
    r.findings.push_back(std::move(f));
  }
  return r;
}

LlmCheckResult llm_check(TextGenerator& gen, const LlmCheckInput& in) {
  memory::GenOptions opts;
  opts.max_tokens = 1024;
  opts.temperature = 0;  // the same chapter gives the same findings
  auto answer = gen.generate(llm_system_prompt() + "\n\n" + build_llm_prompt(in), opts, nullptr);
  if (!answer.ok()) {
    LlmCheckResult r;
    r.error = "the model failed: " + answer.error();
    return r;
  }
  return parse_llm_answer(in, *answer);
}

std::string entity_sheets_for(const BookKnowledge& k, const NameIndex& names, const CheckChapter& ch) {
  std::set<int64_t> present;
  const std::u32string& t = ch.body;
  for (size_t p = 0; p < t.size();) {
    size_t len = 0;
    const KnownEntity* e = is_han(t[p]) ? names.match(t, p, &len) : nullptr;
    if (e) {
      present.insert(e->id);
      p += len;
    } else {
      ++p;
    }
  }
  std::string out;
  for (const auto& e : k.entities) {
    if (!present.count(e.id)) continue;
    out += "- " + to_utf8(e.name) + "（" + e.kind;
    for (size_t i = 1; i < e.names.size(); ++i) out += (i == 1 ? "；又称" : "、") + to_utf8(e.names[i]);
    out += "）";
    for (const storage::Fact* f : k.facts_at(e.id, ch.ordinal, {})) {
      out += "；" + f->predicate + "：";
      if (f->object_id) {
        if (const KnownEntity* o = k.entity(*f->object_id)) out += to_utf8(o->name);
      } else {
        out += f->value;
      }
      if (f->valid_from) out += "（自" + k.label(*f->valid_from) + "）";
    }
    out += "\n";
  }
  return out;
}

}  // namespace cj::check
