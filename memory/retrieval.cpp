#include "memory/retrieval.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <unicode/uscript.h>

#include "engine/base/segmenter.h"
#include "engine/base/text.h"
#include "engine/base/utf8.h"
#include "storage/chapters.h"
#include "storage/entities.h"

namespace cj::memory {
namespace {

bool is_han(uint32_t cp) {
  UErrorCode st = U_ZERO_ERROR;
  return uscript_getScript(UChar32(cp), &st) == USCRIPT_HAN && U_SUCCESS(st);
}

// The terms of a text: its words (ICU word breaks + the book's lexicon; no punctuation, numbers or spaces) and
// the bigrams of consecutive Han characters. Bigrams make matching independent of how the dictionary happened to
// cut a phrase (一件事情 → 一件|事情 but 那件事情 → 那件事|情; both hold the bigram 事情).
struct Terms {
  std::vector<std::string> words;
  std::vector<uint64_t> bigrams;  // (first code point << 21) | second
};
Terms terms(const Segmenter& seg, std::string_view text) {
  Terms out;
  for (const auto& s : seg.segment(text)) {
    if (s.kind != Segment::kWord) continue;
    out.words.emplace_back(text.substr(s.begin, s.end - s.begin));
  }
  uint32_t prev = 0;
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    int n = utf8::decode(text, i, &cp);
    i += size_t(n > 0 ? n : 1);
    if (n <= 0 || !is_han(cp)) {
      prev = 0;
      continue;
    }
    if (prev) out.bigrams.push_back((uint64_t(prev) << 21) | cp);
    prev = cp;
  }
  return out;
}

// A unit of text a window is made of: a sentence, or a piece of a sentence too long to be one.
struct Unit {
  size_t begin, end;  // bytes in the body
  size_t zi;
};

std::vector<Unit> units(std::string_view body, size_t passage_zi) {
  std::vector<Unit> out;
  for (auto sp : text::split_sentences(body)) {
    std::string_view s = body.substr(sp.begin, sp.end - sp.begin);
    size_t zi = text::zishu(s);
    if (zi == 0) continue;
    if (zi <= 2 * passage_zi) {
      out.push_back({sp.begin, sp.end, zi});
      continue;
    }
    // Cut a run-on sentence into pieces of about passage_zi 字, between code points.
    size_t start = 0, count = 0;
    for (size_t i = 0; i < s.size();) {
      uint32_t cp;
      int n = utf8::decode(s, i, &cp);
      size_t len = size_t(n > 0 ? n : 1);
      count += text::zishu(s.substr(i, len));
      i += len;
      if (count >= passage_zi || i == s.size()) {
        if (count > 0) out.push_back({sp.begin + start, sp.begin + i, count});
        start = i;
        count = 0;
      }
    }
  }
  return out;
}

struct Window {
  size_t first, last;  // units [first, last]
};

// Windows of about passage_zi 字; each next window starts about half a window after the previous one.
std::vector<Window> windows(const std::vector<Unit>& u, size_t passage_zi) {
  std::vector<Window> out;
  size_t i = 0;
  while (i < u.size()) {
    size_t j = i, zi = u[i].zi;
    while (zi < passage_zi && j + 1 < u.size()) zi += u[++j].zi;
    out.push_back({i, j});
    if (j + 1 >= u.size()) break;
    size_t next = i + 1, half = u[i].zi;
    while (half < passage_zi / 2 && next < j) half += u[next++].zi;
    i = next;
  }
  return out;
}

}  // namespace

struct PassageIndex::Source {
  std::vector<std::vector<std::string>> entity_forms;  // per entity: name + aliases
  std::vector<storage::Chapter> chapters;
  uint64_t hash = 0;  // FNV-1a over all of it
};

Result<PassageIndex::Source> PassageIndex::read(storage::Database& db, int64_t book_id, int64_t before_chapter) {
  Source src;
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xFF) * 1099511628211ull;  // separator
  };
  mix(std::to_string(book_id));
  storage::Chapters chs(db);
  auto infos = chs.list(book_id);
  if (!infos.ok()) return Error{infos.error()};
  auto ents = storage::Entities(db).list(book_id);
  if (!ents.ok()) return Error{ents.error()};
  for (const auto& e : *ents) {
    std::vector<std::string> forms{e.name};
    for (const auto& a : e.aliases) forms.push_back(a);
    for (const auto& f : forms) mix(f);
    src.entity_forms.push_back(std::move(forms));
  }
  for (const auto& info : *infos) {
    if (before_chapter > 0 && info.ordinal >= before_chapter) continue;
    auto c = chs.get(info.id);
    if (!c.ok()) return Error{c.error()};
    mix(std::to_string(c->ordinal));
    mix(c->body);
    src.chapters.push_back(std::move(*c));
  }
  src.hash = h;
  return src;
}

