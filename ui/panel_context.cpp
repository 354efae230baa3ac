// The context inspector: what memory's context builder would give the model for the open chapter, built on the
// assistant's worker (never in the frame): a stacked bar of the token budget by section (colors, legend, token
// counts) and a tree to open each section (its text and why it was included). Rebuilt on request or when
// another chapter is opened.
#include <imgui.h>

#include <algorithm>
#include <string>

#include "ui/panel.h"

namespace cj::ui {
namespace {

struct Kind {
  const char* id;
  const char* label;
  ImU32 color;
};
constexpr Kind kKinds[] = {
    {"instructions", "指令", IM_COL32(120, 120, 130, 255)},      {"synopsis", "全书梗概", IM_COL32(86, 130, 190, 255)},
    {"arc_summaries", "卷摘要", IM_COL32(110, 170, 210, 255)},    {"chapter_summaries", "章节摘要", IM_COL32(90, 170, 140, 255)},
    {"entity_sheets", "人物卡", IM_COL32(200, 150, 70, 255)},     {"passages", "检索片段", IM_COL32(170, 110, 180, 255)},
    {"verbatim", "前文原文", IM_COL32(210, 110, 100, 255)},       {"outline", "大纲", IM_COL32(150, 160, 80, 255)},
    {"current_text", "当前正文", IM_COL32(60, 60, 70, 255)},
};
const Kind& kind_of(const std::string& k) {
  for (const auto& x : kKinds)
    if (k == x.id) return x;
  return kKinds[0];
}

// The builder's degradation steps (memory/context_builder.cpp's ladder, English in the CLI's manifest) in the
// writer's words; a step this table does not know shows as it is.
std::string step_label(const std::string& s) {
  auto num_after = [&](const std::string& prefix) { return s.substr(prefix.size()); };
  auto starts = [&](const char* p) { return s.rfind(p, 0) == 0; };
  if (starts("reserved passages ")) return "检索片段减到 " + num_after("reserved passages ") + " 段";
  if (starts("verbatim chapters ")) return "前文原文减到 " + num_after("verbatim chapters ") + " 章";
  if (starts("chapter summaries of arc ")) {
    const std::string rest = num_after("chapter summaries of arc ");
    return "第 " + rest.substr(0, rest.find(' ')) + " 卷的章节摘要改用卷摘要";
  }
  if (s == "shorter chapter summaries") return "章节摘要改用短版";
  if (s == "no reserved passages") return "不放检索片段";
  if (s == "no verbatim chapter") return "不放前文原文";
  if (s == "shorter arc summaries") return "卷摘要改用短版";
  if (s == "fewer entity sheets") return "减少人物卡";
  if (starts("arc summary ")) {
    const std::string rest = num_after("arc summary ");
    return "去掉第 " + rest.substr(0, rest.find(' ')) + " 卷摘要";
  }
  if (s == "shorter synopsis") return "全书梗概改用短版";
  if (s == "no synopsis") return "去掉全书梗概";
  if (starts("oldest chapter summaries dropped (")) {
    const std::string rest = num_after("oldest chapter summaries dropped (");
    return "去掉最早的 " + rest.substr(0, rest.find(')')) + " 章摘要";
  }
  if (starts("current text cut to its last ")) {
    const std::string rest = num_after("current text cut to its last ");
    return "当前正文只留最后 " + rest.substr(0, rest.find(' ')) + " 令牌";
  }
  return s;
}

class ContextPanel final : public Panel {
 public:
  const char* name() const override { return "context"; }
  const char* title() const override { return "上下文"; }
  void draw(UiState& st) override {
    if (!st.book || !st.assistant || st.chapter < 0) {
      not_available(st, "上下文检查器：按段落展示令牌预算的占用及入选原因。",
                    st.book && !st.assistant ? "纯文本文件没有摘要与人物库；先导入为书稿项目。" : "先打开书稿与章节。");
      return;
    }
    const int64_t ordinal = st.book->chapters()[static_cast<size_t>(st.chapter)].ordinal;
    if (ordinal != requested_ || st.book_generation != generation_) request(st, ordinal);
    if (const uint64_t ver = st.assistant->context_version(); ver != view_version_) {  // copy only a change
      view_ = st.assistant->context();
      view_version_ = view_.version;
    }
    const studio::ContextView& v = view_;
    const std::string head = st.book->chapter_label(ordinal) + " 的续写上下文";  // the book's own label
    st.atlas->note(head);
    ImGui::TextUnformatted(head.c_str());
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::InputInt("预算", &budget_, 1024, 8192);
    budget_ = std::clamp(budget_, 256, 1 << 20);
    ImGui::SameLine();
    if (ImGui::SmallButton("重新计算")) request(st, ordinal);
    if (v.state == studio::ContextView::kBuilding || (v.state != studio::ContextView::kNone && v.chapter != ordinal)) {
      ImGui::TextDisabled("正在后台构建…");
      if (v.sections.empty()) return;
    }
    if (v.state == studio::ContextView::kFailed) {
      wrapped_text(st, "构建失败：" + v.message, IM_COL32(180, 30, 25, 255));
      return;
    }
    if (v.state == studio::ContextView::kNone) return;
    ImGui::TextDisabled("%lld / %lld 令牌 · 构建 %.0f 毫秒", static_cast<long long>(v.tokens),
                        static_cast<long long>(v.budget), v.build_ms);
    // The stacked bar: one segment per section, the unused budget left blank.
    const float w = ImGui::GetContentRegionAvail().x, h = ImGui::GetFontSize() * 1.6f;
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p0, ImVec2(p0.x + w, p0.y + h), IM_COL32(255, 255, 255, 255), 3);
    float x = p0.x;
    const double budget = std::max<int64_t>(1, v.budget);
    for (const auto& s : v.sections) {
      const float sw = static_cast<float>(w * static_cast<double>(s.tokens) / budget);
      dl->AddRectFilled(ImVec2(x, p0.y), ImVec2(x + std::max(1.0f, sw), p0.y + h), kind_of(s.kind).color);
      x += sw;
    }
    dl->AddRect(p0, ImVec2(p0.x + w, p0.y + h), ImGui::GetColorU32(ImGuiCol_Border), 3);
    ImGui::Dummy(ImVec2(w, h));
    // Legend: swatch, name, tokens, share.
    for (const auto& s : v.sections) {
      const Kind& k = kind_of(s.kind);
      const ImVec2 c = ImGui::GetCursorScreenPos();
      const float sz = ImGui::GetFontSize() * 0.8f;
      ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(c.x, c.y + 3), ImVec2(c.x + sz, c.y + 3 + sz), k.color, 2);
      ImGui::Dummy(ImVec2(sz, sz));
      ImGui::SameLine();
      ImGui::Text("%s  %lld 令牌（%.1f%%）", k.label, static_cast<long long>(s.tokens), 100.0 * s.tokens / budget);
    }
    if (!v.degradations.empty()) {
      std::string d = "为符合预算：";
      for (size_t i = 0; i < v.degradations.size(); ++i) d += (i ? "；" : "") + step_label(v.degradations[i]);
      wrapped_text(st, d, ImGui::GetColorU32(ImGuiCol_TextDisabled));
    }
    ImGui::Separator();
    ImGui::BeginChild("sections");
    for (size_t i = 0; i < v.sections.size(); ++i) {
      const auto& s = v.sections[i];
      ImGui::PushID(static_cast<int>(i));
      char head[128];
      std::snprintf(head, sizeof head, "%s · %lld 令牌", kind_of(s.kind).label, static_cast<long long>(s.tokens));
      if (ImGui::TreeNode(head)) {
        std::string why = "入选原因：" + s.reason;
        if (!s.chapters.empty()) {
          why += "（章节";
          for (size_t k = 0; k < s.chapters.size() && k < 12; ++k) why += " " + st.book->chapter_label(s.chapters[k]);
          if (s.chapters.size() > 12) why += " …";
          why += "）";
        }
        wrapped_text(st, why, ImGui::GetColorU32(ImGuiCol_TextDisabled));
        // An excerpt: the section can be a whole chapter; the first 600 bytes at a character boundary.
        std::string ex = s.text.substr(0, std::min<size_t>(s.text.size(), 600));
        while (!ex.empty() && (static_cast<unsigned char>(ex.back()) & 0xC0) == 0x80) ex.pop_back();
        if (!ex.empty() && static_cast<unsigned char>(ex.back()) >= 0xC0) ex.pop_back();
        if (ex.size() < s.text.size()) ex += " …";
        wrapped_text(st, ex);
        ImGui::TreePop();
      }
      ImGui::PopID();
    }
    ImGui::EndChild();
  }

 private:
  void request(UiState& st, int64_t ordinal) {
    requested_ = ordinal;
    generation_ = st.book_generation;
    st.assistant->inspect_context(ordinal, budget_);
  }
  int64_t requested_ = -1;
  int generation_ = -1;
  studio::ContextView view_;  // the assistant's latest view, copied when its version changes
  uint64_t view_version_ = 0;
  int budget_ = 8192;
};

}  // namespace

std::unique_ptr<Panel> make_context_panel() { return std::make_unique<ContextPanel>(); }

}  // namespace cj::ui
