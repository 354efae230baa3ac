// What the GUI remembers between runs, in $XDG_CONFIG_HOME/changjuan/ (or ~/.config/changjuan/): ui.json (UI
// scale, column widths, font, the last open book) and imgui.ini (Dear ImGui's own window state).
#pragma once
#include <string>

namespace cj::ui {

struct Settings {
  float ui_scale = 1.0f;
  float left_w = 270, right_w = 420;  // column widths before scaling
  std::string font_path;              // empty: the default Noto Sans CJK
  int font_face = -1;                 // -1: the default face
  std::string last_text;              // last open .txt book
  std::string last_db;                // last open book project
  long long last_book = 0;
  int last_chapter = -1;
};

std::string config_dir();  // created on demand; "" if there is no home
Settings load_settings();  // defaults when missing or unreadable
void save_settings(const Settings& s);

}  // namespace cj::ui