Result<std::unique_ptr<PassageIndex>> PassageIndex::build(storage::Database& db, int64_t book_id,
                                                          int64_t before_chapter, const RetrievalOptions& o) {
  auto src = read(db, book_id, before_chapter);
  if (!src.ok()) return Error{src.error()};
  return make(std::move(*src), o);
}

Result<std::shared_ptr<const PassageIndex>> PassageIndex::shared(storage::Database& db, int64_t book_id,
                                                                 int64_t before_chapter, const RetrievalOptions& o) {
  auto src = read(db, book_id, before_chapter);
  if (!src.ok()) return Error{src.error()};
  char opts[128];
  std::snprintf(opts, sizeof opts, "%zu|%g|%g|%g", o.passage_zi, o.k1, o.b, o.entity_boost);
  const std::string key = std::to_string(src->hash) + "|" + opts;
  static std::mutex mu;
  static std::vector<std::pair<std::string, std::shared_ptr<const PassageIndex>>> cache;  // most recent last
  {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = 0; i < cache.size(); ++i)
      if (cache[i].first == key) {
        auto hit = cache[i];
        cache.erase(cache.begin() + long(i));
        cache.push_back(hit);
        return hit.second;
      }
  }
  std::shared_ptr<const PassageIndex> ix = make(std::move(*src), o);
  std::lock_guard<std::mutex> lock(mu);
  cache.push_back({key, ix});
  if (cache.size() > 2) cache.erase(cache.begin());
  return ix;
}

std::unique_ptr<PassageIndex> PassageIndex::make(Source src, const RetrievalOptions& o) {
  std::unique_ptr<PassageIndex> ix(new PassageIndex());
  ix->o_ = o;
  ix->o_.passage_zi = std::max<size_t>(1, o.passage_zi);
  for (auto& forms : src.entity_forms) {
    ix->lexicon_.insert(ix->lexicon_.end(), forms.begin(), forms.end());
    ix->entity_forms_.push_back(std::move(forms));
  }
  std::vector<storage::Chapter>& chapters = src.chapters;
  // Cut and segment chapters in parallel (one Segmenter per thread); each unit is segmented once.
  struct ChapterWork {
    std::vector<Unit> units;
    std::vector<Terms> terms;      // per unit
    std::vector<int64_t> cp_at;    // code-point offset of each unit
    std::vector<Window> windows;
  };
  std::vector<ChapterWork> work(chapters.size());
  Lexicon lex;
  for (const auto& w : ix->lexicon_) lex.add(w);
  const size_t pz = ix->o_.passage_zi;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    Segmenter seg;
    seg.set_lexicon(&lex);
    for (size_t i; (i = next.fetch_add(1)) < chapters.size();) {
      const std::string_view body = chapters[i].body;
      ChapterWork& cw = work[i];
      cw.units = units(body, pz);
      cw.terms.resize(cw.units.size());
      cw.cp_at.resize(cw.units.size());
      size_t pos = 0;
      int64_t cps = 0;
      for (size_t k = 0; k < cw.units.size(); ++k) {
        cw.terms[k] = terms(seg, body.substr(cw.units[k].begin, cw.units[k].end - cw.units[k].begin));
        cps += int64_t(utf8::count_code_points(body.substr(pos, cw.units[k].begin - pos)));
        pos = cw.units[k].begin;
        cw.cp_at[k] = cps;
      }
      cw.windows = windows(cw.units, pz);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, o.threads); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  // Term ids per unit, then one posting per term and window.
  double total = 0;
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < chapters.size(); ++i) {
    ChapterWork& cw = work[i];
    std::vector<std::vector<uint32_t>> unit_ids(cw.units.size());
    for (size_t k = 0; k < cw.units.size(); ++k) {
      for (auto& w : cw.terms[k].words) unit_ids[k].push_back(ix->intern(w));
      for (uint64_t bg : cw.terms[k].bigrams) unit_ids[k].push_back(ix->intern(bg));
      cw.terms[k] = Terms{};
    }
    const std::string& body = chapters[i].body;
    for (auto w : cw.windows) {
      Passage p;
      p.chapter = chapters[i].ordinal;
      p.offset = cw.cp_at[w.first];
      p.text = body.substr(cw.units[w.first].begin, cw.units[w.last].end - cw.units[w.first].begin);
      p.length = int64_t(utf8::count_code_points(p.text));
      ids.clear();
      for (size_t k = w.first; k <= w.last; ++k) ids.insert(ids.end(), unit_ids[k].begin(), unit_ids[k].end());
      std::sort(ids.begin(), ids.end());
      const uint32_t id = uint32_t(ix->passages_.size());
      for (size_t a = 0; a < ids.size();) {
        size_t b = a;
        while (b < ids.size() && ids[b] == ids[a]) ++b;
        ix->postings_[ids[a]].push_back({id, uint32_t(b - a)});
        a = b;
      }
      ix->lengths_.push_back(uint32_t(ids.size()));
      total += double(ids.size());
      ix->passages_.push_back(std::move(p));
    }
  }
  ix->avg_len_ = ix->passages_.empty() ? 1 : std::max(1.0, total / double(ix->passages_.size()));
  return ix;
}

