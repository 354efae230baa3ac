// Check 4: timeline. Time markers stated in the text — era years (建安十三年, 2024年), months (三月, 腊月),
// seasons (时值深秋, 初春, 冬天), festivals (元宵, 端午, 中秋, 重阳, 除夕) — are extracted per chapter. Findings:
//   - a year going backwards: a chapter states a year earlier than the latest year stated by the previous
//     chapters (or the same year and an earlier month/season);
//   - a marker that contradicts the time the book records for that chapter: facts on an entity named 时间线
//     (or 时间, timeline) with predicates 季节 (春/夏/秋/冬), 月份 (1–12 or 正月…腊月) or 年份 (建安十三年, 2024).
// Markers in sentences about another time (去年, 当年, 昔日, 曾, 原来, 以来 …) are ignored. Relative markers
// (次日, 三日后) only move time forward and are not checked. Eras known: the Han/Three Kingdoms/Jin eras of
// 三国演义 and four-digit years; docs/consistency.md.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "studio/check/check_types.h"

namespace cj::check {

struct TimeMarker {
  size_t start = 0, end = 0;    // code points in the chapter body
  std::optional<int64_t> year;  // absolute (AD) year
  int month = 0;                // 1..12, 0 = unknown (a season maps to its middle month: 春 2, 夏 5, 秋 8, 冬 11)
  int season = 0;               // 1 春 2 夏 3 秋 4 冬, 0 unknown
  bool other_time = false;      // in a sentence about another time (flashback, last year…)
  std::u32string text;
};

std::vector<TimeMarker> extract_time_markers(std::u32string_view text, const NameIndex* names = nullptr);

class TimelineCheck {
 public:
  TimelineCheck(const BookKnowledge& k, const NameIndex& names);
  // Reads every chapter in reading order (all of them, so that a re-check of chapter N knows what came before).
  void prepare(const std::vector<CheckChapter>& chapters);
  void run(const CheckChapter& ch, std::vector<CheckFinding>* out) const;
  // A digest of the story time before chapter `ordinal` (part of the chapter's staleness hash).
  std::string state_before(int64_t ordinal) const;

 private:
  struct State {
    std::optional<int64_t> year;
    int month = 0;
    int64_t chapter = -1;
    std::string quote;
  };
  const BookKnowledge& k_;
  const NameIndex& names_;
  std::map<int64_t, State> before_;                       // chapter ordinal -> time at its start
  std::map<int64_t, std::vector<TimeMarker>> markers_;    // chapter ordinal -> markers
  std::vector<const storage::Fact*> timeline_facts_;
};

}  // namespace cj::check
