// Outline and beats for the next chapter. Waits for storage and studio workflows.
#include <imgui.h>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class Panel_outline final : public Panel {
 public:
  const char* name() const override { return "outline"; }
  const char* title() const override { return "大纲"; }
  void draw(UiState& st) override {
    not_available(st, "下一章的大纲与节拍：本章要写的事件、出场人物、要埋的伏笔。",
                  "等待存储层与写作流程（studio workflows）合入。");
  }
};

}  // namespace

std::unique_ptr<Panel> make_outline_panel() { return std::make_unique<Panel_outline>(); }

}  // namespace cj::ui
