// The chapter editor: the chapter's title, its 字数 and save state above the text.
#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <ctime>
#include <string>
#include <vector>

#include "ui/panel.h"
#include "ui/text_diff.h"

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
    const float bw =
        st.book->has_revisions() ? ImGui::CalcTextSize("修订").x + ImGui::GetStyle().FramePadding.x * 2 + 8 : 0;
    ImGui::SameLine(ImGui::GetContentRegionMax().x - w - bw);
    if (st.dirty())
      ImGui::TextColored(ImVec4(0.72f, 0.35f, 0.1f, 1), "%s", right);
    else
      ImGui::TextDisabled("%s", right);
    if (st.book->has_revisions()) {
      ImGui::SameLine();
      if (ImGui::SmallButton("修订")) {
        load_revisions(st);
        ImGui::OpenPopup("revisions");
      }
      draw_revisions(st);
    }
    if (st.request_diff_revision < 0) {  // the proposal was accepted or discarded: its diff is stale
      show_diff_ = false;
      st.request_diff_revision = 0;
    }
    if (st.request_diff_revision > 0) {
      // The AI panel's 对比: what accepting the proposal would change in the current text.
      if (auto rev = st.book->revision_text(st.request_diff_revision); rev.ok()) {
        diff_ = diff_text(st.editor->doc().text(), *rev);
        diff_title_ = "当前正文 → AI 修订（接受后的正文）";
        show_diff_ = true;
      } else {
        st.say(rev.error(), true);
      }
      st.request_diff_revision = 0;
    }
    if (show_diff_) draw_diff(st);
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
      ImGui::TextDisabled("%s · %lld 字", when, static_cast<long long>(r.zi));  // text::zishu, as everywhere
      ImGui::SameLine(360);
      if (r.current) {
        ImGui::TextDisabled("当前");
      } else if (ImGui::SmallButton("对比")) {
        if (auto old = st.book->revision_text(r.id); old.ok()) {
          diff_ = diff_text(*old, st.editor->doc().text());
          diff_title_ = "修订 #" + std::to_string(r.number) + " → 当前正文";
          show_diff_ = true;
        } else {
          st.say(old.error(), true);
        }
        ImGui::CloseCurrentPopup();
      }
      if (!r.current) ImGui::SameLine();
      if (r.current) {
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

  // One paragraph of a diff, wrapped to the width, removed text struck through on red, added text on green.
  static void draw_diff_para(UiState& st, const DiffPara& p) {
    std::string all;
    std::vector<std::pair<size_t, DiffPiece::Kind>> starts;  // byte where each piece starts
    for (const auto& pc : p.pieces) {
      starts.push_back({all.size(), pc.kind});
      all += pc.text;
    }
    st.atlas->note(all);
    ImFont* font = ImGui::GetFont();
    const float fs = ImGui::GetFontSize(), lh = ImGui::GetTextLineHeightWithSpacing();
    const float width = std::max(40.0f, ImGui::GetContentRegionAvail().x - fs);
    const MeasureFn measure = [font](uint32_t c) {
      return font->GetCharAdvance(c < 0x10000 ? static_cast<ImWchar>(c) : static_cast<ImWchar>(0xFFFD));
    };
    ImDrawList* dl = ImGui::GetWindowDrawList();
    for (const LayoutLine& l : wrap_lines(all, width, measure)) {
      const ImVec2 at = ImGui::GetCursorScreenPos();
      float x = at.x;
      for (size_t k = 0; k < starts.size(); ++k) {
        const size_t b = std::max<size_t>(starts[k].first, static_cast<size_t>(l.begin));
        const size_t e =
            std::min<size_t>(k + 1 < starts.size() ? starts[k + 1].first : all.size(), static_cast<size_t>(l.end));
        if (b >= e) continue;
        const char* s0 = all.data() + b;
        const char* s1 = all.data() + e;
        const float w = font->CalcTextSizeA(fs, FLT_MAX, 0, s0, s1).x;
        const auto kind = starts[k].second;
        if (kind == DiffPiece::kRemoved)
          dl->AddRectFilled(ImVec2(x, at.y), ImVec2(x + w, at.y + fs + 2), IM_COL32(250, 215, 210, 255));
        if (kind == DiffPiece::kAdded)
          dl->AddRectFilled(ImVec2(x, at.y), ImVec2(x + w, at.y + fs + 2), IM_COL32(205, 238, 205, 255));
        const ImU32 col = kind == DiffPiece::kRemoved ? IM_COL32(150, 40, 30, 255)
                          : kind == DiffPiece::kAdded ? IM_COL32(20, 100, 30, 255)
                                                      : ImGui::GetColorU32(ImGuiCol_Text);
        dl->AddText(font, fs, ImVec2(x, at.y), col, s0, s1);
        if (kind == DiffPiece::kRemoved)
          dl->AddLine(ImVec2(x, at.y + fs * 0.55f), ImVec2(x + w, at.y + fs * 0.55f), col);
        x += w;
      }
      ImGui::Dummy(ImVec2(width, lh - ImGui::GetStyle().ItemSpacing.y));
    }
  }

  // The diff window: changed paragraphs with one unchanged paragraph of context, the rest folded.
  void draw_diff(UiState& st) {
    ImGui::SetNextWindowSize(ImVec2(640, 520), ImGuiCond_FirstUseEver);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 1.0f);
    const bool open = ImGui::Begin("修订对比", &show_diff_);
    ImGui::PopStyleVar();
    if (!open) {
      ImGui::End();
      return;
    }
    st.atlas->note(diff_title_);
    ImGui::TextUnformatted(diff_title_.c_str());
    ImGui::Separator();
    ImGui::BeginChild("diff");
    const size_t n = diff_.size();
    auto near_change = [&](size_t i) {
      for (size_t k = i > 0 ? i - 1 : 0; k <= i + 1 && k < n; ++k)
        if (diff_[k].kind != DiffPara::kSame) return true;
      return false;
    };
    size_t folded = 0, changes = 0;
    for (size_t i = 0; i < n; ++i) {
      if (diff_[i].kind != DiffPara::kSame) ++changes;
      if (diff_[i].kind == DiffPara::kSame && (!near_change(i) || diff_[i].pieces[0].text.empty())) {
        ++folded;
        continue;
      }
      if (folded) ImGui::TextDisabled("……（%zu 段未改）", folded);
      folded = 0;
      draw_diff_para(st, diff_[i]);
    }
    if (folded) ImGui::TextDisabled("……（%zu 段未改）", folded);
    if (changes == 0) ImGui::TextDisabled("没有差别");
    ImGui::EndChild();
    ImGui::End();
  }

  std::vector<studio::RevisionInfo> revs_;
  std::string error_;
  std::vector<DiffPara> diff_;
  std::string diff_title_;
  bool show_diff_ = false;
};

}  // namespace

std::unique_ptr<Panel> make_editor_panel() { return std::make_unique<EditorPanel>(); }

}  // namespace cj::ui
