// Background jobs recorded in the book project (generation, summarizing, checking) with progress. The job runner
// (studio) has not landed: this panel lists what the database holds and says that nothing runs them yet.
#include <imgui.h>

#include <string>
#include <vector>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class JobsPanel final : public Panel {
 public:
  const char* name() const override { return "jobs"; }
  const char* title() const override { return "任务"; }

  void draw(UiState& st) override {
    if (!st.book) {
      ImGui::TextDisabled("尚未打开书稿");
      return;
    }
    if (loaded_for_ != st.book_generation || ImGui::GetTime() - loaded_at_ > 2.0) reload(st);
    if (!error_.empty()) {
      not_available(st, "后台任务：生成、摘要、检查，带进度条、剩余时间与取消按钮。", error_.c_str());
      return;
    }
    wrapped_text(st, "任务执行器尚未接入（等待 studio 的任务队列）；此处列出书稿中记录的任务。",
                 ImGui::GetColorU32(ImGuiCol_TextDisabled));
    ImGui::Separator();
    if (items_.empty()) ImGui::TextDisabled("没有任务");
    for (const auto& j : items_) {
      st.atlas->note(j.message);
      ImGui::Text("#%lld %s", static_cast<long long>(j.id), j.kind.c_str());
      ImGui::SameLine();
      ImGui::TextDisabled("%s", j.status.c_str());
      char pct[32];
      std::snprintf(pct, sizeof pct, "%.0f%%", j.progress * 100);
      ImGui::ProgressBar(static_cast<float>(j.progress), ImVec2(-1, 0), pct);
      if (!j.message.empty()) ImGui::TextDisabled("%s", j.message.c_str());
    }
  }

 private:
  void reload(UiState& st) {
    loaded_for_ = st.book_generation;
    loaded_at_ = ImGui::GetTime();
    auto r = st.book->jobs();
    error_ = r.ok() ? "" : r.error();
    items_ = r.ok() ? std::move(*r) : std::vector<storage::Job>{};
  }

  int loaded_for_ = -1;
  double loaded_at_ = 0;
  std::string error_;
  std::vector<storage::Job> items_;
};

}  // namespace

std::unique_ptr<Panel> make_jobs_panel() { return std::make_unique<JobsPanel>(); }

}  // namespace cj::ui
