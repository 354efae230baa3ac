// Evaluation of the timeline check on any book (`changjuan-cli eval timeline`): the book's own dated markers set
// the story clock; into later chapters we inject sentences that date the story earlier than the clock already is
// (时值宣和元年春，… after 宣和五年), written in the book's own style (its era, 民国N年, or four-digit years), and
// measure the recall on them; the unmodified book gives the false positives (timeline findings per 100 chapters).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "studio/check/check_types.h"

namespace cj::check {

struct TimelineEvalOptions {
  int injections = 30;     // how many backward markers to inject (fewer if the book has few dated chapters)
  uint32_t seed = 1;
  int max_gap_years = 5;   // an injection is 1..max_gap_years earlier than the clock
};

struct TimelineInjection {
  int64_t chapter = 0;
  int64_t start = 0, end = 0;  // code points of the injected marker in the modified chapter
  std::string sentence;        // the injected sentence
  std::string clock;           // what the text had reached before it (宣和五年, 第二十二回)
  bool found = false;
};

struct TimelineEvalResult {
  int chapters = 0;            // chapters with text (at least 50 汉字)
  int dated_chapters = 0;      // chapters with at least one narrative year marker of their own
  int year_markers = 0;        // narrative year markers in the book
  std::vector<TimelineInjection> injections;
  int found = 0;
  std::vector<CheckFinding> original_findings;  // timeline findings on the unmodified book
  double recall() const { return injections.empty() ? 0.0 : double(found) / double(injections.size()); }
  double findings_per_100() const {
    return chapters ? 100.0 * double(original_findings.size()) / double(chapters) : 0.0;
  }
};

// `chapters` in reading order (ordinals as in `k.labels`); chapters with fewer than 50 汉字 (headings of a table
// of contents imported as chapters, a title page) are skipped.
TimelineEvalResult eval_timeline(const std::vector<CheckChapter>& chapters, const BookKnowledge& k,
                                 const TimelineEvalOptions& opts);

}  // namespace cj::check
