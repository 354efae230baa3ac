#include "studio/check/variant_eval.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "engine/base/file.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/importer.h"
#include "studio/check/confusables.h"
#include "studio/check/glyph_shape.h"
#include "studio/check/name_variant_check.h"
#include "studio/check/pinyin.h"

namespace cj::check {

Result<EvalBook> load_eval_book(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return Error{bytes.error()};
  auto db = storage::Database::open(":memory:");
  if (!db.ok()) return Error{db.error()};
  const std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  auto imp = storage::import_bytes(**db, *bytes, name);
  if (!imp.ok()) return Error{imp.error()};
  EvalBook b;
  b.title = imp->title;
  auto chapters = load_check_chapters(**db, imp->book_id, &b.labels);
  if (!chapters.ok()) return Error{chapters.error()};
  b.chapters = std::move(*chapters);
  for (const auto& ch : b.chapters)
    for (char32_t x : ch.body) b.han_chars += is_han(x) ? 1 : 0;
  return b;
}

BookKnowledge knowledge_of_names(const std::vector<std::string>& names, const std::map<int64_t, std::string>& labels) {
  std::vector<storage::Entity> ents;
  for (const auto& n : names) {
    storage::Entity e;
    e.id = int64_t(ents.size()) + 1;
    e.kind = "character";
    e.name = n;
    ents.push_back(std::move(e));
  }
  BookKnowledge k = make_knowledge(ents, {});
  k.labels = labels;
  return k;
}

std::vector<std::string> top_characters(const EvalBook& book, size_t n) {
  std::vector<std::string> out;
  for (const auto& d : discover_names(book.chapters, BookKnowledge{})) {
    if (d.role) continue;
    out.push_back(d.name);
    if (out.size() == n) break;
  }
  return out;
}

namespace {

std::vector<CheckFinding> check_names(const std::vector<CheckChapter>& chapters, const BookKnowledge& k) {
  NameIndex idx(k);
  NameVariantCheck nv(k, idx);
  nv.prepare(chapters);
  std::vector<CheckFinding> out;
  for (const auto& ch : chapters) nv.run(ch, &out);
  return out;
}

bool book_contains(const std::vector<CheckChapter>& chs, const std::u32string& s) {
  for (const auto& c : chs)
    if (c.body.find(s) != std::u32string::npos) return true;
  return false;
}

}  // namespace

std::vector<CheckFinding> background_findings(const EvalBook& book, const std::vector<std::string>& names) {
  return check_names(book.chapters, knowledge_of_names(names, book.labels));
}

VariantEvalResult eval_variants(const EvalBook& book, const std::vector<std::string>& names,
                                const VariantEvalOptions& opts) {
  VariantEvalResult r;
  const BookKnowledge k = knowledge_of_names(names, book.labels);
  NameIndex idx(k);
  std::mt19937 rng(opts.seed);

  // Characters the book uses often: the replacements a writer would plausibly type.
  std::unordered_map<char32_t, int64_t> freq;
  for (const auto& ch : book.chapters)
    for (char32_t c : ch.body)
      if (is_han(c)) ++freq[c];
  std::vector<char32_t> common;
  for (const auto& [c, n] : freq)
    if (n >= opts.min_char_count) common.push_back(c);
  std::sort(common.begin(), common.end());

  // Where each name is written (longest known name at each position), by name.
  std::map<std::u32string, std::vector<VariantOccurrence>> places;
  for (const auto& ch : book.chapters) {
    const std::u32string& t = ch.body;
    for (size_t p = 0; p < t.size();) {
      size_t len = 0;
      if (idx.match(t, p, &len)) {
        places[std::u32string(t.substr(p, len))].push_back({ch.ordinal, int64_t(p)});
        p += len;
      } else {
        ++p;
      }
    }
  }

  std::vector<CheckChapter> modified = book.chapters;
  std::map<int64_t, size_t> chapter_index;
  for (size_t i = 0; i < modified.size(); ++i) chapter_index[modified[i].ordinal] = i;
  std::set<std::pair<int64_t, int64_t>> used;  // (chapter, start) of names already overwritten
  std::set<std::u32string> chosen;

  // (position, replacement) pairs of a rule for `name`, the most plausible few per position: the most
  // frequent characters of the same (or near) sound, the most similar glyphs — the variant string new to the book.
  auto variant_candidates = [&](const std::u32string& name, const std::string& rule) {
    std::vector<std::pair<size_t, char32_t>> out;
    for (size_t i = 0; i < name.size(); ++i) {
      std::vector<std::pair<float, char32_t>> scored;
      for (char32_t c : common) {
        if (c == name[i]) continue;
        const uint8_t rules = confusion(name[i], c);
        if (rule == "同音" && (rules & kConfSameSound)) scored.push_back({float(freq[c]), c});
        if (rule == "近音" && (rules & kConfNearSound)) scored.push_back({float(freq[c]), c});
        if (rule == "形近" && (rules & kConfShape)) {
          // a look-alike that is not also a sound-alike tests the shape rule on its own
          const float sim = GlyphShapes::shared().similarity(name[i], c);
          scored.push_back({sim + ((rules & (kConfSameSound | kConfNearSound)) ? 0.f : 1.f), c});
        }
      }
      std::sort(scored.rbegin(), scored.rend());
      if (scored.size() > 5) scored.resize(5);
      for (const auto& sc : scored) {
        std::u32string var = name;
        var[i] = sc.second;
        if (chosen.count(var) || idx.is_known(var) || book_contains(book.chapters, var)) continue;
        out.push_back({i, sc.second});
      }
    }
    return out;
  };

  for (const auto& name8 : names) {
    const std::u32string name = to_u32(name8);
    if (name.size() < NameVariantCheck::kMinNameLen || name.size() > NameVariantCheck::kMaxNameLen) {
      r.skipped.push_back(name8 + "：名字长度不在 2–8 字之间");
      continue;
    }
    auto& where = places[name];
    for (size_t v = 0; v < opts.per_name; ++v) {
      // Half 同音, half 形近; a name whose characters have no look-alike the book uses gets a 近音 variant
      // instead, and one without that a 同音 one.
      std::vector<std::pair<size_t, char32_t>> cands;
      std::string rule;
      for (const char* want : (v % 2) == 1 ? std::vector<const char*>{"形近", "近音", "同音"}
                                           : std::vector<const char*>{"同音"}) {
        cands = variant_candidates(name, want);
        rule = want;
        if (!cands.empty()) break;
      }
      if (cands.empty()) {
        r.skipped.push_back(name8 + "：没有可用的同音或形近字");
        continue;
      }
      const auto [pos, c] = cands[std::uniform_int_distribution<size_t>(0, cands.size() - 1)(rng)];
      std::u32string var = name;
      var[pos] = c;
      // Places: random occurrences of the name not used yet.
      std::vector<VariantOccurrence> free;
      for (const auto& o : where)
        if (!used.count({o.chapter, o.start})) free.push_back(o);
      if (free.size() < opts.occurrences) {
        r.skipped.push_back(name8 + "：出现次数不够");
        continue;
      }
      std::shuffle(free.begin(), free.end(), rng);
      InjectedVariant iv;
      iv.name = name8;
      iv.variant = to_utf8(var);
      iv.rule = rule;
      for (size_t j = 0; j < opts.occurrences; ++j) {
        const VariantOccurrence o = free[j];
        used.insert({o.chapter, o.start});
        modified[chapter_index[o.chapter]].body[size_t(o.start) + pos] = c;
        iv.places.push_back(o);
      }
      std::sort(iv.places.begin(), iv.places.end(), [](const auto& a, const auto& b) {
        return a.chapter != b.chapter ? a.chapter < b.chapter : a.start < b.start;
      });
      chosen.insert(var);
      r.injected.push_back(std::move(iv));
    }
  }

  // Check the modified book; match findings to injections by subject and places.
  NameVariantCheck nv(k, idx);
  nv.prepare(modified);
  for (const auto& ch : modified) nv.run(ch, &r.findings);
  std::map<std::string, const NameVariant*> by_text;
  for (const auto& v : nv.variants()) by_text[to_utf8(v.text)] = &v;
  size_t true_findings = 0;
  for (auto& iv : r.injected) {
    auto it = by_text.find(iv.variant);
    if (it == by_text.end()) continue;
    size_t hit = 0;
    for (const auto& p : iv.places)
      for (const auto& o : it->second->occurrences) hit += (o.chapter == p.chapter && o.start == p.start) ? 1 : 0;
    iv.found = hit == iv.places.size();
  }
  std::set<std::string> injected_texts;
  for (const auto& iv : r.injected) {
    injected_texts.insert(iv.variant);
    r.found += iv.found ? 1 : 0;
  }
  for (const auto& f : r.findings) {
    if (injected_texts.count(f.subject)) ++true_findings;
    else r.false_findings.push_back(f);
  }
  r.recall = r.injected.empty() ? 0 : double(r.found) / double(r.injected.size());
  r.precision = r.findings.empty() ? 1.0 : double(true_findings) / double(r.findings.size());
  return r;
}

}  // namespace cj::check
