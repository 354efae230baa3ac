// The chapter editor: the chapter's title, its 字数 and save state above the text.
#include <imgui.h>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class EditorPanel final : public Panel {
 public:
  const char* name() const override { return "editor"; }
  const char* title() const override { return "正文"; }

  void draw(UiState& st) override {
    if (!st.book || st.chapter < 0) {
      ImGui::Dummy(ImVec2(0, 40));
      ImGui::Indent(40);
      ImGui::TextDisabled(st.book ? "从左侧选择一章开始写作" : "尚未打开书稿");
      ImGui::Unindent(40);
      return;
    }
    const auto& ch = st.book->chapters()[static_cast<size_t>(st.chapter)];
    st.atlas->note(ch.title);
    ImGui::TextUnformatted(ch.title.c_str());
    const TextDoc& d = st.editor->doc();
    char right[160];
    const char* state = st.dirty() ? "未保存" : (st.book->has_revisions() ? "已保存为修订" : "已保存");
    std::snprintf(right, sizeof right, "%zu 字 · %s", d.zi_count(), state);
    const float w = ImGui::CalcTextSize(right).x;
    ImGui::SameLine(ImGui::GetContentRegionMax().x - w);
    if (st.dirty()) ImGui::TextColored(ImVec4(0.72f, 0.35f, 0.1f, 1), "%s", right);
    else ImGui::TextDisabled("%s", right);
    st.editor->draw("##text", ImVec2(0, 0), *st.atlas);
  }
};

}  // namespace

std::unique_ptr<Panel> make_editor_panel() { return std::make_unique<EditorPanel>(); }

}  // namespace cj::ui
