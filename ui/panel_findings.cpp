// Consistency findings: click to jump to the span, dismiss or fix. Waits for studio jobs and storage.
#include <imgui.h>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class Panel_findings final : public Panel {
 public:
  const char* name() const override { return "findings"; }
  const char* title() const override { return "一致性"; }
  void draw(UiState& st) override {
    not_available(st, "一致性检查的发现：与已知设定矛盾之处，点击跳转到正文中的位置，可忽略或修正。", "等待一致性检查任务（studio jobs）与存储层的 findings 表合入。");
  }
};

}  // namespace

std::unique_ptr<Panel> make_findings_panel() { return std::make_unique<Panel_findings>(); }

}  // namespace cj::ui
