// Entities (characters, places, items with aliases) and facts with chapter validity ranges. Waits for storage.
#include <imgui.h>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class Panel_entities final : public Panel {
 public:
  const char* name() const override { return "entities"; }
  const char* title() const override { return "人物"; }
  void draw(UiState& st) override {
    not_available(st, "人物、地点、物品及其别名；设定事实及其有效章节范围（如“某人第四十回前在世”）。", "等待存储层（storage）的人物与事实表合入主干；打开书稿项目（--db）后在此显示。");
  }
};

}  // namespace

std::unique_ptr<Panel> make_entities_panel() { return std::make_unique<Panel_entities>(); }

}  // namespace cj::ui
