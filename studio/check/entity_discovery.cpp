#include "studio/check/entity_discovery.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "engine/base/segmenter.h"
#include "studio/check/after_death_check.h"

namespace cj::check {

namespace {

// The most common single-character surnames (about 130) and compound surnames.
const char32_t kSurnames[] =
    U"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    U"姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常"
    U"甄邢尤薛柳葛庞关诸颜鲁管蔡荀貂华祝伍乔殷裴";
const char32_t* const kCompoundSurnames[] = {U"诸葛", U"司马", U"欧阳", U"上官", U"夏侯", U"公孙", U"东方",
                                             U"皇甫", U"慕容", U"令狐", U"尉迟", U"太史", U"司徒", U"长孙"};
const char32_t* const kSpeech[] = {U"冷笑道", U"笑道", U"说道", U"问道", U"叹道", U"忙道", U"答道", U"喝道",
                                   U"骂道", U"哭道", U"道：", U"曰：", U"说：", U"问：", U"道:", U"曰"};
const char32_t* const kHonorifics[] = {U"老太太", U"夫人", U"姑娘", U"奶奶", U"太太", U"老爷", U"公子", U"将军",
                                       U"丞相", U"先生", U"大人", U"娘娘", U"嬷嬷", U"太君", U"太守", U"大爷"};
// Characters that do not end (or begin) a name.
const char32_t kNotEnd[] = U"笑忙又也便因说问叹哭喝骂冷答曰道的了着来去不是在我你他她这那们之而乃遂即亦皆都自与和听等回见看头";
const char32_t kNotBegin[] = U"的了着是在和与向对把被又也便说道我你他她这那一不只见听因笑却就才众二三两此其却遂乃即亦皆都自之人点姐";

// Endings of verbs and common words that stand before speech (有诗, 回报, 传令, 诸将).
const char32_t kNotEndWord[] = U"喜怒惊叫诗付报地将令罢毕完";

bool in(std::u32string_view set, char32_t c) { return set.find(c) != std::u32string_view::npos; }

bool starts_with(std::u32string_view t, size_t pos, std::u32string_view w) {
  return t.size() >= pos + w.size() && t.compare(pos, w.size(), w) == 0;
}

struct Cand {
  int64_t speech = 0;
  int64_t count = 0;
  std::string source;
};

}  // namespace

bool is_common_surname(std::u32string_view s) {
  if (s.size() == 1) return in(kSurnames, s[0]);
  for (const char32_t* c : kCompoundSurnames)
    if (s == c) return true;
  return false;
}

std::vector<DiscoveredName> discover_names(const std::vector<CheckChapter>& chapters, const BookKnowledge& k,
                                           const DiscoveryOptions& opts) {
  NameIndex known(k);
  std::unordered_map<std::u32string, Cand> cands;
  auto all_han = [](std::u32string_view s) {
    for (char32_t c : s)
      if (!is_han(c)) return false;
    return !s.empty();
  };
  auto plausible = [&](std::u32string_view s) {
    return all_han(s) && !in(kNotEnd, s.back()) && !in(kNotBegin, s.front()) && !in(kNotEndWord, s.back()) &&
           !(s.size() == 2 && s[0] == U'大');  // 大喜, 大怒, 大叫
  };
  // Pass 1: speech contexts, surname shapes and honorifics propose candidates.
  for (const auto& ch : chapters) {
    const std::u32string& t = ch.body;
    for (size_t p = 0; p < t.size(); ++p) {
      if (!is_han(t[p])) continue;
      for (const char32_t* sp : kSpeech) {
        if (!starts_with(t, p, sp)) continue;
        for (size_t l = 2; l <= 3 && l <= p; ++l) {
          std::u32string_view c(t.data() + p - l, l);
          if (!plausible(c)) continue;
          auto& e = cands[std::u32string(c)];
          ++e.speech;
          if (e.source.empty()) e.source = "speech";
        }
        break;
      }
      bool sur = in(kSurnames, t[p]);
      size_t slen = sur ? 1 : 0;
      for (const char32_t* cs : kCompoundSurnames)
        if (starts_with(t, p, cs)) slen = 2;
      if (slen) {
        for (size_t g = 1; g <= 2; ++g) {
          if (p + slen + g > t.size()) break;
          std::u32string_view c(t.data() + p, slen + g);
          if (!plausible(c)) break;
          auto& e = cands[std::u32string(c)];
          if (e.source.empty()) e.source = "surname";
        }
      }
      for (const char32_t* h : kHonorifics) {
        if (p == 0 || !starts_with(t, p, h)) continue;
        std::u32string c = std::u32string(1, t[p - 1]) + h;
        if (!is_han(t[p - 1]) || in(kNotBegin, t[p - 1])) continue;
        auto& e = cands[c];
        if (e.source.empty() || e.source == "surname") e.source = "honorific";
      }
    }
  }
  // Pass 2: count every candidate and its speech/action uses.
  size_t maxl = 0;
  for (const auto& [c, e] : cands) maxl = std::max(maxl, c.size());
  std::u32string key;
  for (const auto& ch : chapters) {
    const std::u32string& t = ch.body;
    for (size_t p = 0; p < t.size(); ++p) {
      if (!is_han(t[p])) continue;
      for (size_t l = 2; l <= maxl && p + l <= t.size(); ++l) {
        key.assign(t, p, l);
        auto it = cands.find(key);
        if (it == cands.end()) continue;
        ++it->second.count;
        if (it->second.source != "speech" && AfterDeathCheck::action_at(t, p + l, nullptr)) ++it->second.speech;
      }
    }
  }
  Segmenter seg;
  std::vector<DiscoveredName> out;
  for (const auto& [c, e] : cands) {
    if (e.count < opts.min_count || known.is_known(c)) continue;
    const double ratio = double(e.speech) / double(e.count);
    if (e.source == "honorific") {
      if (e.count < opts.min_count) continue;
    } else if (e.speech < 2 || ratio < 0.15) {
      continue;
    }
    if (e.source == "speech" && !is_common_surname(c.substr(0, 1)) && e.speech < 3) continue;
    if (c.size() == 2 && e.source != "honorific") {
      auto words = seg.words(to_utf8(c));
      if (words.size() == 1 && ratio < 0.1) continue;  // a dictionary word, rarely before a verb
    }
    DiscoveredName d;
    d.name = to_utf8(c);
    d.count = e.count;
    d.speech_count = e.speech;
    d.source = e.source;
    out.push_back(std::move(d));
  }
  // Prefixes that are (almost) always part of a longer candidate: 林黛 of 林黛玉.
  std::unordered_map<std::string, int64_t> count_of;
  for (const auto& d : out) count_of[d.name] = d.count;
  std::vector<DiscoveredName> kept;
  for (auto& d : out) {
    std::u32string u = to_u32(d.name);
    bool covered = false;
    for (const auto& o : out) {
      if (o.name.size() <= d.name.size()) continue;
      std::u32string ou = to_u32(o.name);
      if ((ou.compare(0, u.size(), u) == 0 || ou.compare(ou.size() - u.size(), u.size(), u) == 0) &&
          double(o.count) >= 0.8 * double(d.count)) {
        covered = true;
        break;
      }
    }
    if (!covered) kept.push_back(std::move(d));
  }
  // Alias suggestions: a 2-character candidate that ends a longer candidate or known name (黛玉 → 林黛玉).
  for (auto& d : kept) {
    std::u32string u = to_u32(d.name);
    if (u.size() != 2) continue;
    int64_t best = 0;
    for (const auto& o : kept) {
      std::u32string ou = to_u32(o.name);
      if (ou.size() == 3 && ou.compare(1, 2, u) == 0 && is_common_surname(ou.substr(0, 1)) && o.count > best) {
        d.alias_of = o.name;
        best = o.count;
      }
    }
    if (d.alias_of.empty())
      for (const auto& e : k.entities)
        for (const auto& n : e.names)
          if (n.size() == 3 && n.compare(1, 2, u) == 0) d.alias_of = to_utf8(e.name);
  }
  std::sort(kept.begin(), kept.end(), [](const DiscoveredName& a, const DiscoveredName& b) {
    return a.count != b.count ? a.count > b.count : a.name < b.name;
  });
  if (kept.size() > opts.limit) kept.resize(opts.limit);
  // First appearance.
  for (auto& d : kept) {
    std::u32string u = to_u32(d.name);
    for (const auto& ch : chapters) {
      size_t at = ch.body.find(u);
      if (at != std::u32string::npos) {
        d.first_chapter = ch.ordinal;
        d.first_offset = int64_t(at);
        break;
      }
    }
  }
  return kept;
}

std::string discovered_line(const DiscoveredName& d, const BookKnowledge& k) {
  std::string s = d.name + "  " + std::to_string(d.count) + " 次  首见" + k.label(d.first_chapter);
  if (d.role) s += "  （称谓）";
  if (!d.alias_of.empty()) s += "  可能是别名：" + d.alias_of;
  for (const auto& e : d.examples) s += "\n      例：" + e;
  return s;
}

nlohmann::json discovered_json(const DiscoveredName& d, const BookKnowledge& k) {
  nlohmann::json o = {{"name", d.name},
                      {"kind", d.kind},
                      {"role", d.role},
                      {"count", d.count},
                      {"speech_count", d.speech_count},
                      {"first_chapter", d.first_chapter},
                      {"first_label", k.label(d.first_chapter)},
                      {"first_offset", d.first_offset},
                      {"source", d.source},
                      {"examples", d.examples}};
  if (!d.alias_of.empty()) o["alias_of"] = d.alias_of;
  return o;
}

}  // namespace cj::check
