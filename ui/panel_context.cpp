// The context inspector: the prompt the model receives for a 续写 at the caret of the open chapter — the prompt
// plan (studio/prompt_plan.h) that the workflow itself sends, composed on the assistant's worker with the loaded
// model's window and tokenizer. A stacked bar shows each section's share of the window (the generation reserve
// hatched), the manifest says the shares, and every section opens to its exact text; 复制全文 copies the whole
// prompt byte for byte. Rebuilt on request, when another chapter opens, and after a job ends.
#include <imgui.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "studio/context_words.h"
#include "ui/panel.h"

namespace cj::ui {
namespace {

// Each section's colour in the bar; its name is studio::section_name (one naming for the panel and the CLI).
ImU32 color_of(const std::string& k) {
  static const std::map<std::string, ImU32> colors = {
      {"instructions", IM_COL32(120, 120, 130, 255)},     {"synopsis", IM_COL32(86, 130, 190, 255)},
      {"arc_summaries", IM_COL32(110, 170, 210, 255)},    {"chapter_summaries", IM_COL32(90, 170, 140, 255)},
      {"entity_sheets", IM_COL32(200, 150, 70, 255)},     {"passages", IM_COL32(170, 110, 180, 255)},
      {"verbatim", IM_COL32(210, 110, 100, 255)},         {"book_context", IM_COL32(150, 150, 190, 255)},
      {"after_cursor", IM_COL32(150, 160, 80, 255)},      {"outline", IM_COL32(150, 160, 80, 255)},
      {"before_selection", IM_COL32(110, 110, 120, 255)}, {"after_selection", IM_COL32(150, 160, 80, 255)},
      {"selection", IM_COL32(200, 90, 60, 255)},          {"task", IM_COL32(120, 120, 130, 255)},
      {"current_text", IM_COL32(60, 60, 70, 255)},
  };
  auto it = colors.find(k);
  return it != colors.end() ? it->second : IM_COL32(120, 120, 130, 255);
}

class ContextPanel final : public Panel {
 public:
  const char* name() const override { return "context"; }
  const char* title() const override { return "上下文"; }
  void on_activate() override { stale_ = true; }

  void draw(UiState& st) override {
    if (!st.book || !st.assistant || st.chapter < 0) {
      not_available(st, "上下文检查器：模型为续写收到的完整提示，按段列出令牌数与入选原因。",
                    st.book && !st.assistant ? "纯文本文件没有摘要与人物库；先导入为书稿项目。" : "先打开书稿与章节。");
      return;
    }
    const int64_t ordinal = st.book->chapters()[static_cast<size_t>(st.chapter)].ordinal;
    // Rebuild when the chapter changes, a job ends (the text or the model changed) or on request.
    for (int64_t id : last_running_)
      if (!st.queue.is_running(id)) stale_ = true;  // a job ended
    last_running_ = st.queue.running;
    // …and when the caret has rested somewhere else for a moment (the text before it picks the passages).
    const int64_t cursor = caret_code_points(st.editor->doc());
    if (cursor != seen_cursor_) seen_cursor_ = cursor, cursor_moved_at_ = ImGui::GetTime();
    if (cursor != requested_cursor_ && ImGui::GetTime() - cursor_moved_at_ > 0.8) stale_ = true;
    if (ordinal != requested_ || st.book_generation != generation_ || stale_) request(st, ordinal);
    if (const uint64_t ver = st.assistant->context_version(); ver != view_version_) {  // copy only a change
      view_ = st.assistant->context();
      view_version_ = view_.version;
      lines_.clear();
    }
    const studio::ContextView& v = view_;
    // The chapter as the book labels it (第二十二回, 楔子), not its position.
    wrapped_text(st, "续写时模型收到的提示（" + st.book->chapter_label(ordinal) + "，光标处）");
    if (ImGui::SmallButton("重新计算")) request(st, ordinal);
    ImGui::SameLine();
    ImGui::BeginDisabled(v.prompt.empty());
    if (ImGui::SmallButton("复制全文")) {
      ImGui::SetClipboardText(v.prompt.c_str());
      st.say("已复制提示全文（" + std::to_string(v.prompt.size()) + " 字节）");
    }
    ImGui::EndDisabled();
    if (st.dirty()) {
      ImGui::SameLine();
      ImGui::TextDisabled("（按已保存的正文；续写前会先保存）");
    }
    if (v.state == studio::ContextView::kBuilding || (v.state != studio::ContextView::kNone && v.query.ordinal != ordinal)) {
      ImGui::TextDisabled("正在后台组装…");
      if (v.sections.empty()) return;
    }
    if (v.state == studio::ContextView::kFailed) {
      wrapped_text(st, "组装失败：" + v.message, IM_COL32(180, 30, 25, 255));
      return;
    }
    if (v.state == studio::ContextView::kNone) return;
    char line[160];
    std::snprintf(line, sizeof line, "提示 %lld 令牌 / 窗口 %d 令牌 · 组装 %.0f 毫秒", static_cast<long long>(v.tokens),
                  v.n_ctx, v.build_ms);
    ImGui::TextDisabled("%s", line);
    wrapped_text(st, v.basis, ImGui::GetColorU32(ImGuiCol_TextDisabled));
    draw_bar(v);
    for (const auto& m : v.manifest) wrapped_text(st, "· " + m, ImGui::GetColorU32(ImGuiCol_TextDisabled));
    if (!v.degradations.empty()) {
      std::string d = "书稿上下文为放进份额：";
      for (size_t i = 0; i < v.degradations.size(); ++i) d += (i ? "；" : "") + v.degradations[i];
      wrapped_text(st, d, ImGui::GetColorU32(ImGuiCol_TextDisabled));
    }
    ImGui::Separator();
    ImGui::BeginChild("sections");
    for (size_t i = 0; i < v.sections.size(); ++i) {
      const auto& s = v.sections[i];
      ImGui::PushID(static_cast<int>(i));
      char head[160];
      std::snprintf(head, sizeof head, "%s · %lld 令牌", studio::section_name(s.kind).c_str(),
                    static_cast<long long>(s.tokens));
      const ImVec2 c = ImGui::GetCursorScreenPos();
      const float sz = ImGui::GetFontSize() * 0.7f;
      ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(c.x, c.y + sz * 0.4f), ImVec2(c.x + sz, c.y + sz * 1.4f),
                                                color_of(s.kind), 2);
      ImGui::Dummy(ImVec2(sz, sz));
      ImGui::SameLine();
      if (ImGui::TreeNode(head)) {
        // The reason names its chapters by the book's labels (studio/context_words.h).
        const std::string& why = s.reason;
        if (!why.empty()) wrapped_text(st, why, ImGui::GetColorU32(ImGuiCol_TextDisabled));
        draw_text(st, i, s.text);
        ImGui::TreePop();
      }
      ImGui::PopID();
    }
    ImGui::EndChild();
  }

