// A panel: a struct owning its UI state plus draw(). One panel per file (ui/panel_*.cpp).
#pragma once
#include <memory>
#include <vector>

#include "ui/ui_state.h"

namespace cj::ui {

class Panel {
 public:
  virtual ~Panel() = default;
  virtual const char* name() const = 0;   // for --panel NAME (ASCII)
  virtual const char* title() const = 0;  // shown on its tab (Chinese)
  virtual void draw(UiState& st) = 0;
  virtual void on_activate() {}   // brought to the front by a shortcut (e.g. Ctrl+F focuses search)
  virtual void tick(UiState&) {}  // every frame, drawn or not (e.g. sampling tokens/s for a plot)
};

std::unique_ptr<Panel> make_chapters_panel();
std::unique_ptr<Panel> make_editor_panel();
std::unique_ptr<Panel> make_entities_panel();
std::unique_ptr<Panel> make_outline_panel();
std::unique_ptr<Panel> make_ai_panel();
std::unique_ptr<Panel> make_findings_panel();
std::unique_ptr<Panel> make_jobs_panel();
std::unique_ptr<Panel> make_search_panel();
std::unique_ptr<Panel> make_context_panel();
std::unique_ptr<Panel> make_engine_panel();

}  // namespace cj::ui
