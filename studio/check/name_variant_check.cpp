#include "studio/check/name_variant_check.h"

#include <algorithm>
#include <map>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unordered_set>

#include "engine/base/segmenter.h"
#include "storage/text_decoder.h"
#include "studio/check/confusables.h"
#include "studio/check/entity_discovery.h"

namespace cj::check {

namespace {

constexpr uint64_t kBase = 0x100000001B3ull;  // odd multiplier of the polynomial hash (mod 2^64)

uint64_t mix(uint64_t h, size_t len) { return (h ^ (uint64_t(len) * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull; }

uint64_t hash_of(std::u32string_view s) {
  uint64_t h = 0;
  for (char32_t c : s) h = h * kBase + uint64_t(c);
  return h;
}

bool all_han(std::u32string_view s) {
  for (char32_t c : s)
    if (!is_han(c)) return false;
  return !s.empty();
}

// ICU's dictionary words of `text` as code point spans [begin, end).
struct Span {
  size_t begin, end;
};
std::vector<Span> word_spans(const Segmenter& seg, std::u32string_view text) {
  const std::string u8 = to_utf8(text);
  std::vector<size_t> cp_at(u8.size() + 1, 0);  // byte offset -> code point index
  size_t cp = 0;
  for (size_t i = 0; i < u8.size(); ++i) {
    cp_at[i] = cp;
    if ((static_cast<unsigned char>(u8[i]) & 0xC0) != 0x80) ++cp;
  }
  cp_at[u8.size()] = cp;
  std::vector<Span> out;
  for (const Segment& s : seg.segment(u8))
    if (s.kind == Segment::kWord) out.push_back({cp_at[s.begin], cp_at[s.end]});
  return out;
}

}  // namespace

NameVariantCheck::NameVariantCheck(const BookKnowledge& k, const NameIndex& names) : k_(k), index_(names) {
  std::unordered_set<std::u32string> seen;
  for (const auto& e : k.entities)
    for (const auto& n : e.names) {
      if (n.size() < kMinNameLen || n.size() > kMaxNameLen || !all_han(n) || !seen.insert(n).second) continue;
      if (index_.find(n) != &e) continue;  // the name belongs to an entity listed before
      const size_t id = names_.size();
      names_.push_back(n);
      owners_.push_back(&e);
      const uint64_t h = hash_of(n);
      uint64_t pw = 1;
      for (size_t i = n.size(); i-- > 0;) {  // blank position i: remove its term from the hash
        wildcard_[mix(h - uint64_t(n[i]) * pw, n.size())].push_back(Key{&e, id, i});
        pw *= kBase;
      }
      if (std::find(lengths_.begin(), lengths_.end(), n.size()) == lengths_.end()) lengths_.push_back(n.size());
    }
  std::sort(lengths_.rbegin(), lengths_.rend());
}

void NameVariantCheck::prepare(const std::vector<CheckChapter>& all) {
  variants_.clear();
  findings_.clear();
  if (names_.empty()) return;
  // The book's other characters, as discovery proposes them: a variant that is one of them is a different
  // person, and an occurrence inside one of their names is part of that name.
  BookKnowledge discovered_k;
  for (const auto& d : discover_names(all, k_)) {
    if (d.role) continue;  // 夫人 is no other person: 于夫人 may still be 王夫人 miswritten
    const int64_t id = int64_t(discovered_k.entities.size()) + 1;
    discovered_k.entities.push_back(KnownEntity{id, "character", to_u32(d.name), {to_u32(d.name)}});
  }
  const NameIndex discovered(discovered_k);

  std::unordered_map<std::u32string, size_t> name_id;
  for (size_t i = 0; i < names_.size(); ++i) name_id.emplace(names_[i], i);
  std::vector<int64_t> name_count(names_.size(), 0);
  std::vector<std::unordered_map<char32_t, int64_t>> left(names_.size()), right(names_.size());
  std::vector<std::vector<int64_t>> slot(names_.size());  // [name][pos]: windows equal to the name but at pos
  for (size_t i = 0; i < names_.size(); ++i) slot[i].assign(names_[i].size(), 0);
  std::unordered_map<char32_t, int64_t> freq;  // characters of the book
  std::map<std::pair<int64_t, const KnownEntity*>, std::vector<int64_t>> near_names;  // (chapter, entity) -> starts
  int64_t total = 0;                           // all characters of the book

  struct Cand {
    size_t name = 0, pos = 0;
    uint8_t rules = 0;
    std::vector<VariantOccurrence> occ;
  };
  std::unordered_map<std::u32string, Cand> cands;
  std::unordered_map<uint64_t, uint8_t> rule_cache;  // (name char, written char) -> Confusion bits
  auto rules_of = [&](char32_t right_char, char32_t written) {
    const uint64_t key = (uint64_t(right_char) << 32) | uint64_t(written);
    auto it = rule_cache.find(key);
    if (it != rule_cache.end()) return it->second;
    const uint8_t r = confusion(right_char, written);
    rule_cache.emplace(key, r);
    return r;
  };
  std::unordered_map<int64_t, const CheckChapter*> by_ordinal;

  std::vector<uint64_t> pw(kMaxNameLen + 1, 1);
  for (size_t i = 1; i < pw.size(); ++i) pw[i] = pw[i - 1] * kBase;
  for (const auto& ch : all) {
    by_ordinal[ch.ordinal] = &ch;
    const std::u32string& t = ch.body;
    const size_t n = t.size();
    // Correctly written known names: their spans are not variants; count them and their neighbours.
    std::vector<uint8_t> covered(n, 0);
    for (size_t p = 0; p < n;) {
      size_t len = 0;
      if (!is_han(t[p]) || !index_.match(t, p, &len)) {
        ++p;
        continue;
      }
      std::fill(covered.begin() + long(p), covered.begin() + long(p + len), 1);
      if (auto it = name_id.find(std::u32string(t.substr(p, len))); it != name_id.end()) {
        ++name_count[it->second];
        near_names[{ch.ordinal, owners_[it->second]}].push_back(int64_t(p));
        if (p > 0) ++left[it->second][t[p - 1]];
        if (p + len < n) ++right[it->second][t[p + len]];
      }
      p += len;
    }
    // run[p]: Han characters outside known names from p on (a variant window must fit in one run).
    std::vector<uint32_t> run(n + 1, 0);
    for (size_t p = n; p-- > 0;) run[p] = (is_han(t[p]) && !covered[p]) ? run[p + 1] + 1 : 0;
    std::vector<uint64_t> pre(n + 1, 0);  // prefix hashes
    for (size_t p = 0; p < n; ++p) pre[p + 1] = pre[p] * kBase + uint64_t(t[p]);
    size_t claimed_end = 0;  // a shorter variant inside a longer one already found is the same slip
    for (size_t p = 0; p < n; ++p) {
      ++freq[t[p]];
      ++total;
      if (run[p] < kMinNameLen) continue;
      bool found = false;
      for (size_t L : lengths_) {
        if (run[p] < L) continue;
        const uint64_t h = pre[p + L] - pre[p] * pw[L];
        for (size_t i = 0; i < L; ++i) {
          auto it = wildcard_.find(mix(h - uint64_t(t[p + i]) * pw[L - 1 - i], L));
          if (it == wildcard_.end()) continue;
          for (const Key& key : it->second) {
            const std::u32string& nm = names_[key.name];
            if (key.pos != i || nm.size() != L || t[p + i] == nm[i]) continue;
            if (t.compare(p, i, nm, 0, i) != 0 || t.compare(p + i + 1, L - i - 1, nm, i + 1, L - i - 1) != 0) continue;
            ++slot[key.name][i];  // the name's other characters with anything at i
            if (found || p + L <= claimed_end) continue;
            const uint8_t r = rules_of(nm[i], t[p + i]);
            if (r == kConfNone) continue;
            auto& c = cands[std::u32string(t.substr(p, L))];
            if (c.occ.empty() || name_count[key.name] > name_count[c.name]) {
              c.name = key.name;
              c.pos = i;
              c.rules = r;
            }
            c.occ.push_back({ch.ordinal, int64_t(p)});
            claimed_end = p + L;
            found = true;
          }
        }
      }
    }
  }

  // The rules that need the whole book.
  static const bool debug = std::getenv("CJ_VARIANT_DEBUG") != nullptr;
  Segmenter seg;
  std::vector<std::pair<std::u32string, Cand*>> order;
  for (auto& [v, c] : cands) order.push_back({v, &c});
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    const auto& x = a.second->occ.front();
    const auto& y = b.second->occ.front();
    return x.chapter != y.chapter ? x.chapter < y.chapter : x.start != y.start ? x.start < y.start : a.first < b.first;
  });
  for (auto& [v, cp] : order) {
    Cand& c = *cp;
    const int64_t count = int64_t(c.occ.size());
    const int64_t ncount = name_count[c.name];
    // Rare where the name is frequent: against all the entity's names (林黛王 beside 林黛玉 and 黛玉).
    int64_t ecount = 0;
    for (size_t i = 0; i < names_.size(); ++i)
      if (owners_[i] == owners_[c.name]) ecount += name_count[i];
    if (count > kMaxVariantUses || count * kNameToVariant > ecount) continue;
    const std::u32string& nm = names_[c.name];
    // How well the text around an occurrence fits the name: the larger of P(x next to the name) / P(x) for the
    // character just before and just after (1 = no better than chance).
    auto lift = [&](const std::unordered_map<char32_t, int64_t>& m, char32_t x, int64_t min_count = 1) {
      auto it = m.find(x);
      if (it == m.end() || ncount == 0 || it->second < min_count) return 0.0;
      auto f = freq.find(x);
      const double px = double(f == freq.end() ? 1 : std::max<int64_t>(1, f->second)) / double(std::max<int64_t>(1, total));
      return double(it->second) / double(ncount) / px;
    };
    // How specific the unchanged characters are to the name: the name's share of all windows that have them.
    const double specific = double(ncount) / double(ncount + slot[c.name][c.pos]);
    const bool word = [&, &v = v] {  // captured by name: clang 14 cannot capture a structured binding
      auto spans = word_spans(seg, v);
      return spans.size() == 1 && spans[0].begin == 0 && spans[0].end == v.size();
    }();
    // A character of its own (discovery proposes it) is a different person (宋清 beside 宋江); an occurrence
    // that overlaps a discovered name is part of that name (召|云长 is not 赵云 miswritten).
    if (discovered.is_known(v)) continue;
    std::vector<VariantOccurrence> kept;
    for (const auto& o : c.occ) {
      const std::u32string& t = by_ordinal[o.chapter]->body;
      const size_t s = size_t(o.start), e = s + v.size();
      const size_t wb = s >= 8 ? s - 8 : 0, we = std::min(t.size(), e + 8);
      const double ll = s > 0 ? lift(left[c.name], t[s - 1]) : 1.0, lr = e < t.size() ? lift(right[c.name], t[e]) : 1.0;
      bool cross_l = false, cross_r = false;
      for (const Span& w : word_spans(seg, std::u32string_view(t).substr(wb, we - wb))) {
        const size_t b = w.begin + wb, f = w.end + wb;
        if (f - b < 2) continue;
        if (b < s && f > s) cross_l = true;
        if (b < e && f > e) cross_r = true;
      }
      // The odds that a window with the name's other characters is the name, times how well the neighbours fit
      // it (no evidence counts as half: a name in an unusual place), times how present the character is around
      // it (its names within 1,500 characters, 4 counting as even: a slip of the pen happens where the story is
      // about that character), must reach 1.
      int64_t nearby = 0;
      if (auto it = near_names.find({o.chapter, owners_[c.name]}); it != near_names.end())
        for (int64_t q : it->second) nearby += (q > o.start - 1500 && q < o.start + 1500) ? 1 : 0;
      // A changed first (last) character that the book often writes just before (after) the name is that word
      // next to a short form of the name (见|维 where the book calls 姜维 维), not the name miswritten.
      const double edge = c.pos == 0               ? lift(left[c.name], v[0], 3)
                          : c.pos + 1 == v.size() ? lift(right[c.name], v.back(), 3)
                                                  : 0.0;
      const bool ok = !(cross_l && ll < 1.0) && !(cross_r && lr < 1.0) && edge < 2.0 &&
                      (!word || std::max(ll, lr) >= 5.0) &&
                      specific / std::max(1e-9, 1.0 - specific) * std::max({0.5, ll, lr}) *
                              std::clamp(double(nearby) / 4.0, 0.25, 4.0) >= 1.0;
      bool inside_other = false;
      for (size_t q = s >= discovered.max_len() ? s - discovered.max_len() + 1 : 0; q < e && !inside_other; ++q) {
        size_t len = 0;
        if (discovered.match(t, q, &len) && q + len > s) inside_other = true;
      }
      if (debug)
        std::fprintf(stderr, "[nv] %s~%s n=%lld v=%lld rules=%d word=%d spec=%.3f ll=%.2f lr=%.2f edge=%.2f xl=%d xr=%d other=%d near=%lld ok=%d %s\n",
                     to_utf8(v).c_str(), to_utf8(nm).c_str(), (long long)ncount, (long long)count, int(c.rules),
                     int(word), specific, ll, lr, edge, int(cross_l), int(cross_r), int(inside_other), (long long)nearby, int(ok),
                     to_utf8(std::u32string_view(t).substr(wb, we - wb)).c_str());
      if (ok && !inside_other) kept.push_back(o);
    }
    if (kept.empty()) continue;
    NameVariant nv;
    nv.text = v;
    nv.entity = owners_[c.name];
    nv.name = nm;
    nv.pos = c.pos;
    nv.rules = c.rules;
    nv.name_count = ncount;
    nv.occurrences = std::move(kept);

    CheckFinding f;
    const VariantOccurrence& first = nv.occurrences.front();
    f.chapter = first.chapter;
    f.start = first.start;
    f.end = first.start + int64_t(v.size());
    f.kind = kKindName;
    f.subject = to_utf8(v);
    const std::string wrong = to_utf8(std::u32string(1, v[c.pos])), right_ch = to_utf8(std::u32string(1, nm[c.pos]));
    std::string places;
    for (size_t i = 0; i < nv.occurrences.size(); ++i) {
      const std::string l = k_.label(nv.occurrences[i].chapter);
      if (i == 0 || nv.occurrences[i - 1].chapter != nv.occurrences[i].chapter) places += (places.empty() ? "" : "、") + l;
    }
    f.message = "「" + f.subject + "」疑为「" + to_utf8(nm) + "」的误写（" + confusion_label(c.rules) + "：“" + wrong +
                "”与“" + right_ch + "”）；全书 " + std::to_string(nv.occurrences.size()) + " 处（" + places + "），「" +
                to_utf8(nm) + "」" + std::to_string(ncount) + " 处";
    std::string ev;
    for (const auto& o : nv.occurrences) {
      const std::u32string& t = by_ordinal[o.chapter]->body;
      auto [sb, se] = sentence_around(t, size_t(o.start), size_t(o.start) + v.size());
      if (se - sb > 60) {  // a long sentence: 25 characters either side
        sb = std::max<size_t>(sb, size_t(o.start) >= 25 ? size_t(o.start) - 25 : 0);
        se = std::min(se, size_t(o.start) + v.size() + 25);
      }
      ev += (ev.empty() ? "" : " ｜ ") + k_.label(o.chapter) + "：" + to_utf8(std::u32string_view(t).substr(sb, se - sb));
    }
    f.evidence = ev + " ｜ 已知名称：" + to_utf8(nm) + (nv.entity && nv.entity->name != nm ? "（" + to_utf8(nv.entity->name) + "）" : "");
    variants_.push_back(std::move(nv));
    findings_.push_back(std::move(f));
  }
}

void NameVariantCheck::run(const CheckChapter& ch, std::vector<CheckFinding>* out) const {
  for (const auto& f : findings_)
    if (f.chapter == ch.ordinal) out->push_back(f);
}

std::string NameVariantCheck::digest(int64_t chapter) const {
  std::string s;
  for (const auto& f : findings_)
    if (f.chapter == chapter) s += f.subject + "\x1f" + f.message + "\x1f" + f.evidence + "\x1e";
  return s.empty() ? std::string() : storage::content_hash(s);
}

std::string NameVariantCheck::note() const { return shape_rule_note(); }

}  // namespace cj::check
