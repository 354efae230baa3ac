// The GUI application: window, fonts (a glyph atlas that grows with the text), the fixed panel layout, the frame
// loop, settings, and the headless modes for tests (--screenshot, --script, --frame-stats).
#pragma once
#include <string>

namespace cj::ui {

struct AppOptions {
  std::string db;  // book project to open (may be empty)
  long long book_id = 0;
  std::string open_text;   // a UTF-8 .txt novel to open (until a project is imported)
  int chapter = -1;        // chapter to open first (0-based); -1: the remembered one, or the first
  std::string chapter_ref; // --chapter as typed: the book's number or label (22, 第二十二回, 楔子, #N), resolved by
                           // storage::ChapterNumbering like every CLI chapter option; overrides `chapter`
  std::string screenshot;  // write a PNG after `frames` frames, then exit
  std::string script;      // drive the GUI from a script (see ui/script.h), then exit
  std::string panel;       // panel to show first (for screenshots)
  int frames = 3;
  int width = 1280, height = 800;
  std::string font_path;  // empty: settings, else Noto Sans CJK
  int font_face = -1;
  float ui_scale = 0;        // 0: from settings
  bool frame_stats = false;  // print frame times on exit
  bool no_restore = false;   // do not reopen the last book
  std::string model;         // GGUF model for the assistant (else settings.json's model_path)
};

// Runs the GUI; returns the process exit code.
int run_app(const AppOptions& opt);

}  // namespace cj::ui
