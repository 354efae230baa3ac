#include "ui/text_editor.h"

#include <GLFW/glfw3.h>

#include <algorithm>
#include <cmath>

#include "engine/base/utf8.h"
#include "ui/glyph_atlas.h"

namespace cj::ui {
namespace {

// Reading-comfort typography for Chinese prose: generous leading, a half-line between paragraphs, and a
// column no wider than ~40 字 so the eye finds the next line.
constexpr float kLineSpacing = 1.75f;
constexpr float kParaGap = 0.45f;
constexpr float kMaxColumnEm = 40.0f;
constexpr float kMarginEm = 1.6f;

const ImU32 kText = IM_COL32(34, 34, 38, 255);
const ImU32 kSelection = IM_COL32(170, 200, 240, 160);
const ImU32 kCaret = IM_COL32(200, 60, 40, 255);
const ImU32 kPaper = IM_COL32(253, 252, 248, 255);

bool key(int k, bool repeat = true) { return ImGui::IsKeyPressed(k, repeat); }

}  // namespace

void TextEditor::open(std::string_view text, GlyphAtlas& atlas) {
  doc_.set_text(text);
  atlas.note(text);
  scroll_to_top_ = 0;
  dragging_ = false;
}

void TextEditor::select_range(TextPos a, TextPos b) {
  doc_.set_caret(a);
  doc_.set_caret(b, true);
  scroll_to_caret_ = true;
  scroll_frames_ = 3;  // the first frames after open() have no content height yet: try again
}

void TextEditor::handle_mouse(ImVec2 origin, bool hovered) {
  const ImGuiIO& io = ImGui::GetIO();
  const float x = io.MousePos.x - origin.x, y = io.MousePos.y - origin.y;
  if (hovered && ImGui::IsMouseClicked(0)) {
    bool up = false;
    const TextPos p = doc_.hit_test(x, y, &up);
    if (ImGui::IsMouseDoubleClicked(0)) {
      doc_.set_caret(doc_.word_left(doc_.word_right(p)));
      doc_.set_caret(doc_.word_right(p), true);
    } else {
      doc_.set_caret(p, io.KeyShift, up);
    }
    dragging_ = true;
    want_focus_ = true;
  }
  if (dragging_) {
    if (!ImGui::IsMouseDown(0)) {
      dragging_ = false;
    } else if (ImGui::IsMouseDragging(0, 2.0f)) {
      bool up = false;
      const TextPos p = doc_.hit_test(x, y, &up);
      if (p != doc_.caret()) doc_.set_caret(p, true, up);
      // Dragging past the top or bottom edge scrolls.
      const float top = ImGui::GetWindowPos().y, bottom = top + ImGui::GetWindowHeight();
      const float lh = doc_.line_height();
      if (io.MousePos.y < top) ImGui::SetScrollY(ImGui::GetScrollY() - lh * 0.5f);
      if (io.MousePos.y > bottom) ImGui::SetScrollY(ImGui::GetScrollY() + lh * 0.5f);
    }
  }
}

void TextEditor::handle_keys(GlyphAtlas& atlas, float page_lines, bool* changed) {
  ImGuiIO& io = ImGui::GetIO();
  const bool ctrl = io.KeyCtrl, shift = io.KeyShift, alt = io.KeyAlt;
  const uint64_t v0 = doc_.version();
  const TextPos c0 = doc_.caret(), a0 = doc_.anchor();
  const int pg = std::max(1, static_cast<int>(page_lines) - 1);

  if (key(GLFW_KEY_LEFT)) doc_.move_left(ctrl, shift);
  if (key(GLFW_KEY_RIGHT)) doc_.move_right(ctrl, shift);
  if (key(GLFW_KEY_UP)) doc_.move_up(1, shift);
  if (key(GLFW_KEY_DOWN)) doc_.move_down(1, shift);
  if (key(GLFW_KEY_PAGE_UP)) doc_.move_up(pg, shift);
  if (key(GLFW_KEY_PAGE_DOWN)) doc_.move_down(pg, shift);
  if (key(GLFW_KEY_HOME)) doc_.move_home(ctrl, shift);
  if (key(GLFW_KEY_END)) doc_.move_end(ctrl, shift);
  if (ctrl && !alt) {
    if (key(GLFW_KEY_A, false)) doc_.select_all();
    if (key(GLFW_KEY_C, false) && doc_.has_selection()) ImGui::SetClipboardText(doc_.selected_text().c_str());
    if (!read_only_) {
      if (key(GLFW_KEY_X, false) && doc_.has_selection()) {
        ImGui::SetClipboardText(doc_.selected_text().c_str());
        doc_.backspace();
      }
      if (key(GLFW_KEY_V, false)) {
        if (const char* clip = ImGui::GetClipboardText()) {
          atlas.note(clip);
          doc_.paste(clip);
        }
      }
      if (key(GLFW_KEY_Z)) shift ? doc_.redo() : doc_.undo();
      if (key(GLFW_KEY_Y)) doc_.redo();
    }
  }
  if (!read_only_) {
    if (key(GLFW_KEY_BACKSPACE)) doc_.backspace(ctrl);
    if (key(GLFW_KEY_DELETE)) doc_.delete_forward(ctrl);
    if (!ctrl && (key(GLFW_KEY_ENTER) || key(GLFW_KEY_KP_ENTER))) doc_.insert("\n");  // Ctrl+Enter: continue
    // Typed characters and what an input method commits (GLFW delivers committed text as characters).
    if (!ctrl || alt) {
      std::string typed;
      for (ImWchar c : io.InputQueueCharacters)
        if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7F)) utf8::append(typed, c);
      if (!typed.empty()) {
        atlas.note(typed);
        doc_.insert(typed);
      }
    }
  }
  io.InputQueueCharacters.resize(0);
  if (doc_.version() != v0) {
    *changed = true;
    last_edit_time_ = ImGui::GetTime();
  }
  if (doc_.version() != v0 || doc_.caret() != c0 || doc_.anchor() != a0) scroll_to_caret_ = true;
  // A pause ends an undo step: one Ctrl+Z takes back one burst of typing, not the whole session.
  if (last_edit_time_ > 0 && ImGui::GetTime() - last_edit_time_ > 1.5) {
    doc_.seal_undo_group();
    last_edit_time_ = 0;
  }
}

