// Jobs with progress, ETA and cancel. Waits for the studio job queue.
#include <imgui.h>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class Panel_jobs final : public Panel {
 public:
  const char* name() const override { return "jobs"; }
  const char* title() const override { return "任务"; }
  void draw(UiState& st) override {
    not_available(st, "后台任务：生成、摘要、检查，带进度条、剩余时间与取消按钮。", "等待任务队列（studio jobs）合入；界面不会因任务而卡顿。");
  }
};

}  // namespace

std::unique_ptr<Panel> make_jobs_panel() { return std::make_unique<Panel_jobs>(); }

}  // namespace cj::ui
