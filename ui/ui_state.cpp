#include "ui/ui_state.h"

#include <imgui.h>

#include <algorithm>

#include "engine/base/utf8.h"

namespace cj::ui {

int64_t code_points_before(const TextDoc& d, TextPos p) {
  int64_t n = 0;
  for (int i = 0; i < p.para && i < d.para_count(); ++i)
    n += static_cast<int64_t>(utf8::count_code_points(d.para(i))) + 1;
  if (p.para < d.para_count())
    n += static_cast<int64_t>(
        utf8::count_code_points(std::string_view(d.para(p.para)).substr(0, static_cast<size_t>(p.byte))));
  return n;
}

int64_t caret_code_points(const TextDoc& d) { return code_points_before(d, d.caret()); }

void note_item(UiState& st, const char* label) {
  std::string key(label);
  if (const size_t h = key.find("##"); h != std::string::npos) key.resize(h);
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  st.items_drawn[key] = {a.x, a.y, b.x, b.y};
}

bool button(UiState& st, const char* label, float width) {
  const bool r = ImGui::Button(label, ImVec2(width, 0));
  note_item(st, label);
  return r;
}

bool small_button(UiState& st, const char* label) {
  const bool r = ImGui::SmallButton(label);
  note_item(st, label);
  return r;
}

bool menu_item(UiState& st, const char* label, const char* shortcut, bool selected, bool enabled) {
  const bool r = ImGui::MenuItem(label, shortcut, selected, enabled);
  note_item(st, label);
  return r;
}

void center_next_window() {
  ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
}

void text_noted(UiState& st, const std::string& s) {
  st.atlas->note(s);
  st.texts_drawn.push_back(s);
  ImGui::TextUnformatted(s.c_str(), s.c_str() + s.size());
}

void wrapped_text(UiState& st, std::string_view s, unsigned int color) {
  st.atlas->note(s);
  st.texts_drawn.emplace_back(s);
  ImFont* font = ImGui::GetFont();
  // One em is kept free on the right for punctuation that hangs past the line end.
  const float width = std::max(40.0f, ImGui::GetContentRegionAvail().x - ImGui::GetFontSize());
  const MeasureFn measure = [font](uint32_t c) {
    return font->GetCharAdvance(c < 0x10000 ? static_cast<ImWchar>(c) : static_cast<ImWchar>(0xFFFD));
  };
  if (color) ImGui::PushStyleColor(ImGuiCol_Text, color);
  size_t start = 0;
  for (;;) {
    const size_t nl = s.find('\n', start);
    const std::string_view para = s.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    for (const LayoutLine& l : wrap_lines(para, width, measure))
      ImGui::TextUnformatted(para.data() + l.begin, para.data() + l.end);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (color) ImGui::PopStyleColor();
}

void not_available(UiState& st, const char* what, const char* waits_for) {
  ImGui::Spacing();
  ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(120, 110, 95, 255));
  ImGui::TextUnformatted("尚不可用");
  ImGui::PopStyleColor();
  ImGui::Separator();
  wrapped_text(st, what);
  ImGui::Spacing();
  wrapped_text(st, waits_for, ImGui::GetColorU32(ImGuiCol_TextDisabled));
}

bool needs_project(UiState& st, const char* what, const char* why) {
  if (!st.book || st.book->has_revisions()) return false;
  not_available(st, what, why);
  if (button(st, "导入为书稿项目…")) st.request_action = "import_text";
  return true;
}

}  // namespace cj::ui
