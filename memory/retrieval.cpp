#include "memory/retrieval.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <thread>

#include "engine/base/segmenter.h"
#include "engine/base/text.h"
#include "engine/base/utf8.h"
#include "storage/chapters.h"
#include "storage/entities.h"

namespace cj::memory {
namespace {

// Word segments (no punctuation, numbers or spaces) of `text`.
std::vector<std::string> terms(const Segmenter& seg, std::string_view text) {
  std::vector<std::string> out;
  for (const auto& s : seg.segment(text)) {
    if (s.kind != Segment::kWord) continue;
    out.emplace_back(text.substr(s.begin, s.end - s.begin));
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

Result<std::unique_ptr<PassageIndex>> PassageIndex::build(storage::Database& db, int64_t book_id,
                                                          int64_t before_chapter, const RetrievalOptions& o) {
  std::unique_ptr<PassageIndex> ix(new PassageIndex());
  ix->o_ = o;
  ix->o_.passage_zi = std::max<size_t>(1, o.passage_zi);
  storage::Chapters chs(db);
  auto infos = chs.list(book_id);
  if (!infos.ok()) return Error{infos.error()};
  auto ents = storage::Entities(db).list(book_id);
  if (!ents.ok()) return Error{ents.error()};
  for (const auto& e : *ents) {
    std::vector<std::string> forms{e.name};
    for (const auto& a : e.aliases) forms.push_back(a);
    ix->lexicon_.insert(ix->lexicon_.end(), forms.begin(), forms.end());
    ix->entity_forms_.push_back(std::move(forms));
  }
  std::vector<storage::Chapter> chapters;
  for (const auto& info : *infos) {
    if (before_chapter > 0 && info.ordinal >= before_chapter) continue;
    auto c = chs.get(info.id);
    if (!c.ok()) return Error{c.error()};
    chapters.push_back(std::move(*c));
  }
  // Cut and segment chapters in parallel (one Segmenter per thread); each unit is segmented once.
  std::vector<std::vector<Passage>> per_ch(chapters.size());
  std::vector<std::vector<std::map<std::string, uint32_t>>> tfs(chapters.size());
  std::vector<std::vector<uint32_t>> lens(chapters.size());
  Lexicon lex;
  for (const auto& w : ix->lexicon_) lex.add(w);
  const size_t pz = ix->o_.passage_zi;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    Segmenter seg;
    seg.set_lexicon(&lex);
    for (size_t i; (i = next.fetch_add(1)) < chapters.size();) {
      const std::string& body = chapters[i].body;
      auto us = units(body, pz);
      std::vector<std::vector<std::string>> uw(us.size());
      for (size_t k = 0; k < us.size(); ++k) uw[k] = terms(seg, std::string_view(body).substr(us[k].begin, us[k].end - us[k].begin));
      // Code-point offsets of the unit starts, computed in one pass.
      std::vector<int64_t> cp_at(us.size() + 1, 0);
      {
        size_t pos = 0;
        int64_t cps = 0;
        for (size_t k = 0; k < us.size(); ++k) {
          cps += int64_t(utf8::count_code_points(std::string_view(body).substr(pos, us[k].begin - pos)));
          pos = us[k].begin;
          cp_at[k] = cps;
        }
      }
      for (auto w : windows(us, pz)) {
        Passage p;
        p.chapter = chapters[i].ordinal;
        p.offset = cp_at[w.first];
        p.text = body.substr(us[w.first].begin, us[w.last].end - us[w.first].begin);
        p.length = int64_t(utf8::count_code_points(p.text));
        std::map<std::string, uint32_t> tf;
        uint32_t n = 0;
        for (size_t k = w.first; k <= w.last; ++k)
          for (const auto& t : uw[k]) ++tf[t], ++n;
        tfs[i].push_back(std::move(tf));
        lens[i].push_back(n);
        per_ch[i].push_back(std::move(p));
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, o.threads); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  double total = 0;
  for (size_t i = 0; i < chapters.size(); ++i)
    for (size_t k = 0; k < per_ch[i].size(); ++k) {
      uint32_t id = uint32_t(ix->passages_.size());
      ix->passages_.push_back(std::move(per_ch[i][k]));
      for (auto& [w, n] : tfs[i][k]) ix->postings_[w].push_back({id, n});
      ix->lengths_.push_back(lens[i][k]);
      total += double(lens[i][k]);
    }
  ix->avg_len_ = ix->passages_.empty() ? 1 : std::max(1.0, total / double(ix->passages_.size()));
  return ix;
}

std::vector<std::string> PassageIndex::words(const std::string& text) const {
  Lexicon lex;
  for (const auto& w : lexicon_) lex.add(w);
  Segmenter seg;
  seg.set_lexicon(&lex);
  return terms(seg, text);
}

double PassageIndex::idf(size_t df) const {
  const double N = double(passages_.size()), d = double(df);
  return std::log(1 + (N - d + 0.5) / (d + 0.5));
}

std::vector<QueryTerm> PassageIndex::query_terms(const std::string& query) const {
  std::map<std::string, int> seen;
  for (auto& w : words(query)) seen[w] = 1;
  std::vector<QueryTerm> out;
  for (const auto& [w, _] : seen) {
    auto it = postings_.find(w);
    if (it == postings_.end()) continue;
    out.push_back({w, uint32_t(it->second.size()), idf(it->second.size())});
  }
  std::stable_sort(out.begin(), out.end(), [](const QueryTerm& a, const QueryTerm& b) { return a.df < b.df; });
  return out;
}

std::vector<Passage> PassageIndex::search(const std::string& query, size_t k) const {
  if (passages_.empty() || k == 0) return {};
  std::map<std::string, uint32_t> qtf;
  for (auto& w : words(query)) ++qtf[w];
  std::vector<double> score(passages_.size(), 0);
  for (const auto& [w, qn] : qtf) {
    auto it = postings_.find(w);
    if (it == postings_.end()) continue;
    const double wt = idf(it->second.size()) * std::sqrt(double(qn));
    for (const auto& p : it->second) {
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
