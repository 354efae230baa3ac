#include "studio/check/name_variant_check.h"

#include <algorithm>

#include "studio/check/after_death_check.h"
#include "studio/check/confusables.h"

namespace cj::check {

NameVariantCheck::NameVariantCheck(const BookKnowledge& k, const NameIndex& names) : names_(names) {
  for (const auto& e : k.entities) {
    for (const auto& n : e.names) {
      if (n.size() < 2 || n.size() > 8) continue;
      for (size_t i = 0; i < n.size(); ++i) {
        for (char32_t c : confusables_of(n[i])) {
          std::u32string v = n;
          v[i] = c;
          if (names.is_known(v)) continue;  // a real, different name (or an alias)
          variants_.emplace(v, Variant{&e, n, i});
          first_.insert(v[0]);
          max_len_ = std::max(max_len_, v.size());
        }
      }
    }
  }
}

size_t NameVariantCheck::variant_at(std::u32string_view t, size_t pos, const Variant** v) const {
  if (!first_.count(t[pos])) return 0;
  size_t maxl = std::min(max_len_, t.size() - pos);
  std::u32string key;
  for (size_t l = maxl; l >= 2; --l) {
    key.assign(t.substr(pos, l));
    auto it = variants_.find(key);
    if (it == variants_.end()) continue;
    *v = &it->second;
    return l;
  }
  return 0;
}

void NameVariantCheck::count_book(const std::vector<CheckChapter>& all) {
  uses_.clear();
  for (const auto& ch : all) {
    const std::u32string& t = ch.body;
    for (size_t pos = 0; pos < t.size();) {
      size_t klen = 0;
      if (!is_han(t[pos])) { ++pos; continue; }
      if (names_.match(t, pos, &klen)) { pos += klen; continue; }
      const Variant* v = nullptr;
      if (size_t l = variant_at(t, pos, &v)) {
        ++uses_[std::u32string(t.substr(pos, l))];
        pos += l;
      } else {
        ++pos;
      }
    }
  }
}

void NameVariantCheck::run(const CheckChapter& ch, std::vector<CheckFinding>* out) const {
  const std::u32string& t = ch.body;
  for (size_t pos = 0; pos < t.size();) {
    if (!is_han(t[pos])) {
      ++pos;
      continue;
    }
    size_t klen = 0;
    if (names_.match(t, pos, &klen)) {  // a correctly written known name
      pos += klen;
      continue;
    }
    const Variant* vp = nullptr;
    size_t l = variant_at(t, pos, &vp);
    if (!l) {
      ++pos;
      continue;
    }
    std::u32string key(t.substr(pos, l));
    if (auto u = uses_.find(key); u != uses_.end() && u->second > kMaxVariantUses) {
      pos += l;
      continue;
    }
    const Variant& v = *vp;
    // Two characters are too often an ordinary word (恐明公, 后王业): a 2-character variant counts only where
    // a name would stand, before a verb of speech or action (刘倍道, 关习引兵).
    if (l == 2 && AfterDeathCheck::action_at(t, pos + l, nullptr) == 0) {
      ++pos;
      continue;
    }
    CheckFinding f;
    f.chapter = ch.ordinal;
    f.start = int64_t(pos);
    f.end = int64_t(pos + l);
    f.kind = kKindName;
    f.subject = to_utf8(key);
    std::u32string wrong(1, key[v.pos]), right(1, v.name[v.pos]);
    f.message = "「" + to_utf8(key) + "」疑为「" + to_utf8(v.name) + "」的误写（“" + to_utf8(wrong) + "”与“" +
                to_utf8(right) + "”形近或音近），且不是「" + to_utf8(v.entity->name) + "」的已知别名";
    auto [sb, se] = sentence_around(t, pos, pos + l);
    f.evidence = to_utf8(std::u32string_view(t).substr(sb, se - sb)) + " ｜ 已知名称：" + to_utf8(v.name);
    out->push_back(std::move(f));
    pos += l;
  }
}

}  // namespace cj::check
