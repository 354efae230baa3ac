#include "ui/ui_state.h"

#include <imgui.h>

namespace cj::ui {

void text_noted(UiState& st, const std::string& s) {
  st.atlas->note(s);
  ImGui::TextUnformatted(s.c_str(), s.c_str() + s.size());
}

void not_available(UiState& st, const char* what, const char* waits_for) {
  st.atlas->note(what);
  st.atlas->note(waits_for);
  ImGui::Spacing();
  ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(120, 110, 95, 255));
  ImGui::TextUnformatted("尚不可用");
  ImGui::PopStyleColor();
  ImGui::Separator();
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextUnformatted(what);
  ImGui::Spacing();
  ImGui::TextDisabled("%s", waits_for);
  ImGui::PopTextWrapPos();
}

}  // namespace cj::ui
