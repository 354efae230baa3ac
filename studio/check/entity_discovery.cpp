#include "studio/check/entity_discovery.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "engine/base/segmenter.h"
#include "storage/entities.h"
#include "studio/check/char_fold.h"

namespace cj::check {

namespace {

// General knowledge, written in simplified characters (the text is folded to simplified before matching):
// the common single surnames (about 150) and the compound ones of the 百家姓.
const char32_t kSurnames[] =
    U"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    U"姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常"
    U"甄邢尤柳葛庞关诸颜鲁管荀貂华祝伍乔殷裴阮花燕穆牛蔺匡娄虞萧鲍蘧荆牧季景凤卜温苗祁宁危纪齐伏柴鞠樊";
const char32_t* const kCompoundSurnames[] = {
    U"诸葛", U"司马", U"欧阳", U"上官", U"夏侯", U"公孙", U"东方", U"皇甫", U"慕容", U"令狐", U"尉迟", U"太史",
    U"司徒", U"长孙", U"西门", U"南宫", U"司空", U"端木", U"独孤", U"宇文", U"轩辕", U"呼延", U"完颜", U"淳于",
    U"单于", U"钟离", U"百里", U"东郭", U"赫连", U"拓跋", U"申屠", U"澹台", U"公冶", U"宗政", U"濮阳", U"闻人"};
// What follows a name that speaks or acts: speech, reaction (after optional adverbs).
const char32_t* const kSpeech[] = {U"冷笑道", U"笑道", U"说道", U"问道", U"叹道", U"答道", U"喝道", U"骂道", U"哭道",
                                   U"叫道", U"道", U"曰", U"说", U"问", U"答", U"叹", U"笑", U"喝", U"骂", U"哭",
                                   U"大怒", U"大喜", U"大惊", U"听了", U"听说", U"见了", U"忙"};
const char32_t* const kAdverbs[] = {U"便", U"又", U"也", U"因", U"却", U"就", U"才", U"亦", U"遂", U"乃", U"即", U"正", U"只"};
// What introduces a name: 叫做X, 名唤X.
const char32_t* const kNaming[] = {U"叫做", U"叫作", U"唤做", U"唤作", U"名唤", U"名叫", U"名为", U"名字叫", U"乃是", U"姓"};
// What stands before a common noun or a role, hardly before a name: 那妇人, 这知府, 一个丫头.
const char32_t* const kDemonstratives[] = {U"那", U"这", U"此", U"该", U"每", U"一个", U"一位", U"几个", U"众", U"各"};

// Function characters that do not begin or end a name.
const char32_t kNotBegin[] = U"的了着是在和与向对把被又也便说道我你他她这那一不只见听因笑却就才众此其遂乃即亦皆都自之";
const char32_t kNotEnd[] = U"的了着们说道笑问叹哭喝骂答曰听见来去不是在我你他她这那也又便之而乃遂即亦皆都自与和等";

bool in(std::u32string_view set, char32_t c) { return set.find(c) != std::u32string_view::npos; }

bool starts_with(std::u32string_view t, size_t pos, std::u32string_view w) {
  return t.size() >= pos + w.size() && t.compare(pos, w.size(), w) == 0;
}
bool ends_with_at(std::u32string_view t, size_t end, std::u32string_view w) {  // t[end - |w|, end) == w
  return end >= w.size() && t.compare(end - w.size(), w.size(), w) == 0;
}

bool name_char(char32_t c) {
  return is_han(c) || (c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z') || (c >= U'0' && c <= U'9');
}

size_t speech_at(std::u32string_view t, size_t p) {
  for (int round = 0; round < 2; ++round) {
    bool adv = false;
    for (const char32_t* a : kAdverbs)
      if (starts_with(t, p, a)) {
        p += std::u32string_view(a).size();
        adv = true;
        break;
      }
    if (!adv) break;
  }
  for (const char32_t* s : kSpeech)
    if (starts_with(t, p, s)) return std::u32string_view(s).size();
  return 0;
}

constexpr size_t kMinLen = 2, kMaxLen = 5;

struct Stats {
  int64_t gen_speech = 0, gen_naming = 0, gen_surname = 0;  // how it was proposed
  int64_t count = 0, speech = 0, naming = 0, demo = 0, initial = 0, after_surname = 0, in_known = 0;
  std::unordered_map<char32_t, int64_t> left, right;
  int64_t first_chapter = -1, first_offset = 0;
  std::u32string original;  // as written at its first occurrence
  std::vector<std::string> examples;  // sentences where it speaks
  std::vector<std::string> fallback;  // its first sentences, for one that never speaks
};

uint64_t window_hash(std::u32string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char32_t c : s) h = (h ^ uint64_t(c)) * 1099511628211ull;
  return h ^ (uint64_t(s.size()) << 56);
}

}  // namespace

bool is_common_surname(std::u32string_view s) {
  if (s.size() == 1) return std::u32string_view(kSurnames).find(fold_char(s[0])) != std::u32string_view::npos;
  const std::u32string f = fold_text(s);
  for (const char32_t* c : kCompoundSurnames)
    if (f == c) return true;
  return false;
}

namespace {

size_t surname_len(std::u32string_view f) {  // f folded
  for (const char32_t* c : kCompoundSurnames)
    if (starts_with(f, 0, c)) return 2;
  if (!f.empty() && std::u32string_view(kSurnames).find(f[0]) != std::u32string_view::npos) return 1;
  return 0;
}

}  // namespace

std::vector<DiscoveredName> discover_names(const std::vector<CheckChapter>& chapters, const BookKnowledge& k,
                                           const DiscoveryOptions& opts) {
  static const bool debug = std::getenv("CJ_DISCOVERY_DEBUG") != nullptr;
  NameIndex known(k);
  std::vector<std::u32string> folded;
  folded.reserve(chapters.size());
  for (const auto& ch : chapters) folded.push_back(fold_text(ch.body));
  std::unordered_set<std::u32string> known_folded;
  for (const auto& e : k.entities)
    for (const auto& n : e.names) known_folded.insert(fold_text(n));

  std::unordered_map<char32_t, int64_t> char_count;
  for (const auto& t : folded)
    for (char32_t c : t) ++char_count[c];
  std::unordered_map<std::u32string, Stats> cands;
  auto all_name_chars = [](std::u32string_view s) {
    bool han = false;
    for (char32_t c : s) {
      if (!name_char(c)) return false;
      han = han || is_han(c);
    }
    return han;
  };

  // 1. Proposals: the characters before speech, after naming words, and surname + one or two characters.
  for (const auto& t : folded) {
    for (size_t p = 0; p < t.size(); ++p) {
      if (!name_char(t[p])) continue;
      if (p > 0 && name_char(t[p - 1]) && speech_at(t, p)) {
        for (size_t l = kMinLen; l <= 4 && l <= p; ++l) {
          std::u32string_view c(t.data() + p - l, l);
          if (all_name_chars(c)) ++cands[std::u32string(c)].gen_speech;
        }
      }
      for (const char32_t* n : kNaming)
        if (ends_with_at(t, p, n))
          for (size_t l = kMinLen; l <= 4 && p + l <= t.size(); ++l) {
            std::u32string_view c(t.data() + p, l);
            if (all_name_chars(c)) ++cands[std::u32string(c)].gen_naming;
          }
      if (const size_t sl = surname_len(std::u32string_view(t).substr(p, 2)); sl) {
        for (size_t g = 1; g <= 2 && p + sl + g <= t.size(); ++g) {
          std::u32string_view c(t.data() + p, sl + g);
          if (all_name_chars(c)) ++cands[std::u32string(c)].gen_surname;
        }
      }
    }
  }
  // Keep those proposed often enough to matter.
  for (auto it = cands.begin(); it != cands.end();) {
    const Stats& s = it->second;
    if (s.gen_speech + s.gen_naming < 2 && s.gen_surname < opts.min_count) it = cands.erase(it);
    else ++it;
  }

  // 2. Count every candidate with its contexts (one pass; windows hashed, checked on a hit).
  auto count_all = [&] {
    std::unordered_map<uint64_t, std::vector<std::pair<const std::u32string*, Stats*>>> by_hash;
    for (auto& [c, s] : cands) {
      Stats fresh;
      fresh.gen_speech = s.gen_speech;
      fresh.gen_naming = s.gen_naming;
      fresh.gen_surname = s.gen_surname;
      s = std::move(fresh);
      by_hash[window_hash(c)].push_back({&c, &s});
    }
    for (size_t ci = 0; ci < folded.size(); ++ci) {
      const std::u32string& t = folded[ci];
      // Where known names stand (a candidate mostly overlapping them is a piece of text around a known name).
      std::vector<uint8_t> known_at(t.size() + 1, 0);
      if (known.max_len() > 0)
        for (size_t p = 0; p < t.size();) {
          size_t len = 0;
          if (known.match(chapters[ci].body, p, &len)) {
            std::fill(known_at.begin() + long(p), known_at.begin() + long(p + len), 1);
            p += len;
          } else {
            ++p;
          }
        }
      for (size_t p = 0; p < t.size(); ++p) {
        if (!name_char(t[p])) continue;
        for (size_t l = kMinLen; l <= kMaxLen && p + l <= t.size(); ++l) {
          const std::u32string_view w(t.data() + p, l);
          auto it = by_hash.find(window_hash(w));
          if (it == by_hash.end()) continue;
          for (auto& [c, s] : it->second) {
            if (*c != w) continue;
            ++s->count;
            if (std::find(known_at.begin() + long(p), known_at.begin() + long(p + l), 1) != known_at.begin() + long(p + l))
              ++s->in_known;
            const char32_t before = p > 0 ? t[p - 1] : U'\n';
            const char32_t after = p + l < t.size() ? t[p + l] : U'\n';
            ++s->left[before];
            ++s->right[after];
            if (speech_at(t, p + l)) ++s->speech;
            if (!name_char(before)) ++s->initial;
            if (p > 0 && surname_len(std::u32string_view(t).substr(p - 1, 1)) == 1) ++s->after_surname;
            for (const char32_t* n : kNaming)
              if (ends_with_at(t, p, n)) ++s->naming;
            for (const char32_t* d : kDemonstratives)
              if (ends_with_at(t, p, d)) {
                ++s->demo;
                break;
              }
            // First seen in the story: the front matter (卷首: a preface or a table of contents, ordinal 0) counts
            // only for a name that no chapter has.
            if (s->first_chapter < 0 || (s->first_chapter == 0 && chapters[ci].ordinal > 0)) {
              s->first_chapter = chapters[ci].ordinal;
              s->first_offset = int64_t(p);
              s->original = chapters[ci].body.substr(p, l);
            }
            const bool speaks = speech_at(t, p + l) > 0;
            if (s->examples.size() < 2 && (speaks || s->fallback.size() < 2)) {
              auto [sb, se] = sentence_around(chapters[ci].body, p, p + l);
              // not the closing quote of the sentence before
              while (sb < p && std::u32string_view(U"”’」』\"'　 ").find(chapters[ci].body[sb]) != std::u32string_view::npos) ++sb;
              if (se - sb > 60) {
                sb = std::max(sb, p >= 25 ? p - 25 : 0);
                se = std::min(se, p + l + 25);
              }
              (speaks ? s->examples : s->fallback)
                  .push_back(to_utf8(std::u32string_view(chapters[ci].body).substr(sb, se - sb)));
            }
          }
        }
      }
    }
  };
  count_all();

  // 3. A string that (nearly) always stands inside one longer string is part of it: 门庆 of 西门庆, 林黛 of
  //    林黛玉. Extend it by the neighbour that accounts for 80 % of its occurrences, and count again.
  bool extended = false;
  std::vector<std::u32string> add;
  for (auto& [c, s] : cands) {
    if (s.count < opts.min_count || c.size() >= kMaxLen) continue;
    for (int side = 0; side < 2; ++side) {
      const auto& m = side == 0 ? s.left : s.right;
      for (const auto& [x, n] : m)
        if (is_han(x) && !in(side == 0 ? kNotBegin : kNotEnd, x) && double(n) >= 0.8 * double(s.count)) {
          std::u32string longer = side == 0 ? std::u32string(1, x) + c : c + std::u32string(1, x);
          if (!cands.count(longer)) add.push_back(longer);
          extended = true;
        }
    }
  }
  for (auto& a : add) cands[a].gen_speech += 0;  // make the longer string a candidate
  if (extended) count_all();

  Segmenter seg;
  auto is_word = [&](const std::u32string& f) {
    auto w = seg.words(to_utf8(f));
    return w.size() == 1;
  };
  std::vector<DiscoveredName> out;
  std::unordered_map<std::u32string, const Stats*> kept;
  for (const auto& [c, s] : cands) {
    if (s.count < opts.min_count) continue;
    kept.emplace(c, &s);
  }
  auto covered_by_longer = [&](const std::u32string& c, const Stats& s) {
    // part of a longer candidate that accounts for 80 % of it
    for (int side = 0; side < 2; ++side) {
      const auto& m = side == 0 ? s.left : s.right;
      for (const auto& [x, n] : m) {
        if (double(n) < 0.8 * double(s.count) || in(side == 0 ? kNotBegin : kNotEnd, x)) continue;
        std::u32string longer = side == 0 ? std::u32string(1, x) + c : c + std::u32string(1, x);
        if (kept.count(longer) || known_folded.count(longer)) return true;
      }
    }
    return false;
  };
  auto context_extended = [&](const std::u32string& c, const Stats& s) {
    // a shorter candidate with a non-surname character added, that the shorter one is far more often without
    // (说宝玉 beside 宝玉, 宝玉笑 beside 宝玉)
    for (int side = 0; side < 2; ++side) {
      const std::u32string shorter = side == 0 ? c.substr(1) : c.substr(0, c.size() - 1);
      if (shorter.size() < kMinLen) continue;
      auto it = kept.find(shorter);
      if (it == kept.end() || it->second->count < 2 * s.count) continue;
      // 林 + 黛玉: a full name, if written that way now and then (not 于 + 玄德, a preposition before the name)
      if (side == 0 && surname_len(c) > 0 && surname_len(c) < c.size() - 1 && s.count * 33 >= it->second->count)
        continue;
      return true;
    }
    return false;
  };
  for (const auto& [c, sp] : kept) {
    const Stats& s = *sp;
    if (known_folded.count(c) || s.in_known * 2 >= s.count) continue;  // 飞大 of 张飞大笑 with 张飞 known
    if (covered_by_longer(c, s) || context_extended(c, s)) continue;
    // Function characters do not begin or end a name (便说, 一面, 说着).
    if (in(kNotBegin, c.front()) || in(kNotEnd, c.back())) continue;
    const double n = double(s.count);
    // Clause starts among the occurrences that are not inside a longer candidate (黛玉 apart from 林黛玉).
    int64_t inside = 0;
    for (const auto& [x, m] : s.left)
      if (auto it = kept.find(std::u32string(1, x) + c); it != kept.end()) inside += m;
    const double free = double(std::max<int64_t>(1, s.count - inside));
    const double speech = double(s.speech) / n, demo = double(s.demo) / n;
    const double initial = std::min(1.0, double(s.initial) / free);
    const double after_surname = double(s.after_surname) / n;
    const bool surname = surname_len(c) > 0 && surname_len(c) < c.size();
    const bool word = is_word(c);
    // How much its characters (after a surname) belong to it: the smallest share of a character's uses that are
    // in this string (黛玉 0.2, 宝玉 0.6, 曹操 0.3; the common words 一面, 众人, 方才 below 0.1).
    double own = 1.0;
    if (!(surname && kept.count(c.substr(surname_len(c)))))  // 林 + 黛玉: the given name is a candidate itself
      for (size_t i = surname ? surname_len(c) : 0; i < c.size(); ++i)  // the given name's characters
        own = std::min(own, n / double(std::max<int64_t>(1, char_count[c[i]])));
    // 姓+名 (a surname and one or two characters) is a name when it starts clauses or speaks now and then; a
    // dictionary word among them (马上, 方才 beside 曹操, 刘备) must own its characters. Any other string must
    // speak and start clauses as names do, be at most three characters, and own its characters if ICU knows it
    // as a word (宝玉 does, 一面 and 众人 do not).
    const bool owns = !word || own >= 0.15;
    const bool name_like = owns && (surname ? (initial >= 0.25 || speech >= 0.05)
                                            : (c.size() <= 3 && speech >= 0.15 && initial >= 0.45));
    // A role or title: a dictionary word that speaks, written after surnames (王夫人, 刘太公) or after 那/这
    // (那妇人) rather than starting clauses.
    const bool role = !name_like && word && !surname && speech >= 0.05 && (after_surname >= 0.3 || demo >= 0.1);
    if (debug)
      std::fprintf(stderr, "[disc] %s n=%lld gen=%lld/%lld/%lld speech=%.2f naming=%lld demo=%.3f init=%.2f aftersur=%.2f own=%.2f sur=%d word=%d -> %s\n",
                   to_utf8(s.original).c_str(), (long long)s.count, (long long)s.gen_speech, (long long)s.gen_naming,
                   (long long)s.gen_surname, speech, (long long)s.naming, demo, initial, after_surname, own, int(surname),
                   int(word), name_like ? "NAME" : role ? "ROLE" : "-");
    if (!name_like && !role) continue;
    DiscoveredName d;
    d.name = to_utf8(s.original);
    d.count = s.count;
    d.speech_count = s.speech;
    d.first_chapter = s.first_chapter;
    d.first_offset = s.first_offset;
    d.source = s.gen_naming ? "naming" : s.gen_speech ? "speech" : "surname";
    d.role = role;
    d.examples = s.examples;
    for (size_t i = 0; d.examples.size() < 2 && i < s.fallback.size(); ++i) d.examples.push_back(s.fallback[i]);
    out.push_back(std::move(d));
  }
  // Alias hints: a two-character name that ends a three-character 姓+名 name (黛玉 → 林黛玉) or a known name.
  for (auto& d : out) {
    const std::u32string u = fold_text(to_u32(d.name));
    if (u.size() != 2 || d.role) continue;
    int64_t best = 0;
    for (const auto& o : out) {
      const std::u32string ou = fold_text(to_u32(o.name));
      if (ou.size() == 3 && ou.compare(1, 2, u) == 0 && surname_len(ou) == 1 && o.count > best) {
        d.alias_of = o.name;
        best = o.count;
      }
    }
    if (d.alias_of.empty())
      for (const auto& e : k.entities)
        for (const auto& nm : e.names)
          if (nm.size() == 3 && fold_text(nm).compare(1, 2, u) == 0) d.alias_of = to_utf8(e.name);
  }
  std::sort(out.begin(), out.end(), [](const DiscoveredName& a, const DiscoveredName& b) {
    return a.count != b.count ? a.count > b.count : a.name < b.name;
  });
  if (out.size() > opts.limit) out.resize(opts.limit);
  return out;
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

Result<std::vector<DiscoveredName>> discover_in_book(storage::Database& db, int64_t book, const DiscoveryOptions& opts,
                                                     bool roles, BookKnowledge* k) {
  auto ents = storage::Entities(db).list(book);
  if (!ents.ok()) return Error{ents.error()};
  *k = make_knowledge(*ents, {});
  auto chapters = load_check_chapters(db, book, &k->labels);
  if (!chapters.ok()) return Error{chapters.error()};
  auto found = discover_names(*chapters, *k, opts);
  if (!roles) found.erase(std::remove_if(found.begin(), found.end(), [](const DiscoveredName& d) { return d.role; }),
                          found.end());
  return found;
}

}  // namespace cj::check
