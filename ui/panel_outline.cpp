// Outline and beats for a chapter: what happens, who appears, what to foreshadow. Stored in the project
// (BookSession::outline / save_outline); 助手 → 起草本章 drafts the open chapter from it. 新建下一章 appends a
// chapter and opens it, so that its beats can be written before it is drafted.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <string>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class OutlinePanel final : public Panel {
 public:
  const char* name() const override { return "outline"; }
  const char* title() const override { return "大纲"; }
  void draw(UiState& st) override {
    if (!st.book || !st.book->has_revisions() || st.chapter < 0) {
      not_available(st, "本章的大纲与节拍：要写的事件、出场人物、要埋的伏笔。",
                    st.book && !st.book->has_revisions() ? "纯文本文件不能保存大纲；先导入为书稿项目。" : "先打开一章。");
      return;
    }
    const auto& ch = st.book->chapters()[static_cast<size_t>(st.chapter)];
    if (ch.ordinal != loaded_ordinal_ || st.book_generation != generation_) load(st, ch.ordinal);
    st.atlas->note(ch.title);
    ImGui::Text("%s · 大纲", ch.title.c_str());
    wrapped_text(st, "每行一个节拍。助手的“起草本章”按这里的节拍写到目标字数。", ImGui::GetColorU32(ImGuiCol_TextDisabled));
    const float bottom = ImGui::GetFrameHeightWithSpacing() * 1.2f;
    if (ImGui::InputTextMultiline("##beats", &buf_, ImVec2(-1, -bottom))) {
      dirty_ = true;
      st.atlas->note(buf_);
    }
    if (dirty_ && !ImGui::IsItemActive()) save(st);  // saved when the field loses focus
    ImGui::BeginDisabled(!dirty_);
    if (ImGui::Button("保存大纲")) save(st);
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("新建下一章")) {
      if (dirty_) save(st);
      auto i = st.book->add_chapter("");  // numbered like the chapter before it
      if (i.ok())
        st.request_open = static_cast<int>(*i);
      else
        st.say(i.error(), true);
    }
  }

 private:
  void load(UiState& st, int64_t ordinal) {
    loaded_ordinal_ = ordinal;
    generation_ = st.book_generation;
    dirty_ = false;
    auto o = st.book->outline(ordinal);
    buf_ = o.ok() ? std::move(*o) : std::string();
    if (!o.ok()) st.say(o.error(), true);
    st.atlas->note(buf_);
  }
  void save(UiState& st) {
    dirty_ = false;
    if (Status s = st.book->save_outline(loaded_ordinal_, buf_); !s.ok()) st.say(s.error(), true);
  }
  std::string buf_;  // grows as needed: a long outline is never cut
  int64_t loaded_ordinal_ = -1;
  int generation_ = -1;
  bool dirty_ = false;
};

}  // namespace

std::unique_ptr<Panel> make_outline_panel() { return std::make_unique<OutlinePanel>(); }

}  // namespace cj::ui
