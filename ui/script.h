// Test hook: `changjuan --script FILE` drives the GUI through Dear ImGui's own input path (keys, characters,
// mouse), one command per frame, so that headless tests type Chinese, save and check the result. Commands:
//   wait N                 render N frames
//   sleep MS               keep rendering for MS milliseconds of wall-clock time (autosave waits for a pause)
//   type TEXT              queue TEXT as typed characters (\n in TEXT is Enter, \\ a backslash)
//   key [ctrl+][shift+]K   press and release a key: a-z, 0-9, left right up down home end pageup pagedown
//                          enter backspace delete tab escape f3 f8
//   click X Y              left click at window pixel (X, Y);   drag X1 Y1 X2 Y2
//   wheel DY               mouse wheel (positive scrolls up)
//   repeat N COMMAND       the command N times
//   open N                 open chapter N (0-based), as clicking it in the chapter tree would
//   panel NAME             bring a panel to the front
//   screenshot PNG         write the frame to PNG
//   expect-text TEXT       fail unless the editor's text contains TEXT
//   expect-no-text TEXT    fail if it does
//   expect-selection TEXT  fail unless the editor's selection is exactly TEXT
//   expect-saved           fail if the open chapter has unsaved edits
//   expect-shown TEXT      fail unless the last frame showed TEXT in some panel (the strings panels noted in the
//                          glyph atlas: chapter list rows, findings, labels); expect-not-shown TEXT the opposite
//   ai ACTION              the AI panel's action, as its button: continue draft rewrite stop accept discard diff
//   wait-ai STATE          hold the script (frames keep rendering) until: model (loaded or failed),
//                          streaming (the panel's job has streamed text), or the job's status (done, cancelled…)
//   quit                   end the run (also at the end of the file)
// Lines starting with # are comments.
#pragma once
#include <imgui.h>

#include <string>
#include <vector>

#include "engine/base/result.h"

namespace cj::ui {

struct ScriptCommand {
  std::string op;  // open, panel, screenshot, expect-*, quit: the app runs these
  std::string arg;
  int line = 0;
};

class ScriptRunner {
 public:
  static Result<ScriptRunner> load(const std::string& path);
  static Result<ScriptRunner> parse(const std::string& text);

  // Call each frame after the platform backend's NewFrame and before ImGui::NewFrame. Injects input; returns
  // an app-level command to carry out this frame, if any (op empty otherwise).
  ScriptCommand step(ImGuiIO& io);
  bool done() const { return pc_ >= cmds_.size() && release_.empty() && wait_ == 0 && sleep_until_ == 0; }

 private:
  struct Cmd {
    std::string op;
    std::vector<std::string> args;
    std::string rest;
    int line = 0;
  };
  std::vector<Cmd> cmds_;
  size_t pc_ = 0;
  int wait_ = 0;
  double sleep_until_ = 0;  // steady-clock seconds; 0: not sleeping
  int repeat_left_ = -1;
  std::vector<int> release_;  // keys to release next frame
  bool mouse_up_next_ = false;
  ImVec2 mouse_{-1, -1};
  ImVec2 drag_to_{-1, -1};
  int drag_stage_ = 0;
};

}  // namespace cj::ui
