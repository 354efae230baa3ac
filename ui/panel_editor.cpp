// The chapter editor: the chapter's title, its 字数 and save state above the text.
#include <imgui.h>

#include <ctime>
#include <string>
#include <vector>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class EditorPanel final : public Panel {
 public:
  const char* name() const override { return "editor"; }
  const char* title() const override { return "正文"; }

  void draw(UiState& st) override {
    if (!st.book || st.chapter < 0) {
      ImGui::Dummy(ImVec2(0, 40));
      ImGui::Indent(40);
      ImGui::TextDisabled(st.book ? "从左侧选择一章开始写作" : "尚未打开书稿");
      ImGui::Unindent(40);
      return;
    }
    const auto& ch = st.book->chapters()[static_cast<size_t>(st.chapter)];
    st.atlas->note(ch.title);
    ImGui::TextUnformatted(ch.title.c_str());
    const TextDoc& d = st.editor->doc();
    char right[160];
    const char* state = st.dirty() ? "未保存" : (st.book->has_revisions() ? "已保存为修订" : "已保存");
    std::snprintf(right, sizeof right, "%zu 字 · %s", d.zi_count(), state);
    const float w = ImGui::CalcTextSize(right).x;
    const float bw = st.book->has_revisions() ? ImGui::CalcTextSize("修订").x + ImGui::GetStyle().FramePadding.x * 2 + 8 : 0;
    ImGui::SameLine(ImGui::GetContentRegionMax().x - w - bw);
    if (st.dirty()) ImGui::TextColored(ImVec4(0.72f, 0.35f, 0.1f, 1), "%s", right);
    else ImGui::TextDisabled("%s", right);
    if (st.book->has_revisions()) {
      ImGui::SameLine();
      if (ImGui::SmallButton("修订")) {
        load_revisions(st);
        ImGui::OpenPopup("revisions");
      }
      draw_revisions(st);
    }
    st.editor->draw("##text", ImVec2(0, 0), *st.atlas);
  }

 private:
  void load_revisions(UiState& st) {
    auto r = st.book->revisions(static_cast<size_t>(st.chapter));
    revs_ = r.ok() ? std::move(*r) : std::vector<studio::RevisionInfo>{};
    error_ = r.ok() ? "" : r.error();
  }

  static const char* source_label(const std::string& s) {
    if (s == "import") return "导入";
    if (s == "writer") return "手写";
    if (s == "ai") return "AI";
    if (s == "restore") return "恢复";
    return s.c_str();
  }

  // The chapter's revision history, newest first; restoring one makes its text current as a new revision.
  void draw_revisions(UiState& st) {
    if (!ImGui::BeginPopup("revisions")) return;
    ImGui::TextUnformatted("修订历史（恢复旧版本会另存为新修订，不丢任何内容）");
    ImGui::Separator();
    if (!error_.empty()) ImGui::TextColored(ImVec4(0.7f, 0.1f, 0.1f, 1), "%s", error_.c_str());
    for (auto it = revs_.rbegin(); it != revs_.rend(); ++it) {
      const auto& r = *it;
      char when[64] = "";
      const std::time_t t = static_cast<std::time_t>(r.created_at / 1000);
      std::tm tm{};
      localtime_r(&t, &tm);
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
      ImGui::PushID(static_cast<int>(r.id));
      ImGui::Text("#%lld", static_cast<long long>(r.number));
      ImGui::SameLine(60);
      ImGui::TextUnformatted(source_label(r.source));
      ImGui::SameLine(110);
      ImGui::TextDisabled("%s · %lld 字符", when, static_cast<long long>(r.chars));
      ImGui::SameLine(380);
      if (r.current) {
        ImGui::TextDisabled("当前");
      } else if (ImGui::SmallButton("恢复")) {
        if (st.dirty() && st.save_now) st.save_now();
        if (Status s = st.book->restore_revision(static_cast<size_t>(st.chapter), r.id); !s.ok()) {
          st.say(s.error(), true);
        } else {
          st.request_reload = true;
          st.say("已恢复修订 #" + std::to_string(r.number));
        }
        ImGui::CloseCurrentPopup();
      }
      ImGui::PopID();
    }
    ImGui::EndPopup();
  }

  std::vector<studio::RevisionInfo> revs_;
  std::string error_;
};

}  // namespace

std::unique_ptr<Panel> make_editor_panel() { return std::make_unique<EditorPanel>(); }

}  // namespace cj::ui
