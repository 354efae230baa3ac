// Search across the book; click a hit to open its chapter with the match selected.
#include <imgui.h>

#include <string>
#include <vector>

#include "ui/panel.h"

namespace cj::ui {
namespace {

class SearchPanel final : public Panel {
 public:
  const char* name() const override { return "search"; }
  const char* title() const override { return "搜索"; }

  void draw(UiState& st) override {
    if (!st.book) {
      ImGui::TextDisabled("打开书稿后可搜索全书");
      return;
    }
    if (focus_) {
      ImGui::SetKeyboardFocusHere();
      focus_ = false;
    }
    ImGui::SetNextItemWidth(-70);
    const bool enter =
        ImGui::InputTextWithHint("##q", "搜索全书…", query_, sizeof query_, ImGuiInputTextFlags_EnterReturnsTrue);
    st.atlas->note(query_);
    ImGui::SameLine();
    if (ImGui::Button("搜索") || enter) run(st);
    if (!error_.empty()) ImGui::TextColored(ImVec4(0.7f, 0.1f, 0.1f, 1), "%s", error_.c_str());
    if (searched_) {
      // Occurrences and chapters, both counted over the whole book ("16 处" once counted chapters).
      if (hits_.empty()) {
        ImGui::TextDisabled("没有找到");
      } else {
        std::string counts = std::to_string(count_.hits) + " 处，" + std::to_string(count_.chapters) + " 章";
        if (hits_.size() < static_cast<size_t>(count_.chapters)) counts += "（列出 " + std::to_string(hits_.size()) + " 章）";
        st.atlas->note(counts);
        ImGui::TextDisabled("%s", counts.c_str());
      }
      ImGui::Separator();
      ImGui::BeginChild("hits");
      const auto& chs = st.book->chapters();
      for (size_t i = 0; i < hits_.size(); ++i) {
        const auto& h = hits_[i];
        ImGui::PushID(static_cast<int>(i));
        const std::string& ct = h.chapter < chs.size() ? chs[h.chapter].title : std::string();
        st.atlas->note(ct);
        st.atlas->note(h.snippet);
        if (ImGui::Selectable("##hit", selected_ == static_cast<int>(i), 0,
                              ImVec2(0, ImGui::GetTextLineHeight() * 2 + 2))) {
          selected_ = static_cast<int>(i);
          st.request_open = static_cast<int>(h.chapter);
          st.request_select = std::pair{h.byte, h.byte + h.length};
        }
        ImGui::SameLine(8);
        ImGui::BeginGroup();
        ImGui::TextDisabled("%s", ct.c_str());
        // The match stands out in the snippet.
        const size_t at = h.snippet.find(last_query_);
        if (at == std::string::npos || last_query_.empty()) {
          ImGui::TextUnformatted(h.snippet.c_str());
        } else {
          const char* p = h.snippet.c_str();
          ImGui::TextUnformatted(p, p + at);
          ImGui::SameLine(0, 0);
          ImGui::TextColored(ImVec4(0.70f, 0.22f, 0.10f, 1), "%s", last_query_.c_str());
          ImGui::SameLine(0, 0);
          ImGui::TextUnformatted(p + at + last_query_.size());
        }
        ImGui::EndGroup();
        ImGui::PopID();
      }
      ImGui::EndChild();
    }
  }

  void on_activate() override { focus_ = true; }

 private:
  static constexpr size_t kLimit = 500;

  void run(UiState& st) {
    if (st.dirty() && st.save_now) st.save_now();  // hits point into the saved text
    auto r = st.book->search(query_, kLimit);
    searched_ = true;
    selected_ = -1;
    if (!r.ok()) {
      error_ = r.error();
      hits_.clear();
      return;
    }
    error_.clear();
    hits_ = std::move(*r);
    auto c = st.book->search_count(query_);
    count_ = c.ok() ? *c : storage::SearchCount{};
    last_query_ = query_;
    const size_t sp = last_query_.find(' ');  // the first term is what the hit points at
    if (sp != std::string::npos) last_query_.resize(sp);
  }

  char query_[256] = {};
  bool focus_ = false;
  bool searched_ = false;
  int selected_ = -1;
  std::string error_;
  std::string last_query_;
  std::vector<studio::SearchHit> hits_;
  storage::SearchCount count_;
};

}  // namespace

std::unique_ptr<Panel> make_search_panel() { return std::make_unique<SearchPanel>(); }

}  // namespace cj::ui
