// A file browser drawn with ImGui (no native dialog needed): the folder's subfolders and the files with the
// wanted extensions, 上一级 / 主目录, a path field that takes a typed or pasted path (Enter: a folder opens, a file
// is chosen), double-click to open or choose. Modes: open a file, save a file (a name to type, an existing file
// is confirmed), pick a folder. One dialog at a time; the caller tags it with a purpose and reads the choice.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ui/ui_state.h"

namespace cj::ui {

class FileDialog {
 public:
  enum class Mode { kOpen, kSave, kFolder };

  // Opens the dialog. extensions: lower-case with the dot (".txt"); empty = every file. start: a folder or a
  // file (its folder is shown and, saving, its name proposed).
  void open(std::string purpose, std::string title, Mode mode, std::vector<std::string> extensions,
            const std::string& start);
  bool is_open() const { return open_; }
  const std::string& purpose() const { return purpose_; }
  // Draws the dialog while it is open; true on the frame the writer chose a path (then result()).
  bool draw(UiState& st);
  const std::string& result() const { return result_; }

 private:
  struct Entry {
    std::string name;
    bool dir = false;
    int64_t bytes = 0;
  };
  void list(const std::string& dir);
  bool accept(UiState& st, const std::string& typed);  // a typed path or name: navigate or choose
  bool wanted(const std::string& name) const;

  bool open_ = false, popup_pending_ = false, focus_ = false;
  std::string purpose_, title_, dir_, result_, error_;
  Mode mode_ = Mode::kOpen;
  std::vector<std::string> exts_;
  std::vector<Entry> entries_;
  int selected_ = -1;
  std::string name_;            // the path field
  std::string confirm_;         // saving over an existing file: the path waiting for 覆盖
  bool show_hidden_ = false;
};

}  // namespace cj::ui
