// The writing assistant: 续写 at the caret, 起草本章 from the outline panel's beats, 改写选中 with an instruction.
// Each runs as a job in studio's queue (studio::Assistant) on its worker thread; this panel only reads the queue's
// snapshot (copied under its lock) each frame, so the UI never waits for the model. The streamed text shows as it
// arrives; 停止 (Esc) cancels within one token. A finished job is a revision that is not current: 接受 makes it
// current (the writer's text stays in the history), 放弃 leaves it unaccepted, 对比 shows the diff. Opening a
// chapter where such a revision waits (a batch draft, or one from an earlier session) offers it the same way.
#include <imgui.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "engine/base/utf8.h"
#include "ui/panel.h"

namespace cj::ui {
namespace {

// The tail of the queue's preview may start inside a UTF-8 sequence (it is cut by bytes); skip to a boundary.
std::string_view from_char_boundary(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && i < 4 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  return s.substr(i);
}

class AiPanel final : public Panel {
 public:
  const char* name() const override { return "ai"; }
  const char* title() const override { return "助手"; }

  void draw(UiState& st) override {
    if (!st.book || !st.book->has_revisions() || !st.assistant) {
      ImGui::BeginDisabled(true);
      buttons(st, false, false);
      ImGui::EndDisabled();
      if (!st.book) {
        not_available(st, "写作助手：续写、起草本章、改写选中，结果先存为修订，接受前不会改动正文。",
                      "先新建项目、导入小说或打开项目（文件菜单，或中间的按钮）。");
        return;
      }
      if (!needs_project(st, "写作助手需要书稿项目：生成结果保存为修订，接受前不会改动正文。",
                         "纯文本文件没有修订；把它导入为书稿项目（原文件不动）。"))
        not_available(st, "写作助手：续写、起草本章、改写选中，结果先存为修订，接受前不会改动正文。",
                      "助手尚未启动。");
      return;
    }
    const studio::EngineFigures eng = st.assistant->status();
    const studio::QueueSnapshot& snap = st.queue;
    const studio::JobView* job = nullptr;
    for (const auto& j : snap.jobs)
      if (j.id == job_id_) job = &j;
    const bool running = job && (job->status == "running" || job->status == "queued");
    if (job && running)  // empty while it waits for a free worker
      streamed_ = snap.is_running(job_id_) ? std::string(from_char_boundary(job->live_text)) : std::string();
    if (job && !running && !finished_seen_) {
      // The run ended: keep what it streamed (the preview still holds its tail) and remember its proposal.
      finished_seen_ = true;
      proposal_ = job->status == "done" ? job->revision_id : 0;
      proposal_chapter_ = job_chapter_;
      proposal_number_ = proposal_ ? revision_number(st, job_chapter_, proposal_, &proposal_seed_) : 0;
      // What was saved (a text stopped by its length is cut back to its last sentence end): the new text alone.
      if (proposal_) {
        if (auto t = st.book->revision_text(proposal_); t.ok()) streamed_ = added_text(*t);
      }
      if (!proposal_) {
        if (job->status == "failed") st.say("生成失败：" + studio::job_failure_reason(job->message), true);
        else if (job->status == "cancelled") st.say("已停止生成；正文未改动");
      } else {
        st.say(std::string(job_kind_label(job->kind)) + "完成：写了 " + std::to_string(job->chars) +
               " 字，接受后才成为正文（也可以放弃或重新生成）");
      }
    }

    // Opening a chapter offers the AI draft that waits there (made by a batch draft, or in an earlier session).
    if (st.chapter != seen_chapter_) {
      seen_chapter_ = st.chapter;
      if (!running && st.chapter >= 0 && proposal_chapter_ != st.chapter) offer_waiting_draft(st);
    }

    // Model line; without a model, the way to one.
    model_line(st, eng);
    if (eng.state != studio::EngineFigures::kReady && eng.state != studio::EngineFigures::kLoading)
      if (button(st, "模型与设置…")) st.request_action = "settings";
    ImGui::Separator();
    const bool ready = eng.state == studio::EngineFigures::kReady;
    buttons(st, ready && !running, running);
    handle_requests(st, ready && !running, running);

    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##instr", "改写要求，如：语气更含蓄、加一段环境描写", instr_, sizeof instr_);
    st.atlas->note(instr_);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::InputInt("续写/改写上限（令牌）", &max_tokens_, 64, 256);
    max_tokens_ = std::clamp(max_tokens_, 16, 8192);
    st.ai_max_tokens = max_tokens_;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::InputInt("起草目标（字）", &target_zi_, 500, 1000);
    target_zi_ = std::clamp(target_zi_, 10, 200000);
    ImGui::Separator();

    // The job's state and its text.
    if (job) {
      char line[256];
      std::snprintf(line, sizeof line, "#%lld %s · %s · %lld 字 · %d 令牌 · %.1f 令牌/秒", static_cast<long long>(job->id),
                    job_kind_label(job->kind), job_status_label(job->status), static_cast<long long>(job->chars), job->tokens,
                    job->tok_s);
      ImGui::TextUnformatted(line);
      if (running) {
        char pct[48];
        if (job->eta_s >= 0)
          std::snprintf(pct, sizeof pct, "%.0f%% · 约 %.0f 秒", job->fraction * 100, job->eta_s);
        else
          std::snprintf(pct, sizeof pct, "%.0f%%", job->fraction * 100);
        ImGui::ProgressBar(static_cast<float>(job->fraction), ImVec2(-1, 0), pct);
      }
    } else {
      wrapped_text(st,
                   "续写（Ctrl+Enter）：从光标处往下写；起草本章：按“大纲”里本章的节拍写到目标字数；"
                   "改写选中：按上面的要求改写编辑器里选中的文字。生成时可随时停止（Esc）；"
                   "结果先作为待定修订保存，接受后才替换正文。",
                   ImGui::GetColorU32(ImGuiCol_TextDisabled));
    }
    if (proposal_ && finished_seen_) {
      ImGui::Spacing();
      if (button(st, "接受")) st.request_ai = "accept";
      ImGui::SameLine();
      if (button(st, "放弃")) st.request_ai = "discard";
      ImGui::SameLine();
      ImGui::BeginDisabled(!last_params_ || !ready);
      if (button(st, "重新生成")) st.request_ai = "regenerate";
      if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("放弃这一版，用同样的要求再写一次（换一个随机种子，写出来不一样）");
      ImGui::EndDisabled();
      ImGui::SameLine();
      if (button(st, "对比")) st.request_ai = "diff";
      ImGui::TextDisabled("待接受的 AI 修订 #%lld%s", static_cast<long long>(proposal_number_),
                          proposal_seed_.empty() ? "" : ("（种子 " + proposal_seed_ + "）").c_str());
    }
    ImGui::BeginChild("stream", ImVec2(0, 0), true);
    if (!streamed_.empty()) {
      wrapped_text(st, streamed_);
      if (running && ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 4) ImGui::SetScrollHereY(1.0f);
    } else if (running) {
      ImGui::TextDisabled(snap.is_running(job_id_) ? "正在读入上下文…" : "排队等待空闲的生成位…");
    }
    ImGui::EndChild();
  }

