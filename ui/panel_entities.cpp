// Characters, places, items with their aliases, and the facts about each with the chapters they hold in. Reads
// the book project (storage) through studio::BookSession; a plain text file has none and says so.
#include <imgui.h>

#include <map>
#include <string>
#include <vector>

#include "ui/panel.h"

namespace cj::ui {
namespace {

const char* kind_label(const std::string& k) {
  if (k == "character") return "人物";
  if (k == "place") return "地点";
  if (k == "item") return "物品";
  if (k == "faction") return "势力";
  return "其他";
}

std::string range_label(const storage::Fact& f) {
  if (!f.valid_from && !f.valid_to) return "全书";
  std::string s;
  if (f.valid_from) s += "第" + std::to_string(*f.valid_from) + "章起";
  if (f.valid_to) s += (s.empty() ? "" : "，") + std::string("至第") + std::to_string(*f.valid_to) + "章";
  return s;
}

class EntitiesPanel final : public Panel {
 public:
  const char* name() const override { return "entities"; }
  const char* title() const override { return "人物"; }

  void draw(UiState& st) override {
    if (!st.book) {
      ImGui::TextDisabled("尚未打开书稿");
      return;
    }
    if (loaded_for_ != st.book_generation) reload(st);
    if (!error_.empty()) {
      not_available(st, "人物、地点、物品及其别名；设定事实及其有效章节范围。", error_.c_str());
      return;
    }
    if (ImGui::Button("刷新")) reload(st);
    ImGui::SameLine();
    const int64_t here = st.chapter >= 0 ? st.book->chapters()[static_cast<size_t>(st.chapter)].ordinal : -1;
    ImGui::Checkbox("只看本章成立的事实", &as_of_open_);
    if (entities_.empty()) {
      ImGui::Spacing();
      wrapped_text(st, "这本书还没有登记人物。用 changjuan-cli entity add 添加（名字与别名也用于分词和搜索）。",
                   ImGui::GetColorU32(ImGuiCol_TextDisabled));
      return;
    }
    ImGui::BeginChild("entity_list", ImVec2(0, ImGui::GetContentRegionAvail().y * 0.42f), true);
    std::string last_kind;
    for (size_t i = 0; i < entities_.size(); ++i) {
      const auto& e = entities_[i];
      if (e.kind != last_kind) {
        ImGui::TextDisabled("%s", kind_label(e.kind));
        last_kind = e.kind;
      }
      std::string label = e.name;
      if (!e.aliases.empty()) {
        label += "（";
        for (size_t k = 0; k < e.aliases.size(); ++k) label += (k ? "、" : "") + e.aliases[k];
        label += "）";
      }
      st.atlas->note(label);
      ImGui::PushID(static_cast<int>(i));
      if (ImGui::Selectable(label.c_str(), selected_ == static_cast<int>(i))) selected_ = static_cast<int>(i);
      ImGui::PopID();
    }
    ImGui::EndChild();
    if (selected_ < 0 || selected_ >= static_cast<int>(entities_.size())) return;
    const auto& e = entities_[static_cast<size_t>(selected_)];
    st.atlas->note(e.name);
    st.atlas->note(e.description);
    ImGui::TextUnformatted(e.name.c_str());
    if (!e.description.empty()) {
      wrapped_text(st, e.description.c_str(), ImGui::GetColorU32(ImGuiCol_TextDisabled));
    }
    if (ImGui::BeginTable("facts", 3,
                          ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp)) {
      ImGui::TableSetupColumn("事项");
      ImGui::TableSetupColumn("内容");
      ImGui::TableSetupColumn("有效范围");
      ImGui::TableHeadersRow();
      int shown = 0;
      for (const auto& f : facts_) {
        if (f.entity_id != e.id) continue;
        if (as_of_open_ && here >= 0 && !f.holds_at(here)) continue;
        std::string value = f.value;
        if (f.object_id)
          for (const auto& o : entities_)
            if (o.id == *f.object_id) value += (value.empty() ? "" : " ") + o.name;
        const std::string range = range_label(f);
        st.atlas->note(f.predicate);
        st.atlas->note(value);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(f.predicate.c_str());
        ImGui::TableNextColumn();
        wrapped_text(st, value);
        ImGui::TableNextColumn();
        ImGui::TextDisabled("%s", range.c_str());
        ++shown;
      }
      ImGui::EndTable();
      if (shown == 0) ImGui::TextDisabled(as_of_open_ ? "本章没有成立的事实" : "尚无事实");
    }
  }

 private:
  void reload(UiState& st) {
    loaded_for_ = st.book_generation;
    error_.clear();
    entities_.clear();
    facts_.clear();
    auto e = st.book->entities();
    if (!e.ok()) {
      error_ = e.error();
      return;
    }
    auto f = st.book->facts();
    if (!f.ok()) {
      error_ = f.error();
      return;
    }
    entities_ = std::move(*e);
    facts_ = std::move(*f);
    std::stable_sort(entities_.begin(), entities_.end(), [](const auto& a, const auto& b) {
      static const std::map<std::string, int> order = {{"character", 0}, {"place", 1}, {"item", 2}, {"faction", 3}};
      auto rank = [](const std::string& k) {
        auto it = order.find(k);
        return it == order.end() ? 9 : it->second;
      };
      return rank(a.kind) < rank(b.kind);
    });
    if (selected_ >= static_cast<int>(entities_.size())) selected_ = -1;
    if (selected_ < 0 && !entities_.empty()) selected_ = 0;
  }

  int loaded_for_ = -1;
  std::string error_;
  std::vector<storage::Entity> entities_;
  std::vector<storage::Fact> facts_;
  int selected_ = -1;
  bool as_of_open_ = false;
};

}  // namespace

std::unique_ptr<Panel> make_entities_panel() { return std::make_unique<EntitiesPanel>(); }

}  // namespace cj::ui
