#include "memory/entity_sheets.h"

#include <algorithm>
#include <map>

#include "storage/chapter_numbering.h"
#include "storage/entities.h"
#include "storage/facts.h"

namespace cj::memory {
namespace {

const char* kind_name(const std::string& k) {
  if (k == "character") return "人物";
  if (k == "place") return "地点";
  if (k == "item") return "物品";
  if (k == "faction") return "势力";
  return "其他";
}

size_t count_occurrences(std::string_view text, std::string_view w) {
  if (w.empty()) return 0;
  size_t n = 0;
  for (size_t p = text.find(w); p != std::string_view::npos; p = text.find(w, p + w.size())) ++n;
  return n;
}

}  // namespace

bool is_death_fact(const std::string& predicate, const std::string& value) {
  static const char* kStatus[] = {"状态", "生死", "存亡", "status", "生存状态"};
  bool status = false;
  for (const char* p : kStatus) status = status || predicate == p;
  if (predicate == "死亡" || predicate == "去世" || predicate == "死于") return true;
  if (!status) return false;
  if (value.find("未死") != std::string::npos || value.find("假死") != std::string::npos) return false;
  static const char* kDeath[] = {"死", "亡", "故", "殁", "逝", "卒", "殒", "崩", "薨", "dead"};
  for (const char* d : kDeath)
    if (value.find(d) != std::string::npos) return true;
  return false;
}

Result<std::vector<EntitySheet>> entity_sheets(storage::Database& db, int64_t book_id, int64_t ordinal,
                                               bool known_before) {
  storage::Entities ents(db);
  auto list = ents.list(book_id);
  if (!list.ok()) return Error{list.error()};
  auto facts = storage::Facts(db).as_of(book_id, ordinal);
  if (!facts.ok()) return Error{facts.error()};
  auto numbering = storage::ChapterNumbering::load(db, book_id);
  if (!numbering.ok()) return Error{numbering.error()};
  std::map<int64_t, std::string> names;
  for (const auto& e : *list) names[e.id] = e.name;
  std::map<int64_t, EntitySheet> sheets;
  for (const auto& e : *list) {
    EntitySheet s;
    s.entity_id = e.id;
    s.name = e.name;
    s.kind = e.kind;
    s.aliases = e.aliases;
    s.description = e.description;
    sheets[e.id] = std::move(s);
  }
  for (const auto& f : *facts) {
    auto it = sheets.find(f.entity_id);
    if (it == sheets.end() || !f.holds_at(ordinal)) continue;
    if (known_before && ((f.valid_from && *f.valid_from >= ordinal) || (f.source_chapter && *f.source_chapter >= ordinal)))
      continue;
    EntitySheet& s = it->second;
    if (is_death_fact(f.predicate, f.value)) {
      s.dead = true;
      if (f.valid_from && (!s.dead_since || *f.valid_from < *s.dead_since)) {
        s.dead_since = f.valid_from;
        s.dead_since_label = numbering->label(*f.valid_from);
      }
      continue;
    }
    SheetLine l;
    l.predicate = f.predicate;
    l.valid_from = f.valid_from;
    if (f.valid_from) l.from_label = numbering->label(*f.valid_from);
    if (f.object_id) {
      l.relation = true;
      auto n = names.find(*f.object_id);
      l.value = n != names.end() ? n->second : "#" + std::to_string(*f.object_id);
      if (!f.value.empty()) l.value += "（" + f.value + "）";
    } else {
      l.value = f.value;
    }
    s.lines.push_back(std::move(l));
  }
  std::vector<EntitySheet> out;
  for (auto& [id, s] : sheets) {
    std::stable_sort(s.lines.begin(), s.lines.end(), [](const SheetLine& a, const SheetLine& b) {
      return std::tie(a.relation, a.predicate, a.value) < std::tie(b.relation, b.predicate, b.value);
    });
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const EntitySheet& a, const EntitySheet& b) { return a.name < b.name; });
  return out;
}

std::string render_sheet(const EntitySheet& s) {
  std::string t = s.name + "（" + kind_name(s.kind);
  if (!s.aliases.empty()) {
    t += "；又名：";
    for (size_t i = 0; i < s.aliases.size(); ++i) t += (i ? "、" : "") + s.aliases[i];
  }
  t += "）";
  if (s.dead) {
    t += "已故";
    if (s.dead_since) t += "（" + (s.dead_since_label.empty() ? "第" + std::to_string(*s.dead_since) + "章" : s.dead_since_label) + "起）";
  }
  t += "\n";
  if (!s.description.empty()) t += "  " + s.description + "\n";
  for (const auto& l : s.lines) {
    t += "  " + l.predicate + "：" + l.value;
    if (l.valid_from) t += "（自" + (l.from_label.empty() ? "第" + std::to_string(*l.valid_from) + "章" : l.from_label) + "）";
    t += "\n";
  }
  return t;
}

size_t mentions(const EntitySheet& s, std::string_view text) {
  const size_t by_name = count_occurrences(text, s.name);
  size_t n = by_name;
  for (const auto& a : s.aliases) {
    size_t k = count_occurrences(text, a);
    if (s.name.find(a) != std::string::npos) k -= std::min(k, by_name);  // 黛玉 inside 林黛玉 is counted once
    n += k;
  }
  return n;
}

}  // namespace cj::memory