uint32_t PassageIndex::intern(const std::string& word) {
  auto [it, added] = word_ids_.try_emplace(word, uint32_t(postings_.size()));
  if (added) postings_.emplace_back();
  return it->second;
}

uint32_t PassageIndex::intern(uint64_t bigram) {
  auto [it, added] = bigram_ids_.try_emplace(bigram, uint32_t(postings_.size()));
  if (added) postings_.emplace_back();
  return it->second;
}

// The distinct terms of `text` that the index knows, with how often each occurs in it.
std::vector<std::pair<uint32_t, uint32_t>> PassageIndex::lookup(const std::string& text) const {
  Lexicon lex;
  for (const auto& w : lexicon_) lex.add(w);
  Segmenter seg;
  seg.set_lexicon(&lex);
  Terms t = terms(seg, text);
  std::map<uint32_t, uint32_t> tf;
  for (const auto& w : t.words)
    if (auto it = word_ids_.find(w); it != word_ids_.end()) ++tf[it->second];
  for (uint64_t b : t.bigrams)
    if (auto it = bigram_ids_.find(b); it != bigram_ids_.end()) ++tf[it->second];
  return {tf.begin(), tf.end()};
}

double PassageIndex::idf(size_t df) const {
  const double N = double(passages_.size()), d = double(df);
  return std::log(1 + (N - d + 0.5) / (d + 0.5));
}

std::vector<QueryTerm> PassageIndex::query_terms(const std::string& query) const {
  Lexicon lex;
  for (const auto& w : lexicon_) lex.add(w);
  Segmenter seg;
  seg.set_lexicon(&lex);
  std::set<std::string> seen;
  for (auto& w : terms(seg, query).words) seen.insert(w);
  std::vector<QueryTerm> out;
  for (const auto& w : seen) {
    auto it = word_ids_.find(w);
    if (it == word_ids_.end()) continue;
    const size_t df = postings_[it->second].size();
    out.push_back({w, uint32_t(df), idf(df)});
  }
  std::stable_sort(out.begin(), out.end(), [](const QueryTerm& a, const QueryTerm& b) { return a.df < b.df; });
  return out;
}

std::vector<Passage> PassageIndex::search(const std::string& query, size_t k) const {
  if (passages_.empty() || k == 0) return {};
  std::vector<double> score(passages_.size(), 0);
  for (const auto& [term, qn] : lookup(query)) {
    const auto& plist = postings_[term];
    const double wt = idf(plist.size()) * std::sqrt(double(qn));
    for (const auto& p : plist) {
      const double tf = p.tf;
      const double norm = o_.k1 * (1 - o_.b + o_.b * lengths_[p.passage] / avg_len_);
      score[p.passage] += wt * tf * (o_.k1 + 1) / (tf + norm);
    }
  }
  // Entities the query mentions.
  std::vector<size_t> q_ents;
  for (size_t e = 0; e < entity_forms_.size(); ++e)
    for (const auto& f : entity_forms_[e])
      if (!f.empty() && query.find(f) != std::string::npos) { q_ents.push_back(e); break; }
  std::vector<uint32_t> cand;
  for (uint32_t i = 0; i < score.size(); ++i)
    if (score[i] > 0) cand.push_back(i);
  if (!q_ents.empty())
    for (uint32_t i : cand) {
      int shared = 0;
      for (size_t e : q_ents)
        for (const auto& f : entity_forms_[e])
          if (!f.empty() && passages_[i].text.find(f) != std::string::npos) { ++shared; break; }
      score[i] *= 1 + o_.entity_boost * shared;
    }
  auto better = [&](uint32_t a, uint32_t b) {
    if (score[a] != score[b]) return score[a] > score[b];
    return a < b;  // passages are stored in chapter, offset order
  };
  // Overlapping windows: at most about three times k candidates are needed before k non-overlapping ones are
  // found (each window overlaps two neighbours on either side at most).
  size_t want = std::min(cand.size(), k * 4 + 8);
  std::partial_sort(cand.begin(), cand.begin() + long(want), cand.end(), better);
  std::vector<Passage> out;
  std::vector<uint32_t> taken;
  auto overlaps = [&](uint32_t a, uint32_t b) {
    const Passage &x = passages_[a], &y = passages_[b];
    return x.chapter == y.chapter && x.offset < y.offset + y.length && y.offset < x.offset + x.length;
  };
  for (size_t c = 0; c < cand.size() && out.size() < k; ++c) {
    if (c == want) {  // not enough yet: sort the rest too
      std::sort(cand.begin() + long(want), cand.end(), better);
      want = cand.size();
    }
    uint32_t i = cand[c];
    bool clash = false;
    for (uint32_t t : taken) clash = clash || overlaps(i, t);
    if (clash) continue;
    taken.push_back(i);
    out.push_back(passages_[i]);
    out.back().score = score[i];
  }
  return out;
}

}  // namespace cj::memory
