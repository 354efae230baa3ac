// What the panels share: the open book (studio::BookSession), the open chapter and its editor, the glyph atlas,
// and requests that panels post for the app to carry out between panels (open a chapter, save, select a span).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "studio/assistant.h"
#include "studio/book_session.h"
#include "ui/glyph_atlas.h"
#include "ui/text_editor.h"

namespace cj::ui {

struct UiState {
  std::unique_ptr<studio::BookSession> book;  // null: nothing open
  int chapter = -1;                           // open chapter index, -1: none
  int book_generation = 0;                    // bumps when another book is opened (panels drop cached data)
  uint64_t saved_version = 0;                 // editor doc version at the last load/save
  double last_change_time = 0;                // ImGui time of the last unsaved edit (autosave waits for a pause)
  std::string message;                        // one line in the status bar
  bool message_is_error = false;

  // The writing assistant of the open project (model, job queue, context inspector); null for a text file.
  studio::Assistant* assistant = nullptr;
  int64_t ai_job = 0;  // the job the AI panel started last (the jobs/engine panels highlight it)
  int ai_max_tokens = 256;  // the AI panel's length for 续写/改写 (the context panel plans the same request)
  // The assistant's job queue as of this frame (copied once per frame under the queue's lock; empty without an
  // assistant), so that every panel sees the same state.
  studio::QueueSnapshot queue;

  GlyphAtlas* atlas = nullptr;
  TextEditor* editor = nullptr;

  // Requests, carried out by the app after the panels have drawn.
  int request_open = -1;
  bool request_save = false;
  bool request_reload = false;                              // reload the open chapter (after a restore)
  std::optional<std::pair<size_t, size_t>> request_select;  // byte range in the chapter to open/opened
  std::string request_tab;                                  // right-hand panel to bring to front
  int64_t request_diff_revision = 0;  // > 0: the editor shows its text against this (AI) revision; < 0: close that
  // The AI panel's keyboard actions (Ctrl+Enter continue, Esc stop) and the script hook post these.
  std::string request_ai;  // continue | draft | rewrite | stop | accept | discard | diff
  std::function<bool()> save_now;                           // saves the open chapter now (false on error)
  // App-level actions panels ask for (the AI panel's 模型与设置…, the welcome page's buttons): settings,
  // new_project, import, open_project, import_text (the open text file as a project), recent:N.
  std::string request_action;

  // Test hook (the script's click-label): where each labelled button or menu item was drawn this frame.
  struct ItemRect {
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  };
  std::map<std::string, ItemRect> items_drawn;
  std::vector<std::string> texts_drawn;  // the data-driven texts drawn this frame (wrapped_text, text_noted)

  bool dirty() const { return editor && chapter >= 0 && editor->doc().version() != saved_version; }
  void say(std::string m, bool error = false) {
    message = std::move(m);
    message_is_error = error;
  }
};

// Code points of the document's text before its caret (paragraphs joined by '\n'), as the workflows count
// offsets into a chapter.
int64_t caret_code_points(const TextDoc& d);
int64_t code_points_before(const TextDoc& d, TextPos p);

// A button / menu item / selectable that also records where it was drawn (for the script's click-label; the
// label up to "##" is the key).
bool button(UiState& st, const char* label, float width = 0);
bool small_button(UiState& st, const char* label);
bool menu_item(UiState& st, const char* label, const char* shortcut = nullptr, bool selected = false, bool enabled = true);
void note_item(UiState& st, const char* label);  // the last item drawn, under this label

// Centers the next window (a dialog) on the screen when it appears.
void center_next_window();

// Shows text in the UI font, noting its characters in the atlas first (so that data-driven strings render).
void text_noted(UiState& st, const std::string& s);
// Text wrapped to the available width with the editor's CJK rules (ImGui's own wrapping breaks only at spaces,
// which splits "等待 studio 的" badly and may start a line with '，'). color 0: the default text color.
void wrapped_text(UiState& st, std::string_view s, unsigned int color = 0);
// A job's status and kind as every surface shows them (studio/job_queue.h).
using studio::job_kind_label;
using studio::job_status_label;
// The honest placeholder for a panel whose backend has not landed: what it will do and what it waits for.
void not_available(UiState& st, const char* what, const char* waits_for);
// A plain text file is open (no project: no revisions, characters, facts, findings or jobs): the panel's purpose,
// why it is empty and the button that imports the file into a project (the file stays as it is). True when shown,
// and the panel draws nothing else.
bool needs_project(UiState& st, const char* what, const char* why);

}  // namespace cj::ui
