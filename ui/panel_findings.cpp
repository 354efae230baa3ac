// Consistency findings stored in the book project, as a writer works through them: grouped by kind (名字写法,
// 死后出场, …) and within a kind by what they are about (the name, the variant as written), with counts, so that
// hundreds of findings read as a few dozen lines; a group is ignored or marked fixed at once (one transaction);
// opening a group lists its occurrences, one line each (the whole message on hover), and a click opens the chapter
// with the span selected. 检查 runs the deterministic checks on studio's worker (the chapters changed since the
// last check; 全部重查 all of them) and the list reloads when it is done. F8 walks the open findings in order.
#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "studio/finding_groups.h"
#include "ui/panel.h"

namespace cj::ui {
namespace {

class FindingsPanel final : public Panel {
 public:
  const char* name() const override { return "findings"; }
  const char* title() const override { return "一致性"; }

  // F8: the next open finding after the selected one, opened in the editor with its span selected.
  void on_activate() override { next_ = true; }

  void draw(UiState& st) override {
    if (!st.book) {
      ImGui::TextDisabled("尚未打开书稿");
      return;
    }
    if (needs_project(st, "一致性检查的发现：与已知设定矛盾之处，点击跳转到正文中的位置，可忽略或修正。",
                      "纯文本文件不保存检查结果；把它导入为书稿项目（原文件不动）后再检查。"))
      return;
    if (loaded_for_ != st.book_generation) reload(st);
    if (next_) {
      next_ = false;
      // In chapter and span order, after the last one jumped to.
      std::vector<size_t> order;
      for (const auto& k : studio::group_findings(items_, true))
        for (const auto& g : k.subjects) order.insert(order.end(), g.items.begin(), g.items.end());
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return items_[a].chapter != items_[b].chapter ? items_[a].chapter < items_[b].chapter
                                                      : items_[a].span_begin < items_[b].span_begin;
      });
      if (!order.empty()) {
        size_t pick = order.front();
        for (size_t k = 0; k < order.size(); ++k)
          if (static_cast<int64_t>(items_[order[k]].id) == selected_id_) {
            pick = order[(k + 1) % order.size()];
            break;
          }
        jump(st, pick);
      }
    }
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
    if (button(st, "检查")) {
      if (st.dirty() && st.save_now) st.save_now();  // the check reads the saved text
      st.assistant->run_check(false);
    }
    ImGui::SameLine();
    if (button(st, "全部重查")) {
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
    const auto groups = studio::group_findings(items_, !show_closed_);
    size_t total = 0, open = 0;
    for (const auto& k : groups) total += k.count, open += k.open;
    if (total == 0) {
      ImGui::TextDisabled(items_.empty() ? "还没有发现（点“检查”）" : "没有待处理的发现");
      return;
    }
    wrapped_text(st, std::to_string(open) + " 条待处理，按类别和名字分组", ImGui::GetColorU32(ImGuiCol_TextDisabled));
    ImGui::BeginChild("groups");
    for (const auto& k : groups) {
      const std::string head = studio::finding_kind_label(k.kind) + "（" + std::to_string(k.count) + " 条）###kind_" + k.kind;
      st.atlas->note(head);
      if (!ImGui::CollapsingHeader(head.c_str(), ImGuiTreeNodeFlags_DefaultOpen)) continue;
      ImGui::PushID(k.kind.c_str());
      for (size_t gi = 0; gi < k.subjects.size(); ++gi) draw_group(st, k, k.subjects[gi], gi);
      ImGui::PopID();
    }
    ImGui::EndChild();
  }

 private:
  // The chapter's own label (第二十二回, 楔子), not its title or ordinal.
  std::string chapter_name(UiState& st, int64_t ordinal) const { return st.book->chapter_label(ordinal); }

