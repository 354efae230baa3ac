// The book's chapter tree: titles with 字数, the open chapter highlighted, click to open.
#include <imgui.h>

#include <string>

#include "ui/panel.h"

namespace cj::ui {
namespace {

std::string zi_text(size_t n) {
  if (n >= 10000) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f万字", static_cast<double>(n) / 10000.0);
    return b;
  }
  return std::to_string(n) + "字";
}

class ChaptersPanel final : public Panel {
 public:
  const char* name() const override { return "chapters"; }
  const char* title() const override { return "章节"; }

  void draw(UiState& st) override {
    if (!st.book) {
      ImGui::TextDisabled("尚未打开书稿");
      wrapped_text(st, "文件 → 打开，或 changjuan --open 小说.txt", ImGui::GetColorU32(ImGuiCol_TextDisabled));
      return;
    }
    const auto& chs = st.book->chapters();
    size_t total = 0;
    for (const auto& c : chs) total += c.zi;
    const std::string head = st.book->title();
    st.atlas->note(head);
    ImGui::TextUnformatted(head.c_str());
    ImGui::TextDisabled("%zu 章 · %s", chs.size(), zi_text(total).c_str());
    ImGui::Separator();
    ImGui::BeginChild("chapter_list", ImVec2(0, 0), false);
    const float right = ImGui::GetContentRegionAvail().x;
    for (size_t i = 0; i < chs.size(); ++i) {
      const auto& c = chs[i];
      st.atlas->note(c.title);
      const bool open = static_cast<int>(i) == st.chapter;
      std::string label = c.title;
      if (open && st.dirty()) label += " *";
      ImGui::PushID(static_cast<int>(i));
      const ImVec2 p0 = ImGui::GetCursorScreenPos();
      if (ImGui::Selectable("##ch", open, 0, ImVec2(0, 0))) {
        if (!open) st.request_open = static_cast<int>(i);
      }
      if (ImGui::IsItemHovered() && ImGui::CalcTextSize(label.c_str()).x > right * 0.7f)
        ImGui::SetTooltip("%s", label.c_str());
      if (open && st.request_select.has_value() == false && ImGui::IsWindowAppearing()) ImGui::SetScrollHereY();
      // Title clipped on the left, 字数 right-aligned.
      const std::string zi = zi_text(open ? st.editor->doc().zi_count() : c.zi);
      const float zw = ImGui::CalcTextSize(zi.c_str()).x;
      const ImVec2 p1(p0.x + right, ImGui::GetItemRectMax().y);
      ImDrawList* dl = ImGui::GetWindowDrawList();
      const ImVec4 clip(p0.x, p0.y, p1.x - zw - 10, p1.y);
      dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), p0, ImGui::GetColorU32(ImGuiCol_Text), label.c_str(),
                  nullptr, 0.0f, &clip);
      dl->AddText(ImVec2(p1.x - zw, p0.y), ImGui::GetColorU32(ImGuiCol_TextDisabled), zi.c_str());
      ImGui::PopID();
    }
    ImGui::EndChild();
  }
};

}  // namespace

std::unique_ptr<Panel> make_chapters_panel() { return std::make_unique<ChaptersPanel>(); }

}  // namespace cj::ui
