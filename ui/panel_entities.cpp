// Characters, places, items with their aliases, and the facts about each with the chapters they hold in; 新建
// adds an entry, 添加事实 a fact with its chapter range, 删除 removes either; 从书中找人物 proposes the book's
// characters (the same discovery as `changjuan-cli entities discover`, on a worker with its own connection) with
// their counts, first chapter and an example, each added with one click. Reads and writes the book project
// (storage) through studio::BookSession; a plain text file has none and says so.
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "engine/base/text.h"
#include "storage/database.h"
#include "studio/check/entity_discovery.h"
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

// "第二十回起，至第四十回": chapters as the book labels them (facts store ordinals).
std::string range_label(const storage::Fact& f, const studio::BookSession& b) {
  if (!f.valid_from && !f.valid_to) return "全书";
  std::string s;
  if (f.valid_from) s += b.chapter_label(*f.valid_from) + "起";
  if (f.valid_to) s += (s.empty() ? "" : "，") + std::string("至") + b.chapter_label(*f.valid_to);
  return s;
}

constexpr const char* kKinds[] = {"character", "place", "item", "faction", "other"};

// A text field of the add forms; what is typed (an input method's Chinese) gets its glyphs.
void field(UiState& st, const char* label, const char* hint, char* buf, size_t size, float width) {
  ImGui::SetNextItemWidth(width);
  ImGui::InputTextWithHint(label, hint, buf, size);
  st.atlas->note(buf);
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
    if (needs_project(st, "人物、地点、物品及其别名；设定事实及其有效章节范围。",
                      "纯文本文件没有人物库与设定；把它导入为书稿项目（原文件不动），人物可自动发现。"))
      return;
    if (loaded_for_ != st.book_generation) reload(st);
    if (!error_.empty()) {
      not_available(st, "人物、地点、物品及其别名；设定事实及其有效章节范围。", error_.c_str());
      return;
    }
    if (ImGui::Button("刷新")) reload(st);
    ImGui::SameLine();
    if (ImGui::Button(adding_ ? "收起" : "新建")) adding_ = !adding_;
    ImGui::SameLine();
    if (button(st, found_.empty() && !pending_.valid() ? "从书中找人物" : "收起人物建议")) toggle_discovery(st);
    ImGui::SameLine();
    const int64_t here = st.chapter >= 0 ? st.book->chapters()[static_cast<size_t>(st.chapter)].ordinal : -1;
    ImGui::Checkbox("只看本章成立的事实", &as_of_open_);
    if (pending_.valid() || !found_.empty()) {
      draw_discovery(st);
      return;
    }
    if (adding_ || entities_.empty()) draw_add_entity(st);
    if (entities_.empty()) {
      ImGui::Spacing();
      wrapped_text(st, "这本书还没有登记人物。点“从书中找人物”看书里常出现的人名，或在上面填名字与别名后点“添加”（名字与别名也用于分词、搜索和一致性检查）。",
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
      if (scroll_to_selected_ && selected_ == static_cast<int>(i)) {
        ImGui::SetScrollHereY();
        scroll_to_selected_ = false;
      }
      ImGui::PopID();
    }
    ImGui::EndChild();
    if (selected_ < 0 || selected_ >= static_cast<int>(entities_.size())) return;
    const auto& e = entities_[static_cast<size_t>(selected_)];
    st.atlas->note(e.name);
    st.atlas->note(e.description);
    ImGui::TextUnformatted(e.name.c_str());
    ImGui::SameLine();
    if (ImGui::SmallButton("删除此条目")) ImGui::OpenPopup("confirm_remove");
    if (ImGui::BeginPopup("confirm_remove")) {
      ImGui::Text("删除“%s”及其全部事实？", e.name.c_str());
      if (ImGui::Button("删除")) {
        if (Status s = st.book->remove_entity(e.id); !s.ok()) st.say(s.error(), true);
        else st.say("已删除“" + e.name + "”");
        ImGui::CloseCurrentPopup();
        ImGui::EndPopup();
        reload(st);
        return;
      }
      ImGui::SameLine();
      if (ImGui::Button("取消")) ImGui::CloseCurrentPopup();
      ImGui::EndPopup();
    }
    if (!e.description.empty()) {
      wrapped_text(st, e.description.c_str(), ImGui::GetColorU32(ImGuiCol_TextDisabled));
    }
    int64_t remove_fact = 0;
    if (ImGui::BeginTable("facts", 4,
                          ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp)) {
      ImGui::TableSetupColumn("事项");
      ImGui::TableSetupColumn("内容");
      ImGui::TableSetupColumn("有效范围");
      ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed);
      ImGui::TableHeadersRow();
      int shown = 0;
      for (const auto& f : facts_) {
        if (f.entity_id != e.id) continue;
        if (as_of_open_ && here >= 0 && !f.holds_at(here)) continue;
        std::string value = f.value;
        if (f.object_id)
          for (const auto& o : entities_)
            if (o.id == *f.object_id) value += (value.empty() ? "" : " ") + o.name;
        const std::string range = range_label(f, *st.book);
        st.atlas->note(f.predicate);
        st.atlas->note(value);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(f.predicate.c_str());
        ImGui::TableNextColumn();
        wrapped_text(st, value);
        ImGui::TableNextColumn();
        ImGui::TextDisabled("%s", range.c_str());
        ImGui::TableNextColumn();
        ImGui::PushID(static_cast<int>(f.id));
        if (ImGui::SmallButton("删除")) remove_fact = f.id;
        ImGui::PopID();
        ++shown;
      }
      ImGui::EndTable();
      if (shown == 0) ImGui::TextDisabled(as_of_open_ ? "本章没有成立的事实" : "尚无事实");
    }
    if (remove_fact) {
      if (Status s = st.book->remove_fact(remove_fact); !s.ok()) st.say(s.error(), true);
      reload(st);
      return;
    }
    draw_add_fact(st, e.id);
  }

 private:
  struct Discovery {
    std::string error;
    std::vector<check::DiscoveredName> names;
  };

  void toggle_discovery(UiState& st) {
    if (pending_.valid() || !found_.empty()) {
      found_.clear();
      return;
    }
    const std::string path = st.book->db_path();
    if (path.empty()) {
      st.say("人物建议需要书稿项目（文件 → 导入小说）", true);
      return;
    }
    const int64_t book = st.book->book_id();
    pending_ = std::async(std::launch::async, [path, book] {
      Discovery d;
      auto db = storage::Database::open(path, {.create = false, .read_only = true});
      if (!db.ok()) {
        d.error = db.error();
        return d;
      }
      check::BookKnowledge k;
      auto found = check::discover_in_book(**db, book, {.min_count = 5, .limit = 60}, false, &k);
      if (!found.ok()) d.error = found.error();
      else d.names = std::move(*found);
      return d;
    });
  }

  // The proposals, most frequent first: 添加 makes one a character (the list then leaves it out).
  void draw_discovery(UiState& st) {
    ImGui::Separator();
    if (pending_.valid()) {
      if (pending_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        ImGui::TextDisabled("正在通读全书找人名…");
        return;
      }
      Discovery d = pending_.get();
      if (!d.error.empty()) {
        st.say("找人物失败：" + d.error, true);
        return;
      }
      if (d.names.empty()) {
        st.say("书里没有找到常出现的新人名（出现不到 5 次的不列出）");
        return;
      }
      found_ = std::move(d.names);
    }
    wrapped_text(st, "书里常出现、还没登记的人名（次数、首次出现的章、一句例子）。点“添加”登记为人物；不是人名的不用管。",
                 ImGui::GetColorU32(ImGuiCol_TextDisabled));
    ImGui::BeginChild("discovered", ImVec2(0, 0), true);
    for (size_t i = 0; i < found_.size(); ++i) {
      const auto& d = found_[i];
      ImGui::PushID(static_cast<int>(i));
      const std::string head = d.name + "  " + std::to_string(d.count) + " 次 · 首见" + st.book->chapter_label(d.first_chapter) +
                               (d.alias_of.empty() ? "" : " · 可能是" + d.alias_of + "的别名");
      st.atlas->note(head);
      const bool add = ImGui::SmallButton("添加");
      if (i == 0) note_item(st, "添加");  // the script's click-label takes the top proposal
      ImGui::SameLine();
      ImGui::TextUnformatted(head.c_str());
      st.texts_drawn.push_back(head);
      if (!d.examples.empty()) {
        st.atlas->note(d.examples.front());
        ImGui::Indent();
        wrapped_text(st, d.examples.front(), ImGui::GetColorU32(ImGuiCol_TextDisabled));
        ImGui::Unindent();
      }
      ImGui::PopID();
      if (add) {
        const std::string name = d.name;
        auto id = st.book->add_entity("character", name, {}, "");
        if (!id.ok()) {
          st.say(id.error(), true);
        } else {
          st.say("已添加人物“" + name + "”");
          found_.erase(found_.begin() + static_cast<long>(i));
          reload(st);
        }
        break;
      }
    }
    ImGui::EndChild();
  }

  // 名字, 类别, 别名, 说明 -> 添加.
  void draw_add_entity(UiState& st) {
    ImGui::Separator();
    const float w = ImGui::GetFontSize() * 12;
    field(st, "名字", "如：林黛玉", name_, sizeof name_, w);
    ImGui::SetNextItemWidth(w);
    if (ImGui::BeginCombo("类别", kind_label(kKinds[kind_]))) {
      for (int k = 0; k < 5; ++k)
        if (ImGui::Selectable(kind_label(kKinds[k]), k == kind_)) kind_ = k;
      ImGui::EndCombo();
    }
    field(st, "别名", "用、或，分隔：黛玉、颦儿", aliases_, sizeof aliases_, w);
    field(st, "说明", "可不填", desc_, sizeof desc_, w);
    if (ImGui::Button("添加")) {
      auto id = st.book->add_entity(kKinds[kind_], name_, text::split_list(aliases_), desc_);
      if (!id.ok()) {
        st.say(id.error(), true);
      } else {
        st.say(std::string("已添加“") + name_ + "”");
        name_[0] = aliases_[0] = desc_[0] = 0;
        reload(st);
        for (size_t i = 0; i < entities_.size(); ++i)
          if (entities_[i].id == *id) selected_ = static_cast<int>(i);
        scroll_to_selected_ = true;
      }
    }
    ImGui::Separator();
  }

  // 事项, 内容, 从第 N 章, 到第 M 章 -> 添加事实 (0 = open end).
  void draw_add_fact(UiState& st, int64_t entity_id) {
    ImGui::Spacing();
    ImGui::TextDisabled("添加事实（章号为 0 表示从开头 / 到结尾）");
    const float w = ImGui::GetFontSize() * 12;
    field(st, "事项", "如：状态、年龄、住在", pred_, sizeof pred_, w);
    field(st, "内容", "如：死亡、十三岁、潇湘馆", value_, sizeof value_, w);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::InputInt("从第几章", &from_);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::InputInt("到第几章", &to_);
    from_ = std::max(0, from_);
    to_ = std::max(0, to_);
    if (ImGui::Button("添加事实")) {
      storage::Fact f;
      f.entity_id = entity_id;
      f.predicate = pred_;
      f.value = value_;
      // The numbers typed are the book's own (20 = 第二十回, even after a 楔子), as on the command line.
      Status bad;
      for (auto [n, field] : {std::pair{from_, &f.valid_from}, std::pair{to_, &f.valid_to}}) {
        if (n <= 0) continue;
        auto o = st.book->numbering().resolve_new(std::to_string(n));
        if (!o.ok()) bad = Error{o.error()};
        else *field = *o;
      }
      if (!bad.ok()) {
        st.say(bad.error(), true);
      } else if (auto id = st.book->add_fact(f); !id.ok()) {
        st.say(id.error(), true);
      } else {
        st.say("已添加事实：" + std::string(pred_) + " " + value_);
        pred_[0] = value_[0] = 0;
        reload(st);
      }
    }
  }

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
  bool adding_ = false, scroll_to_selected_ = false;
  char name_[128] = {}, aliases_[512] = {}, desc_[512] = {};
  int kind_ = 0;
  char pred_[128] = {}, value_[512] = {};
  int from_ = 0, to_ = 0;
  std::future<Discovery> pending_;
  std::vector<check::DiscoveredName> found_;
};

}  // namespace

std::unique_ptr<Panel> make_entities_panel() { return std::make_unique<EntitiesPanel>(); }

}  // namespace cj::ui