  void draw_group(UiState& st, const studio::KindGroup& k, const studio::SubjectGroup& g, size_t gi) {
    ImGui::PushID(static_cast<int>(gi));
    // "「林黛王」 12 处 · 3 章" (the chapters on hover).
    std::string where;
    int64_t last = -1;
    size_t chapters = 0;
    for (size_t i : g.items) {
      if (items_[i].chapter == last) continue;
      last = items_[i].chapter;
      if (++chapters <= 12) where += (where.empty() ? "" : "、") + chapter_name(st, last);
    }
    if (chapters > 12) where += " 等 " + std::to_string(chapters) + " 章";
    const std::string subject = g.subject.empty() ? "（未指明）" : "「" + g.subject + "」";
    const std::string count = subject + " " + std::to_string(g.items.size()) + " 处";
    const std::string label = count + (chapters > 1 ? " · " + std::to_string(chapters) + " 章" : " · " + where) + "###g";
    st.atlas->note(label);
    st.atlas->note(where);
    const bool opened =
        ImGui::TreeNodeEx(label.c_str(), ImGuiTreeNodeFlags_SpanAvailWidth | ImGuiTreeNodeFlags_AllowItemOverlap);
    note_item(st, count.c_str());
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", where.c_str());
    // Bulk actions on the open findings of the group.
    if (g.open > 0) {
      ImGui::SameLine(ImGui::GetContentRegionMax().x - ImGui::GetFontSize() * 9.5f);
      if (ImGui::SmallButton(("全部忽略##" + k.kind + std::to_string(gi)).c_str())) set_group(st, g, "dismissed");
      note_item(st, ("全部忽略 " + subject).c_str());
      ImGui::SameLine();
      if (ImGui::SmallButton(("全部已修正##" + k.kind + std::to_string(gi)).c_str())) set_group(st, g, "fixed");
      note_item(st, ("全部已修正 " + subject).c_str());
    }
    // What the group is about, without opening it: the first finding's message on one line (clipped; whole on
    // hover) — "「晁盖」按记录在第二十回已经死亡（死亡），此处却在第二十二回说话".
    if (!g.items.empty()) {
      const std::string& msg = items_[g.items.front()].message;
      st.atlas->note(msg);
      ImGui::Indent(ImGui::GetFontSize());
      ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetColorU32(ImGuiCol_TextDisabled));
      ImGui::TextUnformatted(msg.c_str());
      ImGui::PopStyleColor();
      if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
        ImGui::TextUnformatted(msg.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
      }
      ImGui::Unindent(ImGui::GetFontSize());
    }
    if (opened) {
      // One line per occurrence (the message on hover), drawn through a clipper: a group may hold hundreds.
      ImGuiListClipper clip;
      clip.Begin(static_cast<int>(g.items.size()));
      while (clip.Step())
        for (int r = clip.DisplayStart; r < clip.DisplayEnd; ++r) {
          const size_t i = g.items[static_cast<size_t>(r)];
          const storage::Finding& f = items_[i];
          ImGui::PushID(static_cast<int>(f.id));
          // Where, and the sentence it is in (the message, the same for the whole group, is on hover).
          std::string line = chapter_name(st, f.chapter) + " 第 " + std::to_string(f.span_begin + 1) + " 字";
          if (f.status != "open") line += " · " + std::string(studio::finding_status_label(f.status));
          const std::string quote = f.evidence.substr(0, f.evidence.find(" ｜"));
          line += "：" + (quote.empty() ? f.message : quote);
          st.atlas->note(line);
          const float actions = f.status == "open" ? ImGui::GetFontSize() * 7 : 0;
          const float w = ImGui::GetContentRegionAvail().x - actions;
          // The label is clipped to the row (Selectable clips its text); the whole message on hover.
          if (ImGui::Selectable((line + "##f" + std::to_string(f.id)).c_str(), selected_id_ == f.id, 0, ImVec2(w, 0)))
            jump(st, i);
          note_item(st, ("finding " + std::to_string(f.id)).c_str());
          if (ImGui::IsItemHovered()) {
            ImGui::BeginTooltip();
            ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
            ImGui::TextUnformatted((f.message + (f.evidence.empty() ? "" : "\n" + f.evidence)).c_str());
            ImGui::PopTextWrapPos();
            ImGui::EndTooltip();
            st.atlas->note(f.evidence);
          }
          if (f.status == "open") {
            ImGui::SameLine(ImGui::GetContentRegionMax().x - actions + 4);
            if (ImGui::SmallButton("忽略")) set(st, f.id, "dismissed");
            ImGui::SameLine();
            if (ImGui::SmallButton("已修正")) set(st, f.id, "fixed");
          }
          ImGui::PopID();
        }
      ImGui::TreePop();
    }
    ImGui::PopID();
  }

  void jump(UiState& st, size_t i) {
    const auto& f = items_[i];
    selected_id_ = f.id;
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
  void set_group(UiState& st, const studio::SubjectGroup& g, const char* status) {
    std::vector<int64_t> ids;
    for (size_t i : g.items)
      if (items_[i].status == "open") ids.push_back(items_[i].id);
    if (Status s = st.book->set_findings_status(ids, status); !s.ok()) return st.say(s.error(), true);
    st.say(std::string(status == std::string("fixed") ? "已标为已修正 " : "已忽略 ") + std::to_string(ids.size()) + " 条（" +
           (g.subject.empty() ? "未指明" : g.subject) + "）");
    reload(st);
  }
  void reload(UiState& st) {
    loaded_for_ = st.book_generation;
    auto r = st.book->findings();
    error_ = r.ok() ? "" : r.error();
    items_ = r.ok() ? std::move(*r) : std::vector<storage::Finding>{};
    // Every character the list may show, noted at once: one atlas rebuild, not one per row scrolled into view.
    std::string all;
    for (const auto& f : items_) all += f.message + f.evidence + f.subject;
    st.atlas->note(all);
  }

  int loaded_for_ = -1;
  uint64_t check_seen_ = 0;
  std::string error_;
  std::vector<storage::Finding> items_;
  int64_t selected_id_ = -1;
  bool show_closed_ = false;
  bool next_ = false;
};

}  // namespace

std::unique_ptr<Panel> make_findings_panel() { return std::make_unique<FindingsPanel>(); }

}  // namespace cj::ui
