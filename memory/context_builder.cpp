#include "memory/context_builder.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "engine/base/text.h"
#include "engine/base/utf8.h"
#include "memory/entity_sheets.h"
#include "memory/retrieval.h"
#include "storage/books.h"
#include "storage/chapter_numbering.h"
#include "storage/chapters.h"
#include "storage/summaries.h"

namespace cj::memory {
namespace {

// The first sentences of `s` up to about a third of its 字 (at least one sentence): the "shorter summary".
std::string shorter(const std::string& s) {
  auto sents = text::sentences(s);
  size_t target = std::max<size_t>(1, text::zishu(s) / 3), zi = 0;
  std::string out;
  for (auto x : sents) {
    if (!out.empty() && zi + text::zishu(x) > target) break;
    out += x;
    zi += text::zishu(x);
  }
  return out;
}

// The tail of `s` whose tokens fit in `max_tokens`, starting at a sentence start when possible, otherwise at a
// character boundary.
std::string tail_fitting(const Tokenizer& tok, const std::string& s, int64_t max_tokens) {
  if (max_tokens <= 0) return "";
  auto fits = [&](size_t from) { return int64_t(tok.encode(std::string_view(s).substr(from), false).size()) <= max_tokens; };
  if (fits(0)) return s;
  std::vector<size_t> starts;
  for (auto sp : text::split_sentences(s)) starts.push_back(sp.begin);
  size_t lo = 0, hi = starts.size();  // find the first sentence start that fits
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (fits(starts[mid])) hi = mid;
    else lo = mid + 1;
  }
  if (lo < starts.size() && lo > 0) return s.substr(starts[lo]);
  // Even the last sentence is too long: cut between characters.
  std::vector<size_t> cps;
  size_t from = starts.empty() ? 0 : starts.back();
  for (size_t i = from; i < s.size();) {
    cps.push_back(i);
    uint32_t cp;
    int n = utf8::decode(s, i, &cp);
    i += size_t(n > 0 ? n : 1);
  }
  lo = 0, hi = cps.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (fits(cps[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lo < cps.size() ? s.substr(cps[lo]) : "";
}

// The heading as the author wrote it (第一回 宴桃园豪杰三结义…, a story's title without its centring), else the
// book's label (storage::chapter_label) + title.
std::string heading_line(const storage::ChapterInfo& c) {
  std::string_view h = c.heading;
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (h.size() >= 3 && h.compare(0, 3, "\u3000") == 0) h.remove_prefix(3);
  if (!h.empty()) return std::string(h);
  const std::string label = storage::chapter_label(c);
  return label + (c.title.empty() || c.title == label ? "" : " " + c.title);
}

struct Item {
  int64_t chapter = 0;        // for manifests
  std::string full, brief;    // text and its shorter version
  int64_t full_tok = 0, brief_tok = 0;
};

}  // namespace

Result<Context> build_context(storage::Database& db, const Tokenizer& tok, const ContextRequest& req) {
  auto ntok = [&](const std::string& s) { return int64_t(tok.encode(s, false).size()); };
  auto book = storage::Books(db).get(req.book_id);
  if (!book.ok()) return Error{book.error()};
  storage::Chapters chs(db);
  auto infos = chs.list(req.book_id);
  if (!infos.ok()) return Error{infos.error()};
  std::map<int64_t, storage::ChapterInfo> by_ord;
  for (const auto& i : *infos) by_ord[i.ordinal] = i;
  const storage::ChapterNumbering numbering(*infos);  // chapters named as the book names them (第二十二回)
  const int64_t N = req.chapter;
  auto short_label = [&](int64_t ord) {
    auto it = by_ord.find(ord);
    if (it != by_ord.end()) return storage::chapter_label(it->second);
    return numbering.label(ord);
  };

  // ---- Gather the material (chapters before N only) -------------------------------------------------------
  const std::string instr = req.book_only ? std::string() : prompts::instructions(req.task, book->title);
  std::string current = req.current_text;
  if (current.empty() && req.use_stored_current && req.task != prompts::Task::kDraft && by_ord.count(N)) {
    auto c = chs.get(by_ord[N].id);
    if (!c.ok()) return Error{c.error()};
    current = c->body;
  }
  auto nodes = storage::Summaries(db).list(req.book_id);
  if (!nodes.ok()) return Error{nodes.error()};
  Item synopsis;
  bool have_synopsis = false;
  int64_t synopsis_last = -1;  // the synopsis covers chapters up to this one
  std::vector<std::pair<int64_t, int64_t>> arc_ranges;
  std::vector<Item> arcs, chapter_sums;
  for (const auto& n : *nodes) {
    if (n.method != req.method || n.text.empty()) continue;
    if (n.level == 3 && n.last_chapter < N) {
      // The synopsis as of the last arc finished before N (one per arc; summary_tree.h).
      if (n.last_chapter > synopsis_last) {
        synopsis.full = n.text;
        synopsis_last = n.last_chapter;
        have_synopsis = true;
      }
    } else if (n.level == 2 && n.last_chapter < N) {
      Item it;
      it.chapter = n.first_chapter;
      const std::string range = numbering.label(n.first_chapter) + "–" + numbering.label(n.last_chapter);
      it.full = range + "：" + n.text;
      it.brief = range + "：" + shorter(n.text);
      arcs.push_back(std::move(it));
      arc_ranges.push_back({n.first_chapter, n.last_chapter});
    } else if (n.level == 1 && n.first_chapter < N) {
      Item it;
      it.chapter = n.first_chapter;
      std::string label = by_ord.count(n.first_chapter) ? heading_line(by_ord[n.first_chapter])
                                                         : numbering.label(n.first_chapter);
      it.full = label + "：" + n.text;
      it.brief = label + "：" + shorter(n.text);
      chapter_sums.push_back(std::move(it));
    }
  }
  if (have_synopsis) {
    synopsis.brief = shorter(synopsis.full);
    synopsis.full_tok = ntok(synopsis.full);
    synopsis.brief_tok = ntok(synopsis.brief);
  }
  for (auto* v : {&arcs, &chapter_sums})
    for (auto& it : *v) {
      it.full_tok = ntok(it.full);
      it.brief_tok = ntok(it.brief);
    }
  // Verbatim candidates: the chapters right before N, nearest first.
  std::vector<Item> verbatim;
  for (auto it = by_ord.lower_bound(N); it != by_ord.begin() && int(verbatim.size()) < req.max_verbatim;) {
    --it;
    if (it->first >= N) continue;
    auto c = chs.get(it->second.id);
    if (!c.ok()) return Error{c.error()};
    if (text::zishu(c->body) == 0 && req.drafts_stand_in) {
      // Not written yet, but drafted by the model (batch drafting): its latest AI draft stands in.
      auto revs = chs.revisions(c->id);
      if (!revs.ok()) return Error{revs.error()};
      for (auto r = revs->rbegin(); r != revs->rend(); ++r)
        if (r->source == "ai") {
          auto full = chs.revision(r->id);
          if (!full.ok()) return Error{full.error()};
          c->body = full->body;
          break;
        }
    }
    if (text::zishu(c->body) == 0) continue;
    Item v;
    v.chapter = it->first;
    v.full = heading_line(*c) + "\n" + c->body;
    while (!v.full.empty() && v.full.back() == '\n') v.full.pop_back();
    v.full_tok = ntok(v.full);
    verbatim.push_back(std::move(v));
  }
  // Entity sheets: entities mentioned in the working text (outline, current text, the last chapter), with the
  // facts established before N.
  std::string working = req.outline + "\n" + current + "\n" + (verbatim.empty() ? "" : verbatim.front().full);
  auto sheets = entity_sheets(db, req.book_id, N, /*known_before=*/true);
  if (!sheets.ok()) return Error{sheets.error()};
  struct SheetItem {
    std::string name, text;
    size_t mentions;
    int64_t tokens;
  };
  std::vector<SheetItem> sheet_items;
  for (const auto& s : *sheets) {
    size_t m = mentions(s, working);
    if (m == 0) continue;
    std::string t = render_sheet(s);
    while (!t.empty() && t.back() == '\n') t.pop_back();
    sheet_items.push_back({s.name, t, m, 0});
  }
  std::stable_sort(sheet_items.begin(), sheet_items.end(),
                   [](const SheetItem& a, const SheetItem& b) { return a.mentions > b.mentions; });
  for (auto& s : sheet_items) s.tokens = ntok(s.text);
  // Passages: retrieval over chapters before N with the outline and the end of the current text as query.
  std::vector<Passage> passages;
  std::vector<QueryTerm> named;  // words of the query found in earlier chapters, rarest first
  size_t indexed = 0;
  {
    std::string query = req.outline;
    std::string_view cur(current);
    size_t keep = std::min<size_t>(cur.size(), 6000);
    size_t from = cur.size() - keep;
    while (from < cur.size() && (uint8_t(cur[from]) & 0xC0) == 0x80) ++from;
    query += "\n" + std::string(cur.substr(from));
    if (text::zishu(query) > 0) {
      auto ix = PassageIndex::shared(db, req.book_id, N);
      if (!ix.ok()) return Error{ix.error()};
      passages = (*ix)->search(query, size_t(std::max(0, req.max_passages)) + size_t(std::max(0, req.max_verbatim)) * 40);
      named = (*ix)->query_terms(query);
      indexed = (*ix)->size();
    }
  }
  // Each passage as it appears in the text ("〔第二十二回〕…"), and its tokens.
  std::vector<std::string> passage_line(passages.size());
  std::vector<int64_t> passage_tok(passages.size());
  for (size_t i = 0; i < passages.size(); ++i) {
    passage_line[i] = "〔" + short_label(passages[i].chapter) + "〕" + passages[i].text;
    passage_tok[i] = ntok(passage_line[i]) + 1;
  }

  // ---- The budget plan and its degradation ladder ----------------------------------------------------------
  const int64_t instr_tok = instr.empty() ? 0 : ntok(instr);
  const int64_t outline_tok =
      req.outline.empty() || req.book_only ? 0 : ntok(std::string(prompts::kOutlineHeading) + req.outline);
  const int64_t head_tok = 8;  // heading + separators per section (checked exactly at the end)
  if (instr_tok + outline_tok + head_tok * 2 > req.budget)
    return make_error("a budget of " + std::to_string(req.budget) + " tokens cannot hold even the instructions and the outline (" +
                      std::to_string(instr_tok + outline_tok) + " tokens); raise --budget");
  const int64_t current_full_tok = current.empty() || req.book_only ? 0 : ntok(current);
  // The room for the book, and the passages' share of it: the evidence the task asks for.
  const int64_t room = std::max<int64_t>(0, req.budget - instr_tok - outline_tok - current_full_tok - head_tok * 9);
  const size_t rare_df = std::max<size_t>(3, indexed / 100);  // "few passages": at most 1 % of them (at least 3)
  std::vector<const QueryTerm*> rare;
  for (const auto& t : named)
    if (t.df <= rare_df) rare.push_back(&t);
  const double share = passages.empty() ? 0.0 : !rare.empty() ? req.passage_share : req.passage_share / 3;
  const int64_t reserve0 = int64_t(double(room) * std::clamp(share, 0.0, 1.0));
  std::string share_why;
  {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.0f%%", share * 100);
    if (passages.empty())
      share_why = named.empty() ? "nothing reserved: the task names nothing found in earlier chapters"
                                : "nothing reserved: no passage matches the task";
    else if (!rare.empty()) {
      share_why = std::string(pct) + " of the " + std::to_string(room) +
                  "-token book room reserved: the task names words of earlier chapters that few passages contain: ";
      for (size_t i = 0; i < rare.size() && i < 6; ++i)
        share_why += (i ? ", " : "") + rare[i]->word + " (" + std::to_string(rare[i]->df) + ")";
      if (rare.size() > 6) share_why += " and " + std::to_string(rare.size() - 6) + " more";
    } else {
      share_why = std::string(pct) + " of the " + std::to_string(room) +
                  "-token book room reserved: the task names only words common in earlier chapters";
    }
  }

  struct Plan {
    int verbatim;
    size_t arc_chapters_dropped = 0;  // completed arcs (oldest first) whose chapter summaries are left out
    bool short_chapters = false, short_arcs = false;
    size_t sheets;
    size_t arcs_dropped = 0;
    int synopsis = 0;  // 0 full, 1 short, 2 none
    size_t chapters_dropped = 0;  // further chapter summaries left out, oldest first
    int64_t reserve;  // tokens set aside for passages
  } plan{std::min<int>(req.max_verbatim, int(verbatim.size())), 0, false, false, sheet_items.size(), 0, 0, 0, reserve0};
  std::vector<std::string> steps_taken;

  auto verbatim_set = [&](const Plan& p) {
    std::set<int64_t> s;
    for (int i = 0; i < p.verbatim; ++i) s.insert(verbatim[size_t(i)].chapter);
    return s;
  };
  auto chapter_included = [&](const Plan& p, size_t idx, const std::set<int64_t>& vset) {
    int64_t ord = chapter_sums[idx].chapter;
    if (vset.count(ord)) return false;
    if (idx < p.chapters_dropped) return false;
    for (size_t a = 0; a < p.arc_chapters_dropped && a < arc_ranges.size(); ++a)
      if (ord >= arc_ranges[a].first && ord <= arc_ranges[a].second) return false;
    return true;
  };
  auto passage_list = [&](const Plan& p, size_t n) {
    std::vector<size_t> out;
    auto vset = verbatim_set(p);
    for (size_t i = 0; i < passages.size() && out.size() < n; ++i)
      if (!vset.count(passages[i].chapter)) out.push_back(i);
    return out;
  };
  // Everything but the passages.
  auto estimate_other = [&](const Plan& p, int64_t current_tok) {
    int64_t t = instr_tok + outline_tok + current_tok + head_tok * 9;
    if (have_synopsis && p.synopsis < 2) t += p.synopsis == 0 ? synopsis.full_tok : synopsis.brief_tok;
    for (size_t a = p.arcs_dropped; a < arcs.size(); ++a) t += (p.short_arcs ? arcs[a].brief_tok : arcs[a].full_tok) + 1;
    auto vset = verbatim_set(p);
    for (size_t i = 0; i < chapter_sums.size(); ++i)
      if (chapter_included(p, i, vset)) t += (p.short_chapters ? chapter_sums[i].brief_tok : chapter_sums[i].full_tok) + 1;
    for (size_t s = 0; s < p.sheets; ++s) t += sheet_items[s].tokens + 1;
    for (int v = 0; v < p.verbatim; ++v) t += verbatim[size_t(v)].full_tok + 2;
    return t;
  };
  // The passages' part of the estimate: the reserve, or less when fewer passages were found.
  auto reserved_cost = [&](const Plan& p) {
    int64_t avail = 0;
    for (size_t i : passage_list(p, size_t(std::max(0, req.max_passages)))) {
      if (avail >= p.reserve) break;
      avail += passage_tok[i];
    }
    return std::min(avail, p.reserve);
  };
  auto estimate = [&](const Plan& p, int64_t current_tok) { return estimate_other(p, current_tok) + reserved_cost(p); };
  std::vector<std::pair<std::string, std::function<bool(Plan&)>>> ladder;
  for (int v : {2, 1}) ladder.push_back({"verbatim chapters " + std::to_string(v), [v](Plan& p) { if (p.verbatim <= v) return false; p.verbatim = v; return true; }});
  for (size_t a = 1; a <= arc_ranges.size(); ++a)
    ladder.push_back({"chapter summaries of arc " + std::to_string(a) + " replaced by the arc summary",
                      [a](Plan& p) { if (p.arc_chapters_dropped >= a) return false; p.arc_chapters_dropped = a; return true; }});
  ladder.push_back({"shorter chapter summaries", [](Plan& p) { if (p.short_chapters) return false; p.short_chapters = true; return true; }});
  ladder.push_back({"no verbatim chapter", [](Plan& p) { if (p.verbatim == 0) return false; p.verbatim = 0; return true; }});
  ladder.push_back({"shorter arc summaries", [](Plan& p) { if (p.short_arcs) return false; p.short_arcs = true; return true; }});
  for (int k = 0; k < 12; ++k)
    ladder.push_back({"fewer entity sheets", [](Plan& p) { if (p.sheets == 0) return false; p.sheets /= 2; return true; }});
  for (size_t a = 1; a <= arcs.size(); ++a)
    ladder.push_back({"arc summary " + std::to_string(a) + " dropped", [a](Plan& p) { if (p.arcs_dropped >= a) return false; p.arcs_dropped = a; return true; }});
  ladder.push_back({"shorter synopsis", [](Plan& p) { if (p.synopsis >= 1) return false; p.synopsis = 1; return true; }});
  ladder.push_back({"no synopsis", [](Plan& p) { if (p.synopsis >= 2) return false; p.synopsis = 2; return true; }});
  const size_t nch = chapter_sums.size();
  for (size_t k = 1; k <= 10; ++k) {
    size_t drop = (nch * k + 9) / 10;
    ladder.push_back({"oldest chapter summaries dropped (" + std::to_string(drop) + ")",
                      [drop](Plan& p) { if (p.chapters_dropped >= drop) return false; p.chapters_dropped = drop; return true; }});
  }
  for (int64_t div : {2, 4}) {
    const int64_t r = reserve0 / div;
    ladder.push_back({"passage reserve " + std::to_string(r) + " tokens",
                      [r](Plan& p) { if (p.reserve <= r) return false; p.reserve = r; return true; }});
  }
  ladder.push_back({"no reserved passages", [](Plan& p) { if (p.reserve == 0) return false; p.reserve = 0; return true; }});

  // When no whole chapter fits verbatim: the end of the chapter right before N (cut at a sentence start), which
  // matters more for writing on than further passages.
  std::string last_tail;
  auto assemble = [&](const Plan& p, const std::string& cur, size_t n_passages, Context& out) {
    out = Context{};
    out.budget = req.budget;
    auto add = [&](const std::string& kind, const char* heading, const std::string& body, std::vector<int64_t> chapters,
                   std::string reason) {
      if (body.empty()) return;
      std::string sec = std::string(heading ? heading : "") + body + "\n\n";
      out.text += sec;
      out.sections.push_back({kind, ntok(sec), std::move(chapters), std::move(reason)});
    };
    if (!instr.empty())
      add("instructions", nullptr, instr.substr(0, instr.size() - 2), {}, std::string("task ") + prompts::task_name(req.task));
    if (have_synopsis && p.synopsis < 2)
      add("synopsis", prompts::kSynopsisHeading, p.synopsis == 0 ? synopsis.full : synopsis.brief, {},
          "synopsis of chapters up to " + numbering.label(synopsis_last) + " (the last arc finished before " +
              numbering.label(N) + ")" + (p.synopsis == 0 ? "" : ", shortened to fit the budget"));
    {
      std::string body;
      std::vector<int64_t> chs_;
      for (size_t a = p.arcs_dropped; a < arcs.size(); ++a) {
        body += (p.short_arcs ? arcs[a].brief : arcs[a].full) + "\n";
        for (int64_t c = arc_ranges[a].first; c <= arc_ranges[a].second; ++c) chs_.push_back(c);
      }
      if (!body.empty()) body.pop_back();
      add("arc_summaries", prompts::kArcsHeading, body, chs_,
          std::string("arcs finished before ") + numbering.label(N) + (p.short_arcs ? ", shortened" : "") +
              (p.arcs_dropped ? ", oldest " + std::to_string(p.arcs_dropped) + " dropped for the budget" : ""));
    }
    auto vset = verbatim_set(p);
    {
      std::string body;
      std::vector<int64_t> chs_;
      for (size_t i = 0; i < chapter_sums.size(); ++i)
        if (chapter_included(p, i, vset)) {
          body += (p.short_chapters ? chapter_sums[i].brief : chapter_sums[i].full) + "\n";
          chs_.push_back(chapter_sums[i].chapter);
        }
      if (!body.empty()) body.pop_back();
      add("chapter_summaries", prompts::kChaptersHeading, body, chs_,
          std::string("chapters before ") + numbering.label(N) + " not shown verbatim" +
              (p.short_chapters ? ", shortened" : "") +
              (p.arc_chapters_dropped ? "; chapters of the oldest " + std::to_string(p.arc_chapters_dropped) + " arcs left to their arc summary" : ""));
    }
    {
      // Sheets in name order (stable), the p.sheets most mentioned.
      std::vector<const SheetItem*> chosen;
      for (size_t s = 0; s < p.sheets; ++s) chosen.push_back(&sheet_items[s]);
      std::sort(chosen.begin(), chosen.end(), [](auto* a, auto* b) { return a->name < b->name; });
      std::string body;
      for (auto* s : chosen) body += s->text + "\n";
      if (!body.empty()) body.pop_back();
      add("entity_sheets", prompts::kEntitiesHeading, body, {N},
          std::to_string(chosen.size()) + " of " + std::to_string(sheet_items.size()) +
              " entities mentioned in the working text, facts established before " + numbering.label(N));
    }
    {
      auto idx = passage_list(p, n_passages);
      // Best first would change with every query: keep book order.
      std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
        return std::tie(passages[a].chapter, passages[a].offset) < std::tie(passages[b].chapter, passages[b].offset);
      });
      std::string body;
      std::vector<int64_t> chs_;
      for (size_t i : idx) {
        const auto& ps = passages[i];
        body += passage_line[i] + "\n";
        if (chs_.empty() || chs_.back() != ps.chapter) chs_.push_back(ps.chapter);
        out.passages.push_back({ps.chapter, ps.offset, ps.length});
      }
      if (!body.empty()) body.pop_back();
      add("passages", prompts::kPassagesHeading, body, chs_,
          std::to_string(idx.size()) + " passages (a few sentences each) ranked by BM25 over the book's passages + "
          "entity boost for the outline/current text");
    }
    {
      std::string body;
      std::vector<int64_t> chs_;
      for (int v = p.verbatim - 1; v >= 0; --v) {  // reading order
        body += verbatim[size_t(v)].full + "\n\n";
        chs_.push_back(verbatim[size_t(v)].chapter);
        out.verbatim.push_back(verbatim[size_t(v)].chapter);
      }
      while (!body.empty() && body.back() == '\n') body.pop_back();
      if (p.verbatim == 0 && !last_tail.empty())
        add("verbatim", prompts::kVerbatimHeading, "……" + last_tail, {verbatim.front().chapter},
            "the end of " + numbering.label(verbatim.front().chapter) + " (the whole chapter does not fit)");
      else
        add("verbatim", prompts::kVerbatimHeading, body, chs_,
            std::to_string(p.verbatim) + " chapters right before " + numbering.label(N));
    }
    if (!req.book_only) add("outline", prompts::kOutlineHeading, req.outline, {N}, "outline of the chapter");
    add("current_text", prompts::kCurrentHeading, cur, {N},
        cur.size() == current.size() ? "chapter text so far" : "end of the chapter text so far (cut to fit)");
    out.tokens = ntok(out.text);
  };