bool TextEditor::draw(const char* id, ImVec2 size, GlyphAtlas& atlas) {
  ImFont* font = atlas.editor_font();
  const float fs = font->FontSize;
  const float lh = std::round(fs * kLineSpacing);
  bool changed = false;

  ImGui::PushStyleColor(ImGuiCol_ChildBg, kPaper);
  ImGui::BeginChild(id, size, false, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoNav);
  // Focus waits while a dialog is open (focusing a window under a modal would close it).
  if (want_focus_ && !ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId | ImGuiPopupFlags_AnyPopupLevel)) {
    ImGui::SetWindowFocus();
    want_focus_ = false;
  }
  focused_ = ImGui::IsWindowFocused();
  const float view_w = ImGui::GetWindowContentRegionMax().x - ImGui::GetWindowContentRegionMin().x;
  const float view_h = ImGui::GetWindowHeight();
  const float margin = std::round(fs * kMarginEm);
  const float col_w = std::min(view_w - 2 * margin, fs * kMaxColumnEm);
  const float pad_top = std::round(fs * 1.2f);

  if (font_generation_ != atlas.generation()) {
    font_generation_ = atlas.generation();
    doc_.invalidate_layout();
  }
  doc_.set_layout_params(col_w, lh, std::round(fs * kParaGap), [font](uint32_t c) {
    return font->GetCharAdvance(c < 0x10000 ? static_cast<ImWchar>(c) : static_cast<ImWchar>(0xFFFD));
  });

  if (focused_) handle_keys(atlas, view_h / lh, &changed);
  doc_.ensure_layout();

  if (scroll_to_top_ >= 0) {
    ImGui::SetScrollY(scroll_to_top_);
    scroll_to_top_ = -1;
  }
  const ImVec2 win = ImGui::GetCursorScreenPos();  // top-left of the content, scrolled
  const float left = std::round(win.x + std::max(margin, (view_w - col_w) * 0.5f));
  const ImVec2 origin(left, win.y + pad_top);
  handle_mouse(origin, ImGui::IsWindowHovered());
  doc_.ensure_layout();

  const float scroll = ImGui::GetScrollY();
  if (scroll_to_caret_) {
    const float cy = doc_.pos_to_xy(doc_.caret()).second + pad_top;
    if (cy < scroll)
      ImGui::SetScrollY(std::max(0.0f, cy - lh));
    else if (cy + lh > scroll + view_h)
      ImGui::SetScrollY(cy + 2 * lh - view_h);
    scroll_to_caret_ = scroll_frames_ > 0;
    if (scroll_frames_ > 0) --scroll_frames_;
  }

  // Only the visible lines are drawn.
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float clip_top = scroll - pad_top, clip_bottom = scroll + view_h;
  const auto [sel_a, sel_b] = doc_.selection();
  const bool has_sel = doc_.has_selection();
  const float text_dy = std::round((lh - fs) * 0.5f);
  drawn_lines_ = drawn_bytes_ = 0;
  for (int p = doc_.first_para_at(std::max(0.0f, clip_top)); p < doc_.para_count(); ++p) {
    const float ptop = doc_.para_top(p);
    if (ptop > clip_bottom) break;
    const std::string& s = doc_.para(p);
    const auto& lines = doc_.lines(p);
    for (int li = 0; li < static_cast<int>(lines.size()); ++li) {
      const float y = ptop + static_cast<float>(li) * lh;
      if (y + lh < clip_top || y > clip_bottom) continue;
      const LayoutLine& L = lines[static_cast<size_t>(li)];
      const ImVec2 at(origin.x, origin.y + y);
      if (has_sel) {
        const TextPos lb{p, L.begin}, le{p, L.end};
        if (sel_a <= le && lb <= sel_b && !(sel_b == lb && li > 0) && sel_a != sel_b) {
          const int b0 = sel_a.para == p ? std::max(sel_a.byte, L.begin) : L.begin;
          const int b1 = sel_b.para == p ? std::min(sel_b.byte, L.end) : L.end;
          float x0 = doc_.x_in_line(p, li, b0), x1 = doc_.x_in_line(p, li, b1);
          const bool last_line = li + 1 == static_cast<int>(lines.size());
          if (last_line && sel_b.para > p) x1 += fs * 0.5f;  // the selected paragraph break
          if (x1 > x0) dl->AddRectFilled(ImVec2(at.x + x0, at.y), ImVec2(at.x + x1, at.y + lh), kSelection);
        }
      }
      ++drawn_lines_;
      drawn_bytes_ += L.end - L.begin;
      if (L.end > L.begin)
        dl->AddText(font, fs, ImVec2(at.x, at.y + text_dy), kText, s.data() + L.begin, s.data() + L.end);
    }
  }
  if (focused_ && !read_only_) {
    const bool blink_on = std::fmod(ImGui::GetTime() - last_edit_time_, 1.0) < 0.6 || ImGui::GetIO().KeyCtrl;
    if (blink_on || dragging_) {
      const auto [cx, cy] = doc_.pos_to_xy(doc_.caret());
      const float x = std::round(origin.x + cx);
      dl->AddRectFilled(ImVec2(x - 1, origin.y + cy + lh * 0.12f), ImVec2(x + 1, origin.y + cy + lh * 0.88f), kCaret);
    }
  }
  // The content's size gives ImGui's scrollbar its range.
  ImGui::Dummy(ImVec2(view_w, pad_top + doc_.total_height() + view_h * 0.4f));
  ImGui::EndChild();
  ImGui::PopStyleColor();
  return changed;
}

}  // namespace cj::ui
