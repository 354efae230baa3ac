// The book's chapter tree: titles with 字数, the open chapter highlighted, click to open.
#include <imgui.h>

#include <string>

#include "ui/panel.h"

namespace cj::ui {
namespace {

std::string zi_text(size_t n) {
  if (n >= 10000) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f万字", static_cast<double>(n) / 10000.0);
    return b;
  }
  return std::to_string(n) + "字";
}

class ChaptersPanel final : public Panel {
 public:
  const char* name() const override { return "chapters"; }
  const char* title() const override { return "章节"; }

  void draw(UiState& st) override {
    if (!st.book) {
      ImGui::TextDisabled("尚未打开书稿");
      wrapped_text(st, "文件 → 打开，或 changjuan --open 小说.txt", ImGui::GetColorU32(ImGuiCol_TextDisabled));
      return;
    }
    const auto& chs = st.book->chapters();
    size_t total = 0;
    for (const auto& c : chs) total += c.zi;
    const std::string head = st.book->title();
    st.atlas->note(head);
    ImGui::TextUnformatted(head.c_str());
    ImGui::TextDisabled("%zu 章 · %s", chs.size(), zi_text(total).c_str());
    ImGui::Separator();
    ImGui::BeginChild("chapter_list", ImVec2(0, -ImGui::GetFrameHeightWithSpacing()), false);
    const float right = ImGui::GetContentRegionAvail().x;
    // Only the visible rows are laid out (a novel has hundreds of chapters).
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(chs.size()));
    while (clipper.Step()) {
      for (size_t i = static_cast<size_t>(clipper.DisplayStart); i < static_cast<size_t>(clipper.DisplayEnd); ++i) {
        const auto& c = chs[i];
        st.atlas->note(c.title);
        const bool open = static_cast<int>(i) == st.chapter;
        std::string label = c.title;
        if (open && st.dirty()) label += " *";
        ImGui::PushID(static_cast<int>(i));
        const ImVec2 p0 = ImGui::GetCursorScreenPos();
        if (ImGui::Selectable("##ch", open, 0, ImVec2(0, 0))) {
          if (!open) st.request_open = static_cast<int>(i);
        }
        if (ImGui::IsItemHovered() && ImGui::CalcTextSize(label.c_str()).x > right * 0.7f)
          ImGui::SetTooltip("%s", label.c_str());
        if (ImGui::BeginPopupContextItem("ctx")) {
          if (ImGui::MenuItem("打开")) st.request_open = static_cast<int>(i);
          if (ImGui::MenuItem("重命名…", nullptr, false, st.book->has_revisions())) {
            rename_index_ = static_cast<int>(i);
            std::snprintf(name_, sizeof name_, "%s", c.name.c_str());
            open_rename_ = true;
          }
          // Reorder: the chapters between shift by one (storage::Chapters::move); the front matter stays first.
          const bool movable = st.book->has_revisions() && c.ordinal >= 1;
          if (ImGui::MenuItem("上移", nullptr, false, movable && i > 0 && chs[i - 1].ordinal >= 1)) move_ = {i, i - 1};
          if (ImGui::MenuItem("下移", nullptr, false, movable && i + 1 < chs.size())) move_ = {i, i + 1};
          ImGui::EndPopup();
        }
        // Title clipped on the left, 字数 right-aligned.
        const std::string zi = zi_text(open ? st.editor->doc().zi_count() : c.zi);
        const float zw = ImGui::CalcTextSize(zi.c_str()).x;
        const ImVec2 p1(p0.x + right, ImGui::GetItemRectMax().y);
        ImDrawList* dl = ImGui::GetWindowDrawList();
        const ImVec4 clip(p0.x, p0.y, p1.x - zw - 10, p1.y);
        dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), p0, ImGui::GetColorU32(ImGuiCol_Text), label.c_str(),
                    nullptr, 0.0f, &clip);
        dl->AddText(ImVec2(p1.x - zw, p0.y), ImGui::GetColorU32(ImGuiCol_TextDisabled), zi.c_str());
        ImGui::PopID();
      }
    }
    ImGui::EndChild();
    if (move_.first != move_.second) do_move(st);
    ImGui::BeginDisabled(!st.book->has_revisions());
    if (ImGui::Button("新建章节")) {
      rename_index_ = -1;
      // The book's next number in its own style: 第一百二十一回 after 第一百二十回 (a 楔子 before it or not).
      std::snprintf(name_, sizeof name_, "%s", st.book->numbering().next_heading().c_str());
      open_rename_ = true;
    }
    ImGui::EndDisabled();
    if (!st.book->has_revisions() && ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
      ImGui::SetTooltip("纯文本文件不能新建或重命名章节；请先导入为书稿项目");
    draw_name_dialog(st);
  }

 private:
  // One dialog for "rename chapter i" (rename_index_ >= 0) and "new chapter" (-1).
  void draw_name_dialog(UiState& st) {
    if (open_rename_) {
      ImGui::OpenPopup("章节名称");
      open_rename_ = false;
      focus_name_ = true;
    }
    if (!ImGui::BeginPopupModal("章节名称", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
    ImGui::TextUnformatted(rename_index_ >= 0 ? "重命名章节" : "新建章节");
    if (focus_name_) {
      ImGui::SetKeyboardFocusHere();
      focus_name_ = false;
    }
    ImGui::SetNextItemWidth(360 * ImGui::GetFontSize() / 17.0f);
    const bool enter = ImGui::InputText("##name", name_, sizeof name_, ImGuiInputTextFlags_EnterReturnsTrue);
    st.atlas->note(name_);
    if (ImGui::Button("确定") || enter) {
      if (rename_index_ >= 0) {
        if (rename_index_ == st.chapter && st.dirty() && st.save_now) st.save_now();
        if (Status s = st.book->rename_chapter(static_cast<size_t>(rename_index_), name_); !s.ok())
          st.say(s.error(), true);
      } else {
        auto i = st.book->add_chapter(name_);
        if (i.ok())
          st.request_open = static_cast<int>(*i);
        else
          st.say(i.error(), true);
      }
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("取消")) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }

  void do_move(UiState& st) {
    const auto [from, to] = move_;
    move_ = {0, 0};
    // The open chapter's unsaved text is saved first; it stays open at its new place.
    if (st.dirty() && st.save_now && !st.save_now()) return;
    const int open = st.chapter;
    if (Status s = st.book->move_chapter(from, to); !s.ok()) return st.say(s.error(), true);
    if (open == static_cast<int>(from))
      st.chapter = static_cast<int>(to);
    else if (open == static_cast<int>(to))
      st.chapter = static_cast<int>(from);
    st.say("已移动：" + st.book->chapters()[to].title);
  }

  std::pair<size_t, size_t> move_{0, 0};
  int rename_index_ = -1;
  bool open_rename_ = false;
  bool focus_name_ = false;
  char name_[256] = {};
};

}  // namespace

std::unique_ptr<Panel> make_chapters_panel() { return std::make_unique<ChaptersPanel>(); }

}  // namespace cj::ui
