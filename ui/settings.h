// What the GUI remembers between runs, in $XDG_CONFIG_HOME/changjuan/ (or ~/.config/changjuan/): ui.json (UI
// scale, column widths, font, the last open book) and imgui.ini (Dear ImGui's own window state).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cj::ui {

struct RecentProject {
  std::string path;   // absolute
  long long book = 0;
  std::string title;
};

struct Settings {
  float ui_scale = 1.0f;
  float left_w = 270, right_w = 420;  // column widths before scaling
  std::string font_path;              // empty: the default Noto Sans CJK
  int font_face = -1;                 // -1: the default face
  std::string last_text;              // last open .txt book
  std::string last_db;                // last open book project
  long long last_book = 0;
  int last_chapter = -1;
  std::vector<RecentProject> recent;   // newest first, at most 10
  // The caret where the writer left each chapter (code points), keyed "project#book#chapter id" (a text file:
  // "path#index"); at most 500, the oldest dropped.
  std::map<std::string, int64_t> carets;
  std::vector<std::string> caret_order;  // keys, oldest first
};

// Puts a project first in the recent list.
void remember_recent(Settings& s, const RecentProject& p);
void remember_caret(Settings& s, const std::string& key, int64_t code_point);

std::string config_dir();  // created on demand; "" if there is no home
Settings load_settings();  // defaults when missing or unreadable
void save_settings(const Settings& s);

}  // namespace cj::ui
