// The GUI application shell: window, fonts, frame loop, headless screenshots. Panels are added by later work.
#pragma once
#include <string>

namespace cj::ui {

struct AppOptions {
  std::string db;               // book project to open (may be empty)
  long long book_id = 0;
  std::string screenshot;       // write a PNG after `frames` frames, then exit
  std::string panel;            // panel to show first (for screenshots)
  int frames = 3;
  int width = 1280, height = 800;
  std::string font_path = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
  int font_face = 2;            // NotoSansCJK .ttc: 2 = Simplified Chinese
  float ui_scale = 1.0f;
};

// Runs the GUI; returns the process exit code.
int run_app(const AppOptions& opt);

}  // namespace cj::ui