 private:
  // One segment per section over the whole window, the generation reserve after them, the rest blank.
  void draw_bar(const studio::ContextView& v) {
    const float w = ImGui::GetContentRegionAvail().x, h = ImGui::GetFontSize() * 1.4f;
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p0, ImVec2(p0.x + w, p0.y + h), IM_COL32(255, 255, 255, 255), 3);
    const double total = std::max(1, v.n_ctx);
    float x = p0.x;
    for (const auto& s : v.sections) {
      const float sw = static_cast<float>(w * static_cast<double>(s.tokens) / total);
      dl->AddRectFilled(ImVec2(x, p0.y), ImVec2(x + std::max(1.0f, sw), p0.y + h), color_of(s.kind));
      x += sw;
    }
    const float gw = static_cast<float>(w * v.query.max_tokens / total);
    for (float hx = x; hx < x + gw; hx += 6)  // the reserve for what the model writes: hatched
      dl->AddLine(ImVec2(hx, p0.y + h), ImVec2(std::min(x + gw, hx + h), p0.y), IM_COL32(150, 150, 150, 255));
    dl->AddRect(p0, ImVec2(p0.x + w, p0.y + h), ImGui::GetColorU32(ImGuiCol_Border), 3);
    ImGui::Dummy(ImVec2(w, h));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("彩色：提示的各段；斜线：生成预留；空白：窗口里没用到的部分");
  }

  // A section's exact text, wrapped with the editor's CJK rules; the lines are computed once per width and drawn
  // through a clipper, so a section holding whole chapters stays cheap.
  void draw_text(UiState& st, size_t index, const std::string& text) {
    ImFont* font = ImGui::GetFont();
    const float width = std::max(40.0f, ImGui::GetContentRegionAvail().x - ImGui::GetFontSize());
    auto& cache = lines_[index];
    if (cache.width != width || cache.lines.empty()) {
      st.atlas->note(text);
      cache.width = width;
      cache.lines.clear();
      const MeasureFn measure = [font](uint32_t c) {
        return font->GetCharAdvance(c < 0x10000 ? static_cast<ImWchar>(c) : static_cast<ImWchar>(0xFFFD));
      };
      size_t start = 0;
      for (;;) {
        const size_t nl = text.find('\n', start);
        const size_t end = nl == std::string::npos ? text.size() : nl;
        const std::string_view para(text.data() + start, end - start);
        const auto wl = wrap_lines(para, width, measure);
        if (wl.empty()) cache.lines.push_back({start, start});
        for (const LayoutLine& l : wl) cache.lines.push_back({start + size_t(l.begin), start + size_t(l.end)});
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
    }
    ImGui::PushStyleColor(ImGuiCol_ChildBg, IM_COL32(255, 255, 255, 255));
    const float line_h = ImGui::GetTextLineHeightWithSpacing();
    const float hgt = std::min(line_h * static_cast<float>(cache.lines.size()) + 8, line_h * 24);
    ImGui::BeginChild("text", ImVec2(0, hgt), true);
    ImGuiListClipper clip;
    clip.Begin(static_cast<int>(cache.lines.size()), line_h);
    while (clip.Step())
      for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
        const auto [a, b] = cache.lines[static_cast<size_t>(i)];
        ImGui::TextUnformatted(text.data() + a, text.data() + b);
      }
    ImGui::EndChild();
    ImGui::PopStyleColor();
  }

  void request(UiState& st, int64_t ordinal) {
    requested_ = ordinal;
    generation_ = st.book_generation;
    stale_ = false;
    studio::ContextQuery q;
    q.kind = "continue";
    q.ordinal = ordinal;
    q.cursor = caret_code_points(st.editor->doc());
    q.max_tokens = st.ai_max_tokens;
    requested_cursor_ = q.cursor;
    st.assistant->inspect_context(q);
  }

  struct Lines {
    float width = 0;
    std::vector<std::pair<size_t, size_t>> lines;  // byte ranges of the section text
  };
  int64_t requested_ = -1;
  int generation_ = -1;
  bool stale_ = false;
  std::vector<int64_t> last_running_;
  studio::ContextView view_;  // the assistant's latest view, copied when its version changes
  uint64_t view_version_ = 0;
  std::map<size_t, Lines> lines_;  // per section, for the view copied last
  int64_t requested_cursor_ = -2;
  int64_t seen_cursor_ = -2;
  double cursor_moved_at_ = 0;
};

}  // namespace

std::unique_ptr<Panel> make_context_panel() { return std::make_unique<ContextPanel>(); }

}  // namespace cj::ui
