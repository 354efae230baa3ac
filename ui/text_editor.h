// The chapter editor widget: draws a TextDoc with ImGui's draw list (only the visible lines), and turns keyboard,
// mouse, clipboard and IME-committed characters into TextDoc operations. All editing logic lives in TextDoc;
// this file is the thin ImGui layer.
#pragma once
#include <imgui.h>

#include <string>

#include "ui/text_doc.h"

namespace cj::ui {

class GlyphAtlas;

class TextEditor {
 public:
  TextDoc& doc() { return doc_; }
  const TextDoc& doc() const { return doc_; }

  // Replaces the document (opening a chapter); notes its characters in the atlas and scrolls to the top.
  void open(std::string_view text, GlyphAtlas& atlas);
  // Draws the editor filling `size` (<= 0: the available space). Returns true if the text changed this frame.
  bool draw(const char* id, ImVec2 size, GlyphAtlas& atlas);
  void focus() { want_focus_ = true; }
  bool focused() const { return focused_; }
  // Selects [a, b) and scrolls it into view (search hits, findings).
  void select_range(TextPos a, TextPos b);
  void set_read_only(bool ro) { read_only_ = ro; }
  bool read_only() const { return read_only_; }
  int drawn_lines() const { return drawn_lines_; }  // visual lines drawn in the last frame (tests, stats)
  int drawn_bytes() const { return drawn_bytes_; }

 private:
  void handle_keys(GlyphAtlas& atlas, float page_lines, bool* changed);
  void handle_mouse(ImVec2 text_origin, bool hovered);

  TextDoc doc_;
  bool focused_ = false;
  bool want_focus_ = false;
  bool read_only_ = false;
  bool dragging_ = false;
  bool scroll_to_caret_ = false;
  int scroll_frames_ = 0;
  float scroll_to_top_ = -1;  // >= 0: set the scroll to this on the next draw
  int font_generation_ = -1;
  double last_edit_time_ = 0;
  int drawn_lines_ = 0;
  int drawn_bytes_ = 0;
};

}  // namespace cj::ui
