// Background jobs: the assistant's queue (studio::JobQueue::snapshot, copied under its lock each frame) with
// progress bar, 字, tokens, tok/s, ETA, and only the actions that mean something in each state. Every job shows
// its figures whatever ran it (the CLI's draft/continue too: studio::job_figures reads them from the row), in the
// writer's words (studio::job_outcome). Without a model the jobs recorded in the project are listed from the
// database (read at most every 2 s).
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
    if (needs_project(st, "后台任务：生成、摘要、检查，带进度条、剩余时间与取消按钮。",
                      "纯文本文件没有任务记录；把它导入为书稿项目（原文件不动）。"))
      return;
    if (st.assistant && st.assistant->ready()) return draw_queue(st);
    // No model: the jobs recorded in the project (whoever ran them), with their figures; nothing runs them here.
    if (loaded_for_ != st.book_generation || ImGui::GetTime() - loaded_at_ > 2.0) reload(st);
    if (!error_.empty()) {
      not_available(st, "后台任务：生成、摘要、检查，带进度条、剩余时间与取消按钮。", error_.c_str());
      return;
    }
    wrapped_text(st, "未加载模型：下面是书稿里记录的任务（也包括命令行做的），要继续它们，先在“模型与设置”里选模型。",
                 ImGui::GetColorU32(ImGuiCol_TextDisabled));
    if (small_button(st, "模型与设置…")) st.request_action = "settings";
    ImGui::Separator();
    if (items_.empty()) ImGui::TextDisabled("没有任务");
    for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
      const storage::Job& j = *it;
      const studio::JobFigures f = studio::job_figures(j);
      header(st, j.id, j.kind, j.status, f, false);
      char pct[32];
      std::snprintf(pct, sizeof pct, "%.0f%%", j.progress * 100);
      ImGui::ProgressBar(static_cast<float>(j.progress), ImVec2(-1, 0), pct);
      wrapped_text(st, studio::job_outcome(j.status, f, j.message), ImGui::GetColorU32(ImGuiCol_TextDisabled));
      ImGui::Separator();
    }
  }

 private:
  // "#12 起草 第二十一回 · 已完成" with the chapter as the book names it.
  static void header(UiState& st, int64_t id, const std::string& kind, const std::string& status,
                     const studio::JobFigures& f, bool mine) {
    std::string where;
    if (f.chapter >= 0) {
      const int i = st.book->chapter_index_of_ordinal(f.chapter);
      where = i >= 0 ? st.book->chapters()[static_cast<size_t>(i)].title : "第 " + std::to_string(f.chapter) + " 章";
    }
    const std::string line = "#" + std::to_string(id) + " " + job_kind_label(kind) + (where.empty() ? "" : " " + where) +
                             (mine ? "（助手）" : "");
    st.atlas->note(line);
    ImGui::TextUnformatted(line.c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("%s", job_status_label(status));
  }

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
      studio::JobFigures f;
      f.chars = j.chars;
      f.target = j.target;
      f.revision_id = j.revision_id;
      f.chapter = j.chapter;
      f.seed = j.seed;
      header(st, j.id, j.kind, j.status, f, j.id == st.ai_job);
      const bool running = j.status == "running";
      char pct[96];
      if (running && j.eta_s >= 0)
        std::snprintf(pct, sizeof pct, "%.0f%% · 剩余约 %.0f 秒", j.fraction * 100, j.eta_s);
      else
        std::snprintf(pct, sizeof pct, "%.0f%%", j.fraction * 100);
      ImGui::ProgressBar(static_cast<float>(j.fraction), ImVec2(-1, 0), pct);
      if (running)
        ImGui::TextDisabled("%lld 字 · %d 令牌 · %.1f 令牌/秒", static_cast<long long>(j.chars), j.tokens, j.tok_s);
      else
        wrapped_text(st, studio::job_outcome(j.status, f, j.message), ImGui::GetColorU32(ImGuiCol_TextDisabled));
      // Only what can be done to a job in its state: a running or queued one pauses or stops; a paused one goes on
      // or stops; a stopped one that had written something goes on from its text; a failure is said, not offered
      // again (its cause would fail it again); a finished one opens its chapter.
      if (running || j.status == "queued") {
        if (small_button(st, "暂停")) act(st, st.assistant->pause(j.id));
        ImGui::SameLine();
        if (small_button(st, "停止")) act(st, st.assistant->cancel(j.id));
      } else if (j.status == "paused") {
        if (small_button(st, "继续")) act(st, st.assistant->resume(j.id));
        ImGui::SameLine();
        if (small_button(st, "停止")) act(st, st.assistant->cancel(j.id));
      } else if (j.status == "cancelled" && j.chars > 0) {
        if (small_button(st, "接着写")) act(st, st.assistant->resume(j.id));
      } else if (j.status == "done" && j.chapter >= 0) {
        const int i = st.book->chapter_index_of_ordinal(j.chapter);
        if (i >= 0 && i != st.chapter && small_button(st, "打开这一章")) st.request_open = i;
      }
      ImGui::Separator();
      ImGui::PopID();
    }
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
