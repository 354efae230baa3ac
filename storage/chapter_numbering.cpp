#include "storage/chapter_numbering.h"

#include <algorithm>

#include "storage/chapter_splitter.h"

namespace cj::storage {
namespace {

std::string trim(std::string_view s) {
  auto space_at_front = [&](size_t* n) {
    if (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) return *n = 1, true;
    if (s.size() >= 3 && s.compare(0, 3, "\xE3\x80\x80") == 0) return *n = 3, true;
    return false;
  };
  size_t n = 0;
  while (space_at_front(&n)) s.remove_prefix(n);
  while (!s.empty()) {
    if (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r') s.remove_suffix(1);
    else if (s.size() >= 3 && s.compare(s.size() - 3, 3, "\xE3\x80\x80") == 0) s.remove_suffix(3);
    else break;
  }
  return std::string(s);
}

std::string strip_markdown(std::string_view s) {
  size_t h = 0;
  while (h < s.size() && s[h] == '#') ++h;
  if (h >= 1 && h <= 6 && h < s.size() && s[h] == ' ') s.remove_prefix(h + 1);
  return trim(s);
}

std::optional<int64_t> ordinal_ref(std::string_view ref) {
  if (ref.empty() || (ref[0] != '#' && ref.rfind("＃", 0) != 0)) return std::nullopt;
  ref.remove_prefix(ref[0] == '#' ? 1 : 3);
  if (ref.empty() || ref.size() > 9) return std::nullopt;
  int64_t v = 0;
  for (char c : ref) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

ChapterNumbering::ChapterNumbering(const std::vector<ChapterInfo>& chapters) {
  for (const auto& c : chapters) {
    Entry e;
    e.ordinal = c.ordinal;
    e.label = chapter_label(c);
    e.title = trim(c.title);
    e.heading = strip_markdown(c.heading);
    if (auto h = heading_label(c.heading)) {
      e.number = h->number;
      e.unit = h->unit;
    }
    numbered_ = numbered_ || e.number.has_value();
    entries_.push_back(std::move(e));
  }
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.ordinal < b.ordinal; });
}

Result<ChapterNumbering> ChapterNumbering::load(Database& db, int64_t book_id) {
  auto list = Chapters(db).list(book_id);
  if (!list.ok()) return Error{list.error()};
  return ChapterNumbering(*list);
}

const ChapterNumbering::Entry* ChapterNumbering::last_numbered() const {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->number) return &*it;
  return nullptr;
}

std::optional<int64_t> ChapterNumbering::number(int64_t ordinal) const {
  for (const auto& e : entries_)
    if (e.ordinal == ordinal) return e.number;
  if (ordinal > last_ordinal()) {
    if (const Entry* ln = last_numbered()) return *ln->number + (ordinal - last_ordinal());
    if (!numbered_) return ordinal;
  }
  return std::nullopt;
}

std::string ChapterNumbering::label(int64_t ordinal) const {
  for (const auto& e : entries_)
    if (e.ordinal == ordinal) return e.label;
  if (ordinal > last_ordinal() && !entries_.empty()) return heading_for_new(ordinal);
  if (ordinal == 0) return "卷首";
  return "第" + std::to_string(ordinal) + "章";
}

std::string ChapterNumbering::heading_for_new(int64_t ordinal) const {
  if (ordinal > last_ordinal()) {
    if (const Entry* ln = last_numbered()) return heading_for(*ln->number + (ordinal - last_ordinal()), ln->heading);
    return heading_for(ordinal, "");
  }
  // A gap inside the book: after the nearest numbered chapter before it.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->ordinal < ordinal && it->number) return heading_for(*it->number + (ordinal - it->ordinal), it->heading);
  return heading_for(ordinal, "");
}

std::string ChapterNumbering::range_text() const {
  if (entries_.empty()) return "no chapters";
  // Runs of consecutive numbers with one unit collapse to "first–last".
  std::vector<std::string> parts;
  for (size_t i = 0; i < entries_.size();) {
    size_t j = i + 1;
    if (entries_[i].number) {
      while (j < entries_.size() && entries_[j].number && *entries_[j].number == *entries_[j - 1].number + 1 &&
             entries_[j].unit == entries_[i].unit)
        ++j;
    }
    parts.push_back(j - i > 1 ? entries_[i].label + "–" + entries_[j - 1].label : entries_[i].label);
    i = j;
  }
  std::string out;
  if (parts.size() > 6) {
    out = parts[0] + "、" + parts[1] + "、" + parts[2] + " … " + parts[parts.size() - 2] + "、" + parts.back() + "（" +
          std::to_string(entries_.size()) + " chapters）";
  } else {
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? "、" : "") + parts[i];
  }
  return out + " (#" + std::to_string(entries_.front().ordinal) + "–#" + std::to_string(entries_.back().ordinal) + ")";
}