 private:
  void model_line(UiState& st, const studio::EngineFigures& eng) {
    using E = studio::EngineFigures;
    if (eng.state == E::kReady) {
      ImGui::Text("模型：%s", eng.model_name.c_str());
      st.atlas->note(eng.model_name);
    } else if (eng.state == E::kLoading) {
      ImGui::TextDisabled("正在加载模型 %s …", eng.model_name.c_str());
    } else {
      wrapped_text(st, eng.message,
                   eng.state == E::kFailed ? IM_COL32(180, 30, 25, 255) : ImGui::GetColorU32(ImGuiCol_TextDisabled));
    }
  }

  void buttons(UiState& st, bool can_start, bool running) {
    ImGui::BeginDisabled(!can_start);
    if (button(st, "续写")) st.request_ai = "continue";
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("Ctrl+Enter：从光标处续写");
    ImGui::SameLine();
    if (button(st, "起草本章")) st.request_ai = "draft";
    ImGui::SameLine();
    if (button(st, "改写选中")) st.request_ai = "rewrite";
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(!running);
    if (button(st, "停止")) st.request_ai = "stop";
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("Esc：停止生成");
    ImGui::EndDisabled();
  }

  void handle_requests(UiState& st, bool can_start, bool running) {
    // Ctrl+Enter / Esc are global shortcuts (app.cpp): they post request_ai and bring this panel to the front.
    if (st.request_ai.empty()) return;
    // "ACTION [MAX_TOKENS]" (the script hook may set the length).
    std::string what = std::move(st.request_ai);
    st.request_ai.clear();
    if (const size_t sp = what.find(' '); sp != std::string::npos) {
      max_tokens_ = std::clamp(std::atoi(what.c_str() + sp + 1), 16, 8192);
      what.resize(sp);
    }
    if (what == "stop") {
      if (running) {
        if (Status s = st.assistant->cancel(job_id_); !s.ok()) st.say(s.error(), true);
      }
      return;
    }
    if (what == "accept" || what == "discard" || what == "diff") return proposal_action(st, what);
    if (what == "regenerate") {
      // The same request again with a fresh seed; the version shown is set aside (it stays in the history).
      if (!last_params_) return st.say("没有可以重新生成的请求", true);
      if (!can_start) return st.say(running ? "正在生成，先停止或等它完成" : "模型尚未就绪", true);
      if (proposal_) discarded_.insert(proposal_);
      st.request_diff_revision = -1;
      proposal_ = 0;
      studio::WorkflowParams p = *last_params_;
      p.seed.reset();
      return start(st, p, last_chapter_);
    }
    if (!can_start) {
      st.say(running ? "正在生成，先停止或等它完成" : "模型尚未就绪", true);
      return;
    }
    if (st.chapter < 0) return st.say("先打开一章", true);
    // The workflow reads the stored chapter: save the writer's text first (a revision, as always).
    if (st.dirty() && st.save_now && !st.save_now()) return;
    const auto& ch = st.book->chapters()[static_cast<size_t>(st.chapter)];
    studio::WorkflowParams p;
    p.kind = what;
    p.ordinal = ch.ordinal;
    const TextDoc& d = st.editor->doc();
    if (what == "continue") {
      p.cursor = code_points_before(d, d.caret());
      p.max_tokens = max_tokens_;
    } else if (what == "rewrite") {
      if (!d.has_selection()) return st.say("先在正文里选中要改写的文字", true);
      const auto [a, b] = d.selection();
      p.sel_begin = code_points_before(d, a);
      p.sel_end = code_points_before(d, b);
      p.instruction = instr_;
      p.max_tokens = max_tokens_;
    } else if (what == "draft") {
      auto o = st.book->outline(ch.ordinal);
      if (!o.ok()) return st.say(o.error(), true);
      if (o->empty()) {
        st.request_tab = "outline";
        return st.say("本章还没有大纲：先在“大纲”里写下本章的节拍", true);
      }
      p.outline = *o;
      p.target_chars = target_zi_;
    } else {
      return;
    }
    start(st, p, st.chapter);
  }