  // Degrade until the estimate fits, then check exactly and keep degrading while it does not.
  size_t step = 0;
  std::string cur = req.book_only ? std::string() : current;  // the text of the current_text section
  int64_t cur_tok = req.book_only ? 0 : current_full_tok;
  Context ctx;
  for (;;) {
    while (estimate(plan, cur_tok) > req.budget && step < ladder.size()) {
      if (ladder[step].second(plan)) steps_taken.push_back(ladder[step].first);
      ++step;
    }
    if (estimate(plan, cur_tok) > req.budget && !cur.empty()) {
      int64_t room_left = req.budget - estimate(plan, 0);
      cur = tail_fitting(tok, current, std::min(room_left, cur_tok) - 4);
      cur_tok = cur.empty() ? 0 : ntok(cur);
      steps_taken.push_back("current text cut to its last " + std::to_string(cur_tok) + " tokens");
    }
    int64_t est = estimate_other(plan, cur_tok);
    // The passages take the room left (at least their reserve; half of the room when the end of the previous
    // chapter is wanted), then that end takes whatever room is left.
    const bool want_tail = plan.verbatim == 0 && !verbatim.empty();
    const int64_t free_room = req.budget - est;
    const int64_t passage_limit = want_tail ? est + std::max(reserved_cost(plan), free_room / 2) : req.budget;
    auto all = passage_list(plan, size_t(std::max(0, req.max_passages)));
    size_t n = 0;
    while (n < all.size() && est + passage_tok[all[n]] <= passage_limit) est += passage_tok[all[n++]];
    last_tail.clear();
    if (want_tail && req.budget - est - head_tok - 8 >= 32)
      last_tail = tail_fitting(tok, verbatim.front().full, req.budget - est - head_tok - 8);
    assemble(plan, cur, n, ctx);
    while (ctx.tokens > req.budget && n > 0) {  // boundaries merged differently: drop passages
      n = n > 4 ? n - n / 8 - 1 : n - 1;
      assemble(plan, cur, n, ctx);
    }
    if (ctx.tokens > req.budget && !last_tail.empty()) {
      last_tail.clear();
      assemble(plan, cur, n, ctx);
    }
    if (ctx.tokens <= req.budget) break;
    if (step < ladder.size()) {
      if (ladder[step].second(plan)) steps_taken.push_back(ladder[step].first);
      ++step;
      continue;
    }
    if (cur.empty()) return make_error("cannot fit the context into " + std::to_string(req.budget) + " tokens");
    cur_tok = std::max<int64_t>(0, cur_tok - (ctx.tokens - req.budget) - 8);
    cur = tail_fitting(tok, current, cur_tok);
    cur_tok = cur.empty() ? 0 : ntok(cur);
  }
  ctx.degradations = steps_taken;

