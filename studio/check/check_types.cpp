#include "studio/check/check_types.h"

#include <algorithm>

#include "engine/base/utf8.h"
#include "storage/chapters.h"

namespace cj::check {

const KnownEntity* BookKnowledge::entity(int64_t id) const {
  for (const auto& e : entities)
    if (e.id == id) return &e;
  return nullptr;
}

std::string BookKnowledge::label(int64_t ordinal) const {
  auto it = labels.find(ordinal);
  if (it != labels.end() && !it->second.empty()) return it->second;
  return "第" + std::to_string(ordinal) + "章";
}

std::vector<const storage::Fact*> BookKnowledge::facts_at(int64_t ent, int64_t chapter,
                                                          const std::vector<std::string_view>& predicates) const {
  std::vector<const storage::Fact*> out;
  for (const auto& f : facts) {
    if (f.entity_id != ent || !f.holds_at(chapter)) continue;
    if (!predicates.empty() && std::find(predicates.begin(), predicates.end(), f.predicate) == predicates.end())
      continue;
    out.push_back(&f);
  }
  return out;
}

BookKnowledge make_knowledge(const std::vector<storage::Entity>& ents, std::vector<storage::Fact> facts) {
  BookKnowledge k;
  for (const auto& e : ents) {
    KnownEntity ke;
    ke.id = e.id;
    ke.kind = e.kind;
    ke.name = to_u32(e.name);
    ke.names.push_back(ke.name);
    for (const auto& a : e.aliases) ke.names.push_back(to_u32(a));
    k.entities.push_back(std::move(ke));
  }
  k.facts = std::move(facts);
  return k;
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    int n = utf8::decode(s, i, &cp);
    if (n <= 0) {
      out.push_back(0xFFFD);
      ++i;
    } else {
      out.push_back(cp);
      i += n;
    }
  }
  return out;
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char32_t c : s) utf8::append(out, c);
  return out;
}

bool is_han(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2FFFF) ||
         (c >= 0xF900 && c <= 0xFAFF) || c == 0x3007;
}

namespace {
int digit_value(char32_t c) {
  if (c >= U'0' && c <= U'9') return int(c - U'0');
  if (c >= U'０' && c <= U'９') return int(c - U'０');
  switch (c) {
    case U'零': case U'〇': return 0;
    case U'一': return 1;
    case U'二': case U'两': return 2;
    case U'三': return 3;
    case U'四': return 4;
    case U'五': return 5;
    case U'六': return 6;
    case U'七': return 7;
    case U'八': return 8;
    case U'九': return 9;
    default: return -1;
  }
}
}  // namespace

std::optional<int64_t> parse_number(std::u32string_view s) {
  if (s.empty()) return std::nullopt;
  bool all_digits = true;
  for (char32_t c : s)
    if (!((c >= U'0' && c <= U'9') || (c >= U'０' && c <= U'９'))) all_digits = false;
  if (all_digits) {
    int64_t v = 0;
    for (char32_t c : s) v = v * 10 + digit_value(c);
    return v;
  }
  if (s == U"元") return 1;  // 元年
  int64_t total = 0, section = 0, cur = 0;
  bool any = false, positional = true;
  for (char32_t c : s)
    if (c == U'十' || c == U'百' || c == U'千' || c == U'万' || c == U'廿') positional = false;
  if (positional) {  // 一二零 style
    int64_t v = 0;
    for (char32_t c : s) {
      int d = digit_value(c);
      if (d < 0) return std::nullopt;
      v = v * 10 + d;
    }
    return v;
  }
  for (char32_t c : s) {
    int d = digit_value(c);
    if (d >= 0) {
      cur = d;
      any = true;
      continue;
    }
    int64_t unit = 0;
    if (c == U'十') unit = 10;
    else if (c == U'百') unit = 100;
    else if (c == U'千') unit = 1000;
    else if (c == U'廿') { section += 20; cur = 0; any = true; continue; }
    else if (c == U'万') { total += (section + cur) * 10000; section = 0; cur = 0; any = true; continue; }
    else return std::nullopt;
    section += (cur == 0 ? 1 : cur) * unit;
    cur = 0;
    any = true;
  }
  if (!any) return std::nullopt;
  return total + section + cur;
}

bool is_sentence_end(char32_t c) {
  return c == U'。' || c == U'！' || c == U'？' || c == U'；' || c == U'\n' || c == U'．' || c == U'!' ||
         c == U'?' || c == U'…';
}

std::pair<size_t, size_t> sentence_around(std::u32string_view t, size_t begin, size_t end) {
  size_t b = begin;
  while (b > 0 && !is_sentence_end(t[b - 1])) --b;
  size_t e = std::min(end, t.size());
  while (e < t.size() && !is_sentence_end(t[e])) ++e;
  if (e < t.size() && t[e] != U'\n') ++e;
  while (b < e && (t[b] == U' ' || t[b] == U'　' || t[b] == U'\t')) ++b;
  return {b, e};
}

NameIndex::NameIndex(const BookKnowledge& k) {
  owner_.push_back(nullptr);  // root
  for (const auto& e : k.entities)
    for (const auto& n : e.names) {
      if (n.empty() || n.size() > storage::kMaxEntityNameChars) continue;
      uint32_t node = 0;
      for (char32_t c : n) {
        const uint64_t key = (uint64_t(node) << 32) | uint64_t(c);
        auto [it, added] = edges_.emplace(key, uint32_t(owner_.size()));
        if (added) owner_.push_back(nullptr);
        node = it->second;
      }
      if (!owner_[node]) owner_[node] = &e;  // first (name before alias of another) wins
      max_len_ = std::max(max_len_, n.size());
    }
}

uint32_t NameIndex::child(uint32_t node, char32_t c) const {
  auto it = edges_.find((uint64_t(node) << 32) | uint64_t(c));
  return it == edges_.end() ? 0 : it->second;
}

const KnownEntity* NameIndex::match(std::u32string_view text, size_t pos, size_t* len, size_t* steps) const {
  const KnownEntity* best = nullptr;
  uint32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    node = child(node, text[i]);
    if (steps) ++*steps;
    if (node == 0) break;
    if (owner_[node]) {
      best = owner_[node];
      if (len) *len = i + 1 - pos;
    }
  }
  return best;
}

bool NameIndex::is_known(std::u32string_view name) const { return find(name) != nullptr; }

const KnownEntity* NameIndex::find(std::u32string_view name) const {
  if (name.empty()) return nullptr;
  uint32_t node = 0;
  for (char32_t c : name) {
    node = child(node, c);
    if (node == 0) return nullptr;
  }
  return owner_[node];
}

Result<std::vector<CheckChapter>> load_check_chapters(storage::Database& db, int64_t book,
                                                      std::map<int64_t, std::string>* labels,
                                                      std::map<int64_t, std::string>* headings) {
  storage::Chapters chs(db);
  auto infos = chs.list(book);
  if (!infos.ok()) return Error{infos.error()};
  std::vector<CheckChapter> out;
  out.reserve(infos->size());
  for (const auto& info : *infos) {
    auto c = chs.get(info.id);
    if (!c.ok()) return Error{c.error()};
    out.push_back({info.ordinal, to_u32(c->body)});
    (*labels)[info.ordinal] = storage::chapter_label(info);
    if (headings) (*headings)[info.ordinal] = info.heading;
  }
  return out;
}

}  // namespace cj::check
