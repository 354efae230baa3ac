// The writing assistant: continue / draft / rewrite with an instruction, streamed output, stop, accept as a
// revision. The model and job queue have not landed, so the controls are shown disabled with the reason.
#include <imgui.h>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class AiPanel final : public Panel {
 public:
  const char* name() const override { return "ai"; }
  const char* title() const override { return "助手"; }
  void draw(UiState& st) override {
    ImGui::BeginDisabled(true);
    ImGui::Button("续写");
    ImGui::SameLine();
    ImGui::Button("起草本章");
    ImGui::SameLine();
    ImGui::Button("改写选中");
    ImGui::SameLine();
    ImGui::Button("停止");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##instr", "改写要求，如：语气更含蓄", instr_, sizeof instr_);
    ImGui::EndDisabled();
    not_available(st,
                  "写作助手：续写、起草整章、按要求改写选中文字；生成内容逐字流式显示，可随时停止，"
                  "接受后保存为新修订，并可与当前正文对比差异。",
                  "等待引擎（engine）与写作流程、任务队列（studio）合入；需要用户自备的 Qwen GGUF 模型（--model）。");
  }

 private:
  char instr_[256] = {};
};

}  // namespace

std::unique_ptr<Panel> make_ai_panel() { return std::make_unique<AiPanel>(); }

}  // namespace cj::ui
