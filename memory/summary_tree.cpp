#include "memory/summary_tree.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "engine/base/text.h"
#include "storage/chapter_numbering.h"
#include "storage/chapters.h"
#include "storage/entities.h"
#include "storage/summaries.h"
#include "storage/text_decoder.h"
#include "storage/transaction.h"

namespace cj::memory {
namespace {

using Key = std::tuple<int, int64_t, int64_t, int64_t>;  // level, first, last, part

struct ChapterText {
  int64_t ordinal = 0;
  std::string title;
  std::string body;
  std::vector<std::pair<size_t, size_t>> scenes;
  std::string hash;
  std::vector<std::string> scene_hashes;
};

struct Layout {
  std::vector<ChapterText> chapters;
  std::vector<std::pair<size_t, size_t>> arcs;  // [begin, end) indices into chapters
  std::vector<std::string> arc_hashes;
  // The book synopsis as of the end of each arc: synopsis_hashes[k] covers arcs 0..k (the last one is the whole
  // book). A context for chapter N uses the one of the last arc finished before N.
  std::vector<std::string> synopsis_hashes;
  storage::ChapterNumbering numbering;  // the book's labels, for names in prompts and progress
};

Result<Layout> layout(storage::Database& db, int64_t book, const TreeOptions& o) {
  storage::Chapters chs(db);
  auto infos = chs.list(book);
  if (!infos.ok()) return Error{infos.error()};
  Layout L;
  L.numbering = storage::ChapterNumbering(*infos);
  const std::string zc = std::to_string(o.chapter_target_zi), zs = std::to_string(o.scene_target_zi);
  for (const auto& info : *infos) {
    auto c = chs.get(info.id);
    if (!c.ok()) return Error{c.error()};
    if (c->body.find_first_not_of(" \n\r\t") == std::string::npos) continue;  // empty chapter: nothing to say
    ChapterText t;
    t.ordinal = c->ordinal;
    t.title = c->heading.empty() ? c->title : c->heading;
    t.body = std::move(c->body);
    t.hash = storage::content_hash("chapter|" + zc + "|" + t.body);
    if (o.scenes) {
      t.scenes = split_scenes(t.body, o.scene_zi);
      for (auto [b, e] : t.scenes)
        t.scene_hashes.push_back(storage::content_hash("scene|" + zs + "|" + t.body.substr(b, e - b)));
    }
    L.chapters.push_back(std::move(t));
  }
  const size_t step = std::max<size_t>(1, o.arc_size);
  std::string book_src = "book|" + std::to_string(o.book_target_zi);
  for (size_t b = 0; b < L.chapters.size(); b += step) {
    size_t e = std::min(L.chapters.size(), b + step);
    std::string src = "arc|" + std::to_string(o.arc_target_zi);
    for (size_t i = b; i < e; ++i) src += "|" + L.chapters[i].hash;
    L.arcs.push_back({b, e});
    L.arc_hashes.push_back(storage::content_hash(src));
    book_src += "|" + L.arc_hashes.back();
    L.synopsis_hashes.push_back(storage::content_hash(book_src));
  }
  return L;
}

std::vector<PlannedNode> planned(const Layout& L) {
  std::vector<PlannedNode> out;
  for (const auto& c : L.chapters)
    for (size_t p = 0; p < c.scene_hashes.size(); ++p)
      out.push_back({0, c.ordinal, c.ordinal, int64_t(p), c.scene_hashes[p], true});
  for (const auto& c : L.chapters) out.push_back({1, c.ordinal, c.ordinal, 0, c.hash, true});
  for (size_t a = 0; a < L.arcs.size(); ++a)
    out.push_back({2, L.chapters[L.arcs[a].first].ordinal, L.chapters[L.arcs[a].second - 1].ordinal, 0,
                   L.arc_hashes[a], true});
  for (size_t a = 0; a < L.arcs.size(); ++a)
    out.push_back({3, L.chapters.front().ordinal, L.chapters[L.arcs[a].second - 1].ordinal, 0, L.synopsis_hashes[a],
                   true});
  return out;
}

Result<std::map<Key, storage::SummaryNode>> stored(storage::Database& db, int64_t book, const std::string& method) {
  auto all = storage::Summaries(db).list(book);
  if (!all.ok()) return Error{all.error()};
  std::map<Key, storage::SummaryNode> m;
  for (auto& n : *all)
    if (n.method == method) m[Key{n.level, n.first_chapter, n.last_chapter, n.part}] = std::move(n);
  return m;
}

// Names for progress and for the prompts of arc and book summaries, in the book's own labels (第二十二回).
std::string range_name(const storage::ChapterNumbering& n, int level, int64_t first, int64_t last, int64_t part) {
  switch (level) {
    case 0: return n.label(first) + " 场景" + std::to_string(part + 1);
    case 1: return n.label(first);
    case 2: return "卷 " + n.label(first) + "–" + n.label(last);
    default: return "全书（至" + n.label(last) + "）";
  }
}

}  // namespace

std::vector<std::pair<size_t, size_t>> split_scenes(std::string_view body, size_t scene_zi) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t start = 0, zi = 0, pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    size_t end = nl == std::string_view::npos ? body.size() : nl + 1;
    zi += text::zishu(body.substr(pos, end - pos));
    pos = end;
    if (zi >= scene_zi) {
      out.push_back({start, pos});
      start = pos;
      zi = 0;
    }
  }
  if (start < body.size()) {
    if (!out.empty() && zi < scene_zi / 3) out.back().second = body.size();  // a short tail joins the last scene
    else out.push_back({start, body.size()});
  }
  // Drop scenes with no text at all.
  std::vector<std::pair<size_t, size_t>> kept;
  for (auto s : out)
    if (text::zishu(body.substr(s.first, s.second - s.first)) > 0) kept.push_back(s);
  return kept;
}