  // ---- The manifest's budget plan ---------------------------------------------------------------------------
  ctx.room = room;
  auto tokens_of = [&](std::initializer_list<const char*> kinds) {
    int64_t t = 0;
    for (const auto& s : ctx.sections)
      for (const char* k : kinds) t += s.kind == k ? s.tokens : 0;
    return t;
  };
  auto count_steps = [&](const std::string& prefix) {
    size_t n = 0;
    for (const auto& s : steps_taken) n += s.rfind(prefix, 0) == 0;
    return n;
  };
  {
    BudgetShare f{"fixed", tokens_of({"instructions", "outline", "current_text"}), 0,
                  "instructions, outline and current text always go in"};
    if (cur.size() != current.size() && !req.book_only) f.reason += "; the current text was cut to its end to fit";
    ctx.shares.push_back(f);
  }
  {
    size_t n_ch = 0;
    for (const auto& s : ctx.sections)
      if (s.kind == "chapter_summaries") n_ch = s.chapters.size();
    std::string why = "what the passage reserve leaves, after the verbatim chapters: " + std::to_string(n_ch) + " of " +
                      std::to_string(chapter_sums.size()) + " chapter summaries, " +
                      std::to_string(arcs.size() - plan.arcs_dropped) + " of " + std::to_string(arcs.size()) +
                      " arc summaries" + (have_synopsis && plan.synopsis < 2 ? ", the synopsis" : "");
    if (size_t k = count_steps("chapter summaries of arc ")) why += "; " + std::to_string(k) + " arcs' chapter summaries left to the arc summary";
    if (plan.short_chapters) why += "; chapter summaries shortened";
    if (plan.chapters_dropped) why += "; oldest " + std::to_string(plan.chapters_dropped) + " chapter summaries dropped";
    ctx.shares.push_back({"summaries", tokens_of({"synopsis", "arc_summaries", "chapter_summaries"}), 0, why});
  }
  ctx.shares.push_back({"entity_sheets", tokens_of({"entity_sheets"}), 0,
                        std::to_string(plan.sheets) + " of " + std::to_string(sheet_items.size()) +
                            " sheets of entities the working text mentions"});
  {
    std::string why = plan.verbatim > 0 ? std::to_string(plan.verbatim) + " of the chapters right before " + numbering.label(N) +
                                              " (up to " + std::to_string(req.max_verbatim) + ")"
                      : !last_tail.empty() ? std::string("the end of the chapter before; no whole chapter fits beside the reserve")
                                           : std::string("none");
    ctx.shares.push_back({"verbatim", tokens_of({"verbatim"}), 0, why});
  }
  ctx.shares.push_back({"passages", tokens_of({"passages"}), plan.reserve,
                        std::to_string(ctx.passages.size()) + " passages; " + share_why +
                            (plan.reserve < reserve0 ? "; the reserve was cut to " + std::to_string(plan.reserve) + " tokens to fit" : "") +
                            "; the rest of the room filled with further passages, best first"});
  return ctx;
}

}  // namespace cj::memory
