#include "studio/check/timeline_eval.h"

#include <algorithm>
#include <random>

#include "studio/check/timeline_check.h"

namespace cj::check {

namespace {

// A chapter of text, not a heading left without one (a table of contents imported as chapters) or a title page.
bool has_text(std::u32string_view s) {
  size_t han = 0;
  for (char32_t c : s) han += is_han(c) ? 1 : 0;
  return han >= 50;
}

}  // namespace

TimelineEvalResult eval_timeline(const std::vector<CheckChapter>& all, const BookKnowledge& k,
                                 const TimelineEvalOptions& opts) {
  TimelineEvalResult r;
  std::vector<CheckChapter> chs;
  // The front matter (ordinal 0: a title page, a preface, the table of contents the importer keeps there) is not
  // a chapter of the story.
  for (const auto& c : all)
    if (c.ordinal > 0 && has_text(c.body)) chs.push_back(c);
  r.chapters = int(chs.size());

  NameIndex names(k);
  TimelineCheck tl(k, names);
  tl.prepare(chs);
  for (const auto& ch : chs) tl.run(ch, &r.original_findings);
  for (const auto& [ord, ms] : tl.markers()) {
    int n = 0;
    for (const auto& m : ms)
      if (m.year && !m.other_time && !m.relative()) ++n;
    r.year_markers += n;
    if (n) ++r.dated_chapters;
  }

  // Chapters where the clock stands on a year the book stated, with room for an earlier year in the story.
  struct Cand {
    size_t index;
    int64_t anchor;
    int style;
    std::u32string quote;
    int64_t anchor_chapter;
  };
  std::vector<Cand> cands;
  const auto first = tl.first_year();
  for (size_t i = 0; i < chs.size(); ++i) {
    auto it = tl.clocks().find(chs[i].ordinal);
    if (it == tl.clocks().end() || !it->second.anchor_year || !first) continue;
    const auto& c = it->second;
    if (c.style == -4 || c.style == -1 || *c.anchor_year - *first < 1) continue;
    cands.push_back({i, *c.anchor_year, c.style, c.quote, c.chapter});
  }
  std::mt19937 rng(opts.seed);
  std::shuffle(cands.begin(), cands.end(), rng);
  if (int(cands.size()) > opts.injections) cands.resize(size_t(opts.injections));
  std::sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.index < b.index; });

  static const std::u32string kFrames[] = {U"时值", U"时当", U"正值", U""};
  static const std::u32string kTails[] = {U"，城中一片安静。", U"，众人各自歇息。", U"，四下里并无什么动静。",
                                          U"，街上行人稀少。", U"，家中诸事如常。"};
  std::vector<CheckChapter> mod = chs;
  for (const Cand& c : cands) {
    const int64_t gap = std::uniform_int_distribution<int64_t>(
        1, std::max<int64_t>(1, std::min<int64_t>(opts.max_gap_years, c.anchor - *first)))(rng);
    const std::u32string year = year_in_style(c.style, c.anchor - gap);
    const std::u32string& frame = kFrames[std::uniform_int_distribution<size_t>(0, std::size(kFrames) - 1)(rng)];
    const std::u32string& tail = kTails[std::uniform_int_distribution<size_t>(0, std::size(kTails) - 1)(rng)];
    CheckChapter& ch = mod[c.index];
    // after a paragraph end at a random place (never inside a quotation)
    size_t p = std::uniform_int_distribution<size_t>(0, ch.body.size() - 1)(rng);
    while (p < ch.body.size() && ch.body[p] != U'\n') ++p;
    const std::u32string s = U"\n" + frame + year + tail;
    ch.body.insert(p, s);
    TimelineInjection inj;
    inj.chapter = ch.ordinal;
    inj.start = int64_t(p + 1 + frame.size());
    inj.end = inj.start + int64_t(year.size());
    inj.sentence = to_utf8(frame + year + tail);
    inj.clock = k.label(c.anchor_chapter) + "「" + to_utf8(c.quote) + "」";
    r.injections.push_back(std::move(inj));
  }
  if (r.injections.empty()) return r;
  std::vector<CheckFinding> found;
  TimelineCheck tm(k, names);
  tm.prepare(mod);
  for (const auto& ch : mod) tm.run(ch, &found);
  for (auto& inj : r.injections) {
    for (const auto& f : found)
      inj.found = inj.found || (f.chapter == inj.chapter && f.start < inj.end && inj.start < f.end);
    if (inj.found) ++r.found;
  }
  return r;
}

}  // namespace cj::check