std::string ChapterNumbering::not_found(std::string_view ref) const {
  std::string rule = numbered_ ? "a bare number is the book's own chapter number"
                               : "a bare number counts chapters in reading order";
  return "no chapter «" + std::string(ref) + "»: this book has " + range_text() + "; " + rule +
         ", #N the position that `chapters` lists";
}

Result<int64_t> ChapterNumbering::by_number(int64_t n, std::string_view unit, std::string_view ref,
                                            int64_t max_new) const {
  if (!numbered_) {
    // Positions in reading order.
    for (const auto& e : entries_)
      if (e.ordinal == n) return n;
    if (n > last_ordinal() && n <= last_ordinal() + max_new) return n;
    return make_error(not_found(ref));
  }
  std::vector<const Entry*> hits;
  for (const auto& e : entries_)
    if (e.number && *e.number == n) hits.push_back(&e);
  if (hits.size() > 1 && !unit.empty()) {
    std::vector<const Entry*> same_unit;
    for (const Entry* e : hits)
      if (e->unit == unit) same_unit.push_back(e);
    if (!same_unit.empty()) hits = same_unit;
  }
  if (hits.size() == 1) return hits[0]->ordinal;
  if (hits.size() > 1) {
    std::string which;
    for (const Entry* e : hits) which += (which.empty() ? "" : ", ") + std::string("#") + std::to_string(e->ordinal);
    return make_error("«" + std::string(ref) + "» names several chapters (" + which + "); give one as #N");
  }
  if (const Entry* ln = last_numbered(); ln && max_new > 0 && n > *ln->number) {
    const int64_t ordinal = last_ordinal() + (n - *ln->number);
    // Only numbers after the last chapter: the chapters after the last numbered one (尾声) come first.
    if (ordinal > last_ordinal() && ordinal <= last_ordinal() + max_new) return ordinal;
  }
  return make_error(not_found(ref));
}

Result<int64_t> ChapterNumbering::resolve_impl(std::string_view raw, int64_t max_new) const {
  const std::string ref = trim(raw);
  if (ref.empty()) return make_error("empty chapter reference: give the book's number (22, 第二十二回), a label (楔子) or #N");
  if (auto o = ordinal_ref(ref)) {
    for (const auto& e : entries_)
      if (e.ordinal == *o) return *o;
    if (*o > last_ordinal() && *o <= last_ordinal() + max_new) return *o;
    return make_error(not_found(ref));
  }
  if (auto n = parse_numeral(ref)) return by_number(*n, "", ref, max_new);
  if (auto h = heading_label(ref); h && h->number && trim(h->label) == ref) return by_number(*h->number, h->unit, ref, max_new);
  for (const auto& e : entries_)
    if (e.label == ref) return e.ordinal;
  for (const auto& e : entries_)
    if (e.title == ref || e.heading == ref) return e.ordinal;
  // A full heading with a number (第二十二回 横海郡柴进留宾) whose title was renamed since.
  if (auto h = heading_label(ref); h && h->number) return by_number(*h->number, h->unit, ref, max_new);
  return make_error(not_found(ref));
}

Result<int64_t> ChapterNumbering::resolve(std::string_view ref) const { return resolve_impl(ref, 0); }

Result<int64_t> ChapterNumbering::resolve_new(std::string_view ref, int64_t max_new) const {
  return resolve_impl(ref, std::max<int64_t>(0, max_new));
}

Result<std::pair<int64_t, int64_t>> ChapterNumbering::resolve_range(std::string_view ref, bool allow_new) const {
  const int64_t max_new = allow_new ? 1000 : 0;
  // "A-B" when both ends name chapters; otherwise one chapter (a title may contain a dash or 至).
  std::string first_error;
  for (std::string_view sep : {"-", "–", "—", "~", "～", "至", "到"}) {
    const size_t at = ref.find(sep);
    if (at == std::string_view::npos || at == 0) continue;
    auto a = resolve_impl(ref.substr(0, at), max_new);
    auto b = a.ok() ? resolve_impl(ref.substr(at + sep.size()), max_new) : a;
    if (!a.ok() || !b.ok()) {
      if (first_error.empty()) first_error = a.ok() ? b.error() : a.error();
      continue;
    }
    return std::pair{*a, *b};  // B before A: an empty range
  }
  auto one = resolve_impl(ref, max_new);
  if (one.ok()) return std::pair{*one, *one};
  return make_error(first_error.empty() ? one.error() : first_error);
}

}  // namespace cj::storage
