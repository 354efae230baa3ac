// Consistency findings stored in the book project: click one to open its chapter with the span selected;
// dismiss or mark fixed. 检查 runs the deterministic checks on studio's worker (the chapters changed since the
// last check; 全部重查 all of them) and the list reloads when it is done.
#include <imgui.h>

#include <cstdio>
#include <string>
#include <vector>

#include "ui/panel.h"

namespace cj::ui {
namespace {

const char* status_label(const std::string& s) {
  if (s == "open") return "待处理";
  if (s == "accepted") return "已确认";
  if (s == "dismissed") return "已忽略";
  if (s == "fixed") return "已修正";
  return "";
}

const char* kind_label(const std::string& k) {  // studio/check/check_types.h
  if (k == "name_variant") return "名字写法";
  if (k == "after_death") return "死后出场";
  if (k == "attribute") return "设定矛盾";
  if (k == "timeline") return "时间线";
  if (k == "llm") return "模型发现";
  return k.c_str();
}

class FindingsPanel final : public Panel {
 public:
  const char* name() const override { return "findings"; }
  const char* title() const override { return "一致性"; }

  // F8: the next open finding after the selected one, opened in the editor with its span selected.
  void on_activate() override { next_ = true; }

  void draw(UiState& st) override {
    if (next_ && st.book) {
      next_ = false;
      if (loaded_for_ != st.book_generation) reload(st);
      for (size_t k = 1; k <= items_.size(); ++k) {
        const size_t i = (static_cast<size_t>(selected_ + 1) + k - 1) % items_.size();
        if (items_[i].status == "open") {
          jump(st, i);
          break;
        }
      }
    }
    if (!st.book) {
      ImGui::TextDisabled("尚未打开书稿");
      return;
    }
    if (loaded_for_ != st.book_generation) reload(st);
    if (!error_.empty()) {
      not_available(st, "一致性检查的发现：与已知设定矛盾之处，点击跳转到正文中的位置，可忽略或修正。", error_.c_str());
      return;
    }
    const studio::CheckView cv = st.assistant ? st.assistant->check() : studio::CheckView{};
    if (cv.version != check_seen_) {  // a check finished: its findings are in the project now
      check_seen_ = cv.version;
      reload(st);
    }
    const bool running = cv.state == studio::CheckView::kRunning;
    ImGui::BeginDisabled(!st.assistant || running);
    if (ImGui::Button("检查")) {
      if (st.dirty() && st.save_now) st.save_now();  // the check reads the saved text
      st.assistant->run_check(false);
    }
    ImGui::SameLine();
    if (ImGui::Button("全部重查")) {
      if (st.dirty() && st.save_now) st.save_now();
      st.assistant->run_check(true);
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::Checkbox("显示已处理", &show_closed_);
    if (running) {
      wrapped_text(st, "正在检查…", ImGui::GetColorU32(ImGuiCol_TextDisabled));
    } else if (cv.state == studio::CheckView::kFailed) {
      wrapped_text(st, "检查失败：" + cv.message, IM_COL32(180, 40, 30, 255));
    } else if (cv.state == studio::CheckView::kDone) {
      char ms[48];
      std::snprintf(ms, sizeof ms, "（%.0f 毫秒）", cv.ms);
      wrapped_text(st, cv.message + ms, ImGui::GetColorU32(ImGuiCol_TextDisabled));
    } else {
      wrapped_text(st, "检查：名字写法、死后出场、与设定矛盾、时间线倒退（不需要模型）；只查改动过的章节。",
                   ImGui::GetColorU32(ImGuiCol_TextDisabled));
    }
    ImGui::Separator();
    int shown = 0;
    for (size_t i = 0; i < items_.size(); ++i) {
      const auto& f = items_[i];
      if (!show_closed_ && f.status != "open") continue;
      ++shown;
      const int ch = st.book->chapter_index_of_ordinal(f.chapter);
      const std::string where =
          ch >= 0 ? st.book->chapters()[static_cast<size_t>(ch)].title : st.book->chapter_label(f.chapter);
      st.atlas->note(where);
      st.atlas->note(f.message);
      st.atlas->note(f.kind);
      ImGui::PushID(static_cast<int>(i));
      const std::string head = where + " · " + kind_label(f.kind) + " · " + status_label(f.status);
      if (ImGui::Selectable(head.c_str(), selected_ == static_cast<int>(i))) jump(st, i);
      ImGui::Indent(12);
      wrapped_text(st, f.message);
      if (f.status == "open") {
        if (ImGui::SmallButton("忽略")) set(st, f.id, "dismissed");
        ImGui::SameLine();
        if (ImGui::SmallButton("已修正")) set(st, f.id, "fixed");
      }
      ImGui::Unindent(12);
      ImGui::Separator();
      ImGui::PopID();
    }
    if (shown == 0) ImGui::TextDisabled("没有待处理的发现");
  }

 private:
  void jump(UiState& st, size_t i) {
    selected_ = static_cast<int>(i);
    const auto& f = items_[i];
    const int ch = st.book->chapter_index_of_ordinal(f.chapter);
    if (ch < 0) return;
    // Storage spans count code points; the editor wants bytes of the chapter text.
    if (auto body = st.book->load_chapter(static_cast<size_t>(ch)); body.ok()) {
      st.request_open = ch;
      st.request_select = std::pair{studio::byte_offset_of_code_point(*body, f.span_begin),
                                    studio::byte_offset_of_code_point(*body, f.span_end)};
    }
  }

  void set(UiState& st, int64_t id, const char* status) {
    if (Status s = st.book->set_finding_status(id, status); !s.ok()) st.say(s.error(), true);
    reload(st);
  }
  void reload(UiState& st) {
    loaded_for_ = st.book_generation;
    auto r = st.book->findings();
    error_ = r.ok() ? "" : r.error();
    items_ = r.ok() ? std::move(*r) : std::vector<storage::Finding>{};
  }

  int loaded_for_ = -1;
  uint64_t check_seen_ = 0;
  std::string error_;
  std::vector<storage::Finding> items_;
  int selected_ = -1;
  bool show_closed_ = false;
  bool next_ = false;
};

}  // namespace

std::unique_ptr<Panel> make_findings_panel() { return std::make_unique<FindingsPanel>(); }

}  // namespace cj::ui
