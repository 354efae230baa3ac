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

// Words of 2+ code points with at least one letter (no punctuation, numbers, spaces).
std::vector<std::string> terms(const Segmenter& seg, std::string_view text, bool single_chars = true) {
  std::vector<std::string> out;
  for (const auto& s : seg.segment(text)) {
    if (s.kind != Segment::kWord) continue;
    std::string_view w = text.substr(s.begin, s.end - s.begin);
    if (single_chars == false && utf8::count_code_points(w) < 2) continue;
    out.emplace_back(w);
  }
  return out;
}

struct RawPassage {
  size_t begin, end;  // bytes in the body
};

std::vector<RawPassage> cut(std::string_view body, size_t passage_zi) {
  std::vector<RawPassage> out;
  size_t start = 0, zi = 0;
  auto flush = [&](size_t end) {
    if (end > start && text::zishu(body.substr(start, end - start)) > 0) out.push_back({start, end});
    start = end;
    zi = 0;
  };
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    size_t end = nl == std::string_view::npos ? body.size() : nl + 1;
    std::string_view para = body.substr(pos, end - pos);
    size_t pz = text::zishu(para);
    if (zi > 0 && zi + pz > passage_zi) flush(pos);
    if (pz > passage_zi) {  // a long paragraph: cut at sentence ends
      for (auto sp : text::split_sentences(para)) {
        size_t se = pos + sp.end;
        zi += text::zishu(para.substr(sp.begin, sp.end - sp.begin));
        if (zi >= passage_zi) flush(se);
      }
    } else {
      zi += pz;
    }
    pos = end;
  }
  flush(body.size());
  return out;
}

}  // namespace

Result<std::unique_ptr<PassageIndex>> PassageIndex::build(storage::Database& db, int64_t book_id,
                                                          int64_t before_chapter, const RetrievalOptions& o) {
  std::unique_ptr<PassageIndex> ix(new PassageIndex());
  ix->o_ = o;
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
  // Cut and segment chapters in parallel (one Segmenter per thread).
  std::vector<std::vector<Passage>> per_ch(chapters.size());
  std::vector<std::vector<std::vector<std::string>>> words(chapters.size());
  Lexicon lex;
  for (const auto& w : ix->lexicon_) lex.add(w);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    Segmenter seg;
    seg.set_lexicon(&lex);
    for (size_t i; (i = next.fetch_add(1)) < chapters.size();) {
      const std::string& body = chapters[i].body;
      for (auto [b, e] : cut(body, o.passage_zi)) {
        Passage p;
        p.chapter = chapters[i].ordinal;
        p.offset = int64_t(utf8::count_code_points(std::string_view(body).substr(0, b)));
        p.text = body.substr(b, e - b);
        while (!p.text.empty() && (p.text.back() == '\n' || p.text.back() == ' ')) p.text.pop_back();
        p.length = int64_t(utf8::count_code_points(p.text));
        words[i].push_back(terms(seg, p.text));
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
      std::map<std::string, uint32_t> tf;
      for (auto& w : words[i][k]) ++tf[w];
      for (auto& [w, n] : tf) ix->postings_[w].push_back({id, n});
      ix->lengths_.push_back(uint32_t(words[i][k].size()));
      total += double(words[i][k].size());
    }
  ix->avg_len_ = ix->passages_.empty() ? 1 : std::max(1.0, total / double(ix->passages_.size()));
  return ix;
}

std::vector<Passage> PassageIndex::search(const std::string& query, size_t k) const {
  if (passages_.empty() || k == 0) return {};
  Lexicon lex;
  for (const auto& w : lexicon_) lex.add(w);
  Segmenter seg;
  seg.set_lexicon(&lex);
  std::map<std::string, uint32_t> qtf;
  for (auto& w : terms(seg, query)) ++qtf[w];
  const double N = double(passages_.size());
  std::vector<double> score(passages_.size(), 0);
  for (const auto& [w, qn] : qtf) {
    auto it = postings_.find(w);
    if (it == postings_.end()) continue;
    const double df = double(it->second.size());
    const double idf = std::log(1 + (N - df + 0.5) / (df + 0.5));
    for (const auto& p : it->second) {
      const double tf = p.tf;
      const double norm = o_.k1 * (1 - o_.b + o_.b * lengths_[p.passage] / avg_len_);
      score[p.passage] += idf * tf * (o_.k1 + 1) / (tf + norm) * std::sqrt(double(qn));
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
  if (cand.size() > k) {
    std::partial_sort(cand.begin(), cand.begin() + long(k), cand.end(), better);
    cand.resize(k);
  } else {
    std::sort(cand.begin(), cand.end(), better);
  }
  std::vector<Passage> out;
  for (uint32_t i : cand) {
    out.push_back(passages_[i]);
    out.back().score = score[i];
  }
  return out;
}

}  // namespace cj::memory
