// The context inspector: token budget by section and why each was included. Waits for memory's context builder.
#include <imgui.h>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class Panel_context final : public Panel {
 public:
  const char* name() const override { return "context"; }
  const char* title() const override { return "上下文"; }
  void draw(UiState& st) override {
    not_available(st,
                  "上下文检查器：按段落展示令牌预算的占用（指令、全书梗概、章节摘要、人物卡、检索片段、最近章节、当前正"
                  "文）及其入选原因。",
                  "等待记忆层的上下文构建器（memory context builder）合入。");
  }
};

}  // namespace

std::unique_ptr<Panel> make_context_panel() { return std::make_unique<Panel_context>(); }

}  // namespace cj::ui