  void start(UiState& st, const studio::WorkflowParams& p, int chapter) {
    auto id = st.assistant->submit(p);
    if (!id.ok()) return st.say(id.error(), true);
    job_id_ = *id;
    st.ai_job = *id;
    job_chapter_ = chapter;
    last_params_ = p;
    last_chapter_ = chapter;
    before_text_ = st.chapter == chapter ? st.editor->doc().text() : "";
    finished_seen_ = false;
    proposal_ = 0;
    proposal_seed_.clear();
    streamed_.clear();
    st.say("已开始：任务 #" + std::to_string(*id));
  }

  // The text a proposal adds to the chapter as it was when the job started (continue / rewrite: the part between
  // the unchanged head and tail; a draft: all of it).
  std::string added_text(const std::string& proposal) const {
    const std::string& a = before_text_;
    size_t head = 0;
    while (head < a.size() && head < proposal.size() && a[head] == proposal[head]) ++head;
    while (head > 0 && (static_cast<unsigned char>(proposal[head]) & 0xC0) == 0x80) --head;
    size_t tail = 0;
    while (tail < a.size() - head && tail < proposal.size() - head &&
           a[a.size() - 1 - tail] == proposal[proposal.size() - 1 - tail])
      ++tail;
    while (tail > 0 && (static_cast<unsigned char>(proposal[proposal.size() - tail]) & 0xC0) == 0x80) --tail;
    return proposal.substr(head, proposal.size() - head - tail);
  }