Result<std::vector<std::string>> character_names(storage::Database& db, int64_t book_id) {
  auto ents = storage::Entities(db).list(book_id, "character");
  if (!ents.ok()) return Error{ents.error()};
  std::vector<std::string> names;
  for (const auto& e : *ents) {
    names.push_back(e.name);
    for (const auto& a : e.aliases) names.push_back(a);
  }
  return names;
}

Result<std::vector<PlannedNode>> SummaryTree::plan(int64_t book_id, const std::string& method) {
  auto L = layout(db_, book_id, o_);
  if (!L.ok()) return Error{L.error()};
  auto have = stored(db_, book_id, method);
  if (!have.ok()) return Error{have.error()};
  auto out = planned(*L);
  for (auto& p : out) {
    auto it = have->find(Key{p.level, p.first_chapter, p.last_chapter, p.part});
    p.stale = it == have->end() || it->second.source_hash != p.source_hash;
  }
  return out;
}

Result<std::vector<PlannedNode>> SummaryTree::stale(int64_t book_id, const std::string& method) {
  auto p = plan(book_id, method);
  if (!p.ok()) return p;
  std::vector<PlannedNode> out;
  for (auto& n : *p)
    if (n.stale) out.push_back(n);
  return out;
}

Result<BuildStats> SummaryTree::build(int64_t book_id, Summarizer& s,
                                      const std::function<bool(const BuildProgress&)>& progress) {
  const std::string method = s.method();
  auto Lr = layout(db_, book_id, o_);
  if (!Lr.ok()) return Error{Lr.error()};
  const Layout& L = *Lr;
  auto haver = stored(db_, book_id, method);
  if (!haver.ok()) return Error{haver.error()};
  auto& have = *haver;
  auto names = character_names(db_, book_id);
  if (!names.ok()) return Error{names.error()};
  storage::Summaries sums(db_);
  BuildStats st;

  // Remove nodes that are no longer part of the tree.
  auto plan_nodes = planned(L);
  std::map<Key, const PlannedNode*> want;
  for (const auto& p : plan_nodes) want[Key{p.level, p.first_chapter, p.last_chapter, p.part}] = &p;
  for (auto it = have.begin(); it != have.end();) {
    if (!want.count(it->first)) {
      CJ_TRY(sums.remove(it->second.id));
      ++st.removed;
      it = have.erase(it);
    } else {
      ++it;
    }
  }
  auto is_stale = [&](int level, int64_t f, int64_t l, int64_t part, const std::string& h) {
    auto it = have.find(Key{level, f, l, part});
    return it == have.end() || it->second.source_hash != h;
  };
  size_t total = 0;
  for (const auto& p : plan_nodes) {
    if (is_stale(p.level, p.first_chapter, p.last_chapter, p.part, p.source_hash)) ++total;
    else ++st.kept;
  }
  BuildProgress pr{0, total, ""};
  auto count_tokens = [&](const std::string& t) -> int64_t {
    return tok_ ? int64_t(tok_->encode(t, false).size()) : 0;
  };

  // Level 0 and 1: per chapter, in parallel batches (progress is reported after each batch).
  struct Job {
    int level;
    size_t chapter;  // index into L.chapters
    int64_t part;
    std::string hash;
    std::string text;  // result
    int64_t tokens = 0;
    std::string error;
  };
  std::vector<Job> jobs;
  for (size_t ci = 0; ci < L.chapters.size(); ++ci) {
    const auto& c = L.chapters[ci];
    for (size_t p = 0; p < c.scene_hashes.size(); ++p)
      if (is_stale(0, c.ordinal, c.ordinal, int64_t(p), c.scene_hashes[p]))
        jobs.push_back({0, ci, int64_t(p), c.scene_hashes[p], "", 0, ""});
    if (is_stale(1, c.ordinal, c.ordinal, 0, c.hash)) jobs.push_back({1, ci, 0, c.hash, "", 0, ""});
  }
  const int threads = s.thread_safe() ? std::max(1, o_.threads) : 1;
  auto run_job = [&](Job& j) {
    const auto& c = L.chapters[j.chapter];
    SummaryRequest rq;
    rq.names = *names;
    if (j.level == 0) {
      auto [b, e] = c.scenes[size_t(j.part)];
      rq.level = SummaryLevel::kScene;
      rq.text = c.body.substr(b, e - b);
      rq.target_zi = o_.scene_target_zi;
      rq.title = c.title + " 场景" + std::to_string(j.part + 1);
    } else {
      rq.level = SummaryLevel::kChapter;
      rq.text = c.body;
      rq.target_zi = o_.chapter_target_zi;
      rq.title = c.title;
    }
    auto r = s.summarize(rq);
    if (!r.ok()) { j.error = r.error(); return; }
    j.text = std::move(*r);
    j.tokens = count_tokens(j.text);
  };
  auto save = [&](int level, int64_t first, int64_t last, int64_t part, const std::string& text, int64_t tokens,
                  const std::string& hash) -> Status {
    storage::SummaryNode n;
    n.book_id = book_id;
    n.level = level;
    n.first_chapter = first;
    n.last_chapter = last;
    n.part = part;
    n.text = text;
    n.token_count = tokens;
    n.source_hash = hash;
    n.method = method;
    auto id = sums.put(n);
    if (!id.ok()) return Error{id.error()};
    n.id = *id;
    have[Key{level, first, last, part}] = std::move(n);
    return {};
  };
  // Each summary is saved (its own transaction) the moment it is made: an LLM summary takes seconds, and a kill
  // must not lose the ones already computed. The workers share the connection under save_mu.
  std::mutex save_mu;
  std::string first_error;
  const size_t batch = size_t(threads) * 8;
  for (size_t b = 0; b < jobs.size(); b += batch) {
    size_t e = std::min(jobs.size(), b + batch);
    std::atomic<size_t> next{b};
    auto worker = [&] {
      for (size_t i; (i = next.fetch_add(1)) < e;) {
        Job& j = jobs[i];
        run_job(j);
        std::lock_guard<std::mutex> lk(save_mu);
        if (j.error.empty()) {
          const auto& c = L.chapters[j.chapter];
          if (Status sv = save(j.level, c.ordinal, c.ordinal, j.part, j.text, j.tokens, j.hash); !sv.ok())
            j.error = sv.error();
          else
            ++st.built;
        }
        if (!j.error.empty() && first_error.empty()) first_error = j.error;
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (!first_error.empty()) return make_error(first_error);
    pr.done = st.built;
    pr.what = range_name(L.numbering, jobs[e - 1].level, L.chapters[jobs[e - 1].chapter].ordinal, 0, jobs[e - 1].part);
    if (progress && !progress(pr)) { st.cancelled = true; return st; }
  }

  // Arcs from chapter summaries, then the book from arc summaries.
  auto child_text = [&](int level, int64_t f, int64_t l, const std::string& label) -> std::string {
    auto it = have.find(Key{level, f, l, 0});
    if (it == have.end() || it->second.text.empty()) return "";
    return label + "：" + it->second.text + "\n";
  };
  for (size_t a = 0; a < L.arcs.size(); ++a) {
    int64_t f = L.chapters[L.arcs[a].first].ordinal, l = L.chapters[L.arcs[a].second - 1].ordinal;
    if (!is_stale(2, f, l, 0, L.arc_hashes[a])) continue;
    SummaryRequest rq;
    rq.level = SummaryLevel::kArc;
    rq.names = *names;
    rq.target_zi = o_.arc_target_zi;
    rq.title = range_name(L.numbering, 2, f, l, 0);
    for (size_t i = L.arcs[a].first; i < L.arcs[a].second; ++i)
      rq.text += child_text(1, L.chapters[i].ordinal, L.chapters[i].ordinal, L.chapters[i].title);
    auto r = s.summarize(rq);
    if (!r.ok()) return Error{r.error()};
    CJ_TRY(save(2, f, l, 0, *r, count_tokens(*r), L.arc_hashes[a]));
    ++st.built;
    pr.done = st.built;
    pr.what = rq.title;
    if (progress && !progress(pr)) { st.cancelled = true; return st; }
  }
  // The synopsis as of the end of each arc, from the summaries of the arcs up to it (the last is the whole book).
  for (size_t k = 0; k < L.arcs.size(); ++k) {
    int64_t f = L.chapters.front().ordinal, l = L.chapters[L.arcs[k].second - 1].ordinal;
    if (!is_stale(3, f, l, 0, L.synopsis_hashes[k])) continue;
    SummaryRequest rq;
    rq.level = SummaryLevel::kBook;
    rq.names = *names;
    rq.target_zi = o_.book_target_zi;
    rq.title = range_name(L.numbering, 3, f, l, 0);
    for (size_t a = 0; a <= k; ++a) {
      int64_t af = L.chapters[L.arcs[a].first].ordinal, al = L.chapters[L.arcs[a].second - 1].ordinal;
      rq.text += child_text(2, af, al, range_name(L.numbering, 2, af, al, 0));
    }
    auto r = s.summarize(rq);
    if (!r.ok()) return Error{r.error()};
    CJ_TRY(save(3, f, l, 0, *r, count_tokens(*r), L.synopsis_hashes[k]));
    ++st.built;
    pr.done = st.built;
    pr.what = rq.title;
    if (progress && !progress(pr) && k + 1 < L.arcs.size()) { st.cancelled = true; return st; }
  }
  return st;
}

}  // namespace cj::memory
