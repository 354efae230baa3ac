// Background jobs: the assistant's queue (studio::JobQueue::snapshot, copied under its lock each frame) with
// progress bar, tokens, tok/s, ETA, and cancel / pause / resume. Without a model the jobs recorded in the project
// are listed from the database (read at most every 2 s), with the reason nothing runs them.
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
    if (st.assistant && st.assistant->ready()) return draw_queue(st);
    if (loaded_for_ != st.book_generation || ImGui::GetTime() - loaded_at_ > 2.0) reload(st);
    if (!error_.empty()) {
      not_available(st, "后台任务：生成、摘要、检查，带进度条、剩余时间与取消按钮。", error_.c_str());
      return;
    }
    wrapped_text(st, "未加载模型，任务不会运行（--model 或 settings.json 的 model_path）；此处列出书稿中记录的任务。",
                 ImGui::GetColorU32(ImGuiCol_TextDisabled));
    ImGui::Separator();
    if (items_.empty()) ImGui::TextDisabled("没有任务");
    for (const auto& j : items_) {
      st.atlas->note(j.message);
      ImGui::Text("#%lld %s", static_cast<long long>(j.id), job_kind_label(j.kind));
      ImGui::SameLine();
      ImGui::TextDisabled("%s", job_status_label(j.status));
      char pct[32];
      std::snprintf(pct, sizeof pct, "%.0f%%", j.progress * 100);
      ImGui::ProgressBar(static_cast<float>(j.progress), ImVec2(-1, 0), pct);
      if (!j.message.empty()) wrapped_text(st, j.message, ImGui::GetColorU32(ImGuiCol_TextDisabled));
    }
  }

 private:
  void draw_queue(UiState& st) {
    const studio::QueueSnapshot& q = st.queue;
    int active = 0;
    for (const auto& j : q.jobs) active += j.status == "running" || j.status == "queued" || j.status == "paused";
    ImGui::Text("%zu 个任务，%d 个未完成", q.jobs.size(), active);
    ImGui::Separator();
    if (q.jobs.empty()) ImGui::TextDisabled("没有任务");
    // Newest first.
    for (auto it = q.jobs.rbegin(); it != q.jobs.rend(); ++it) {
      const studio::JobView& j = *it;
      ImGui::PushID(static_cast<int>(j.id));
      const bool mine = j.id == st.ai_job;
      ImGui::Text("#%lld %s%s", static_cast<long long>(j.id), job_kind_label(j.kind), mine ? "（助手）" : "");
      ImGui::SameLine();
      ImGui::TextDisabled("%s", job_status_label(j.status));
      const bool running = j.status == "running";
      char pct[96];
      if (running && j.eta_s >= 0)
        std::snprintf(pct, sizeof pct, "%.0f%% · 剩余约 %.0f 秒", j.fraction * 100, j.eta_s);
      else
        std::snprintf(pct, sizeof pct, "%.0f%%", j.fraction * 100);
      ImGui::ProgressBar(static_cast<float>(j.fraction), ImVec2(-1, 0), pct);
      if (running)
        ImGui::TextDisabled("%lld 字 · %d 令牌 · %.1f 令牌/秒", static_cast<long long>(j.chars), j.tokens, j.tok_s);
      else if (std::string line = outcome(j); !line.empty())
        wrapped_text(st, line, ImGui::GetColorU32(ImGuiCol_TextDisabled));
      if (running || j.status == "queued") {
        if (ImGui::SmallButton("暂停")) act(st, st.assistant->pause(j.id));
        ImGui::SameLine();
        if (ImGui::SmallButton("取消")) act(st, st.assistant->cancel(j.id));
      } else if (j.status == "paused" || j.status == "cancelled" || j.status == "failed") {
        if (ImGui::SmallButton("继续")) act(st, st.assistant->resume(j.id));
        if (j.status == "paused") {
          ImGui::SameLine();
          if (ImGui::SmallButton("取消")) act(st, st.assistant->cancel(j.id));
        }
      }
      ImGui::Separator();
      ImGui::PopID();
    }
  }

  // The end of a run in the writer's words (the queue's message is English, for the CLI and logs); a failure
  // keeps the engine's own message.
  static std::string outcome(const studio::JobView& j) {
    const std::string zi = std::to_string(j.chars) + " 字";
    if (j.status == "done") return j.revision_id ? "写了 " + zi + "，存为一个修订（接受之前不改正文）" : "完成";
    if (j.status == "cancelled") return "已停止，写了 " + zi + "；文字保留在任务里，点“继续”接着写";
    if (j.status == "paused") return "已暂停，写了 " + zi;
    if (j.status == "queued" && j.chars > 0) return "中断时写了 " + zi + "，排队后接着写";
    if (j.status == "failed") return "失败：" + j.message;
    return j.message;
  }

  static void act(UiState& st, const Status& s) {
    if (!s.ok()) st.say(s.error(), true);
  }

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