  static int64_t revision_number(UiState& st, int chapter, int64_t id, std::string* seed) {
    auto revs = st.book->revisions(static_cast<size_t>(chapter));
    if (revs.ok())
      for (const auto& r : *revs)
        if (r.id == id) {
          const auto sd = studio::seed_of_note(r.note);
          *seed = sd ? std::to_string(*sd) : "";
          return r.number;
        }
    return 0;
  }

  // The newest AI revision made after the chapter's current text (not accepted, not discarded here) becomes the
  // proposal, its text shown as if just streamed.
  void offer_waiting_draft(UiState& st) {
    auto revs = st.book->revisions(static_cast<size_t>(st.chapter));
    if (!revs.ok()) return;
    const studio::RevisionInfo* waiting = nullptr;
    bool after_current = false;
    for (const auto& r : *revs) {
      if (r.current) after_current = true;
      else if (after_current && r.source == "ai" && !discarded_.count(r.id)) waiting = &r;
    }
    if (!waiting) return;
    auto text = st.book->revision_text(waiting->id);
    if (!text.ok()) return;
    job_id_ = 0;
    finished_seen_ = true;
    proposal_ = waiting->id;
    proposal_number_ = waiting->number;
    const auto sd = studio::seed_of_note(waiting->note);
    proposal_seed_ = sd ? std::to_string(*sd) : "";
    proposal_chapter_ = st.chapter;
    before_text_ = st.editor->doc().text();
    streamed_ = added_text(*text);
  }

  void proposal_action(UiState& st, const std::string& what) {
    if (!proposal_) return st.say("没有待定的修订", true);
    if (what == "diff") {
      if (st.chapter != proposal_chapter_) st.request_open = proposal_chapter_;
      st.request_diff_revision = proposal_;
      return;
    }
    if (what == "discard") {
      st.say("已放弃；该结果仍留在修订历史中，未成为正文");
      discarded_.insert(proposal_);
      st.request_diff_revision = -1;
      proposal_ = 0;
      return;
    }
    // accept: the writer's unsaved text is saved first, so that it stays in the history.
    if (st.chapter == proposal_chapter_ && st.dirty() && st.save_now && !st.save_now()) return;
    if (Status s = st.book->accept_revision(static_cast<size_t>(proposal_chapter_), proposal_); !s.ok())
      return st.say(s.error(), true);
    if (st.chapter == proposal_chapter_)
      st.request_reload = true;
    else
      st.request_open = proposal_chapter_;
    // The caret goes to the end of what was added, where the writer (or the next 续写) goes on.
    if (auto t = st.book->revision_text(proposal_); t.ok() && !before_text_.empty()) {
      const std::string added = added_text(*t);
      const size_t at = t->find(added);
      if (!added.empty() && at != std::string::npos) st.request_select = std::pair{at + added.size(), at + added.size()};
    }
    st.say("已接受 AI 修订，成为本章正文（原文仍在修订历史中）");
    st.request_diff_revision = -1;
    proposal_ = 0;
  }

  char instr_[512] = {};
  int max_tokens_ = 256;
  int target_zi_ = 2000;
  int64_t job_id_ = 0;
  int job_chapter_ = -1;
  bool finished_seen_ = true;
  int64_t proposal_ = 0;
  int64_t proposal_number_ = 0;
  int proposal_chapter_ = -1;
  int seen_chapter_ = -2;
  std::set<int64_t> discarded_;
  std::string streamed_;
  std::optional<studio::WorkflowParams> last_params_;  // for 重新生成
  int last_chapter_ = -1;
  std::string before_text_;   // the chapter's text when the job started
  std::string proposal_seed_;
};

}  // namespace

std::unique_ptr<Panel> make_ai_panel() { return std::make_unique<AiPanel>(); }

}  // namespace cj::ui
