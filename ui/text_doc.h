// The editor's document model, free of ImGui so that it is unit-testable without a window: paragraphs of UTF-8
// text, caret and selection, grouped undo/redo, and line layout (CJK wraps between any two characters, Latin
// between words; closing punctuation hangs at the line end instead of starting a line). Layout is cached per
// paragraph: an edit re-lays out only the paragraphs it touched. Widths come from a caller-supplied measure
// function (the ImGui layer passes the font's advances; tests pass fixed widths).
#pragma once
#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cj {
class Segmenter;
}

namespace cj::ui {

// A position in the document: paragraph index and byte offset into that paragraph's UTF-8 (on a code point
// boundary). Paragraphs are separated by '\n' in the text the document imports and exports.
struct TextPos {
  int para = 0;
  int byte = 0;
  auto operator<=>(const TextPos&) const = default;
};

// Advance width in pixels of one code point.
using MeasureFn = std::function<float(uint32_t cp)>;

struct LayoutLine {
  int begin = 0;  // byte offsets into the paragraph, [begin, end)
  int end = 0;
};

// True for punctuation that must not start a line (，。」” …): it hangs at the end of the previous one.
bool is_closing_punct(uint32_t cp);
// True for punctuation that must not end a line (「“（《 …).
bool is_opening_punct(uint32_t cp);
// 字数 as every surface counts it (cj::text::zishu: 汉字 + full-width punctuation + one per Western word).
size_t count_zi(std::string_view utf8);
// Breaks one paragraph (no '\n') into lines no wider than `width` (closing punctuation may hang past it).
// Used by the editor and by the UI's wrapped labels.
std::vector<LayoutLine> wrap_lines(std::string_view s, float width, const MeasureFn& measure);

class TextDoc {
 public:
  TextDoc();
  ~TextDoc();
  TextDoc(const TextDoc&) = delete;
  TextDoc& operator=(const TextDoc&) = delete;

  // ---- content
  // Replaces everything (CRLF/CR become '\n'; invalid UTF-8 becomes U+FFFD); clears undo and selection.
  void set_text(std::string_view utf8);
  std::string text() const;  // paragraphs joined with '\n'
  int para_count() const { return static_cast<int>(paras_.size()); }
  const std::string& para(int i) const { return paras_[static_cast<size_t>(i)]; }
  size_t zi_count() const;                       // 字数 of the whole document (cached until the next edit)
  uint64_t version() const { return version_; }  // bumps on every change of content (edits, undo, redo)
  std::string text_range(TextPos a, TextPos b) const;

  // ---- caret and selection (anchor == caret: no selection)
  TextPos caret() const { return caret_; }
  TextPos anchor() const { return anchor_; }
  bool has_selection() const { return caret_ != anchor_; }
  std::pair<TextPos, TextPos> selection() const;  // ordered
  std::string selected_text() const;
  // Clamps p to a valid position and seals the undo group. upstream: p is a wrap point and the caret shows at
  // the end of the upper line (what hit_test reports for a click right of a wrapped line's end).
  void set_caret(TextPos p, bool extend = false, bool upstream = false);
  void select_all();
  TextPos clamp(TextPos p) const;
  TextPos doc_end() const;

  // ---- editing. Every edit replaces the selection; consecutive typing / backspaces / deletes at adjacent
  // positions merge into one undo step until seal_undo_group() (the editor seals on caret moves, pastes,
  // saves and after a pause).
  void insert(std::string_view utf8);  // typed text or IME commit; '\n' splits the paragraph
  void paste(std::string_view utf8);   // like insert, but always its own undo step
  void backspace(bool word = false);
  void delete_forward(bool word = false);
  bool undo();
  bool redo();
  bool can_undo() const { return !undo_.empty(); }
  bool can_redo() const { return !redo_.empty(); }
  void seal_undo_group() { sealed_ = true; }

  // ---- movement (extend: keep the anchor, i.e. shift held)
  void move_left(bool word, bool extend);
  void move_right(bool word, bool extend);
  void move_up(int lines, bool extend);  // needs layout; keeps the preferred x across moves
  void move_down(int lines, bool extend);
  void move_home(bool doc, bool extend);  // start of the visual line (doc: of the document)
  void move_end(bool doc, bool extend);
  TextPos word_left(TextPos p) const;
  TextPos word_right(TextPos p) const;

  // ---- layout
  // Sets the wrap width, line height and the gap between paragraphs; a change invalidates every paragraph.
  void set_layout_params(float wrap_width, float line_height, float para_gap, MeasureFn measure);
  void ensure_layout();  // lays out the paragraphs that changed since the last call
  const std::vector<LayoutLine>& lines(int para) const { return layout_[static_cast<size_t>(para)].lines; }
  float para_top(int para) const { return tops_[static_cast<size_t>(para)]; }
  float total_height() const { return tops_.empty() ? 0 : tops_.back(); }
  float line_height() const { return line_h_; }
  int first_para_at(float y) const;  // paragraph whose block contains y (or the nearest)
  TextPos hit_test(float x, float y, bool* upstream = nullptr) const;  // document position nearest to (x, y)
  // Top-left of the caret box for p (y is the top of its line). Uses the caret's line affinity if p is the caret.
  std::pair<float, float> pos_to_xy(TextPos p) const;
  int relayout_count() const { return relayouts_; }     // paragraphs laid out so far (for tests and stats)
  void invalidate_layout();                             // widths changed (e.g. the font was rebuilt)
  float x_in_line(int para, int line, int byte) const;  // x of byte within one visual line

 private:
  struct ParaLayout {
    std::vector<LayoutLine> lines;
    bool valid = false;
    int zi = -1;  // 字数 of the paragraph, -1: not counted since the last edit
  };
  enum class EditKind { kType, kBackspace, kDelete, kOther };
  struct Edit {
    TextPos at;  // where removed was / inserted is
    std::string removed, inserted;
    TextPos caret_before, anchor_before, caret_after;
    EditKind kind = EditKind::kOther;
  };

  TextPos raw_replace(TextPos a, TextPos b, std::string_view text);  // returns the end of the inserted text
  void edit(TextPos a, TextPos b, std::string_view text, EditKind kind);
  void lay_out(int para);
  float x_of(int para, const LayoutLine& line, int byte) const;
  int byte_at_x(int para, const LayoutLine& line, float x) const;
  int line_of(TextPos p, bool upstream) const;
  TextPos prev_char(TextPos p) const;
  TextPos next_char(TextPos p) const;
  void move_to(TextPos p, bool extend, bool keep_x = false);
  void move_vertical(int lines, bool extend);

  std::vector<std::string> paras_;          // [para_count] UTF-8, no '\n'
  mutable std::vector<ParaLayout> layout_;  // [para_count] (zi is filled lazily by const zi_count)
  std::vector<float> tops_;                 // [para_count + 1] y of each paragraph's top; last = total height
  bool tops_valid_ = false;
  TextPos caret_, anchor_;
  bool caret_upstream_ = false;  // caret at a wrap point shows at the end of the upper line (after End)
  float preferred_x_ = -1;       // x kept across vertical moves; < 0: take the caret's x
  std::vector<Edit> undo_, redo_;
  bool sealed_ = true;
  uint64_t version_ = 0;
  mutable uint64_t zi_version_ = ~0ull;
  mutable size_t zi_ = 0;
  float wrap_w_ = 1e9f, line_h_ = 20, para_gap_ = 0;
  MeasureFn measure_;
  int relayouts_ = 0;
  mutable std::unique_ptr<Segmenter> seg_;  // ICU word breaks for Ctrl+arrows, created on first use
};

}  // namespace cj::ui
