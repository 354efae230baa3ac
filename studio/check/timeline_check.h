// Check 4: timeline. Time markers stated in the text are extracted per chapter (text in traditional characters is
// folded to simplified first, code point for code point, so offsets stay those of the chapter):
//   - absolute years: a reign era of any dynasty from the Han to the Qing (宣和五年, 嘉靖甲子, 明成化二年;
//     reign_eras.h), 民国二十六年, 公元前二〇二年 / 公元184年, four-digit years (2019年, 一九三七年), and bare
//     干支 years (甲子年, 岁在丙寅) resolved against the story's current year;
//   - months (三月, 正月, 腊月), seasons (时值深秋, 初春, 冬天), festivals (元宵, 端午, 中秋, 重阳, 除夕…), solar
//     terms (立春, 清明, 冬至… — the ambiguous ones such as 大雪, 白露 only with a time word around them);
//   - relative time (次日, 三日后, 过了半年, 翌年, 次年, 两年后), which moves the story clock forward.
// The story clock is monotone: it follows the absolute markers and the relative moves of the narration. Markers in
// sentences about another time (去年, 当年, 昔日, 曾, 原来, 以来 …) and inside quotations (dialogue) are ignored.
// Findings (one per contradiction, subject 时间线):
//   - a year going backwards: an absolute marker earlier than the year the previous text reached — by an absolute
//     marker (上文第N回已到宣和五年，此处却是宣和元年) or by relative moves after it (…其后又过了一年（次年），应在
//     宣和六年或之后…). Exempt: recaps (a year at least as late follows within kRecapSpan code points, or several
//     earlier years stand close together, or the year is only one before the last one stated and not framed as
//     the present with 时值/正值…), and years well before the story's first year (historical references:
//     乾隆四十年 in a book set in 2019);
//   - the same year and an earlier season;
//   - a marker that contradicts the time the book records for that chapter: facts on an entity named 时间线
//     (or 时间, timeline) with predicates 季节 (春/夏/秋/冬), 月份 (1–12 or 正月…腊月) or 年份 (建安十三年, 2024).
// Eras that several dynasties used (太和, 建兴, 甘露) are resolved by a dynasty word in front (明成化, 大宋宣和), the
// year number (建安二十五年 rules out short eras), the dynasty of the book's other eras, and the story's current
// year. docs/consistency.md.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "studio/check/check_types.h"

namespace cj::check {

struct TimeMarker {
  size_t start = 0, end = 0;    // code points in the chapter body
  std::optional<int64_t> year;  // absolute (astronomical) year, when known
  int month = 0;                // 1..12, 0 = unknown (a season maps to its middle month: 春 2, 夏 5, 秋 8, 冬 11)
  int season = 0;               // 1 春 2 夏 3 秋 4 冬, 0 unknown
  // Relative moves of the story clock (次年: years 1; 过了半年: months 6; 三日后: days 3).
  int rel_years = 0, rel_months = 0, rel_days = 0;
  bool relative() const { return rel_years || rel_months || rel_days; }
  // How the year is written, to write an expected year the same way: an era (index into reign_eras()),
  // 民国 (-2), a plain AD year (-3), a bare 干支 (-4); -1 when there is no year.
  int style = -1;
  int ganzhi = -1;              // 0..59 for a 干支 year (bare or after an era)
  std::u32string era_name;      // folded era name when style is an era (its candidates are resolved by context)
  std::u32string era_prefix;    // the dynasty word before the era (明 in 明成化二年), folded
  int64_t era_number = 0;       // N of 宣和N年 (0 with a 干支 instead of a number)
  bool present = false;         // framed as the current time (时值, 时当, 正值, 是年…): never taken for a recap
  bool other_time = false;      // in a sentence about another time (flashback, last year…) or in dialogue
  std::u32string text;          // as written in the chapter
};

// Markers of one text. Era names used by several dynasties are resolved without book context here (the year
// number, then the table's first); TimelineCheck re-resolves them with the whole book.
std::vector<TimeMarker> extract_time_markers(std::u32string_view text, const NameIndex* names = nullptr);

class TimelineCheck {
 public:
  // Code points after a year marker within which a year at least as late makes it a recap.
  static constexpr size_t kRecapSpan = 600;
  // Years more than this before the story's first stated year are historical references, not story time.
  static constexpr int64_t kHistoryYears = 10;

  TimelineCheck(const BookKnowledge& k, const NameIndex& names);
  // Reads every chapter in reading order (all of them, so that a re-check of chapter N knows what came before)
  // and finds the contradictions of the whole book.
  void prepare(const std::vector<CheckChapter>& chapters);
  void run(const CheckChapter& ch, std::vector<CheckFinding>* out) const;
  // A digest of the story time before chapter `ordinal` (part of the chapter's staleness hash).
  std::string state_before(int64_t ordinal) const;

  // The story clock before a chapter (for the evaluation tool): the year reached, the marker that set it and
  // its chapter, and the story's first year.
  struct Clock {
    std::optional<int64_t> year;  // the clock (absolute year + relative moves)
    std::optional<int64_t> anchor_year;  // the last absolute year stated
    int month = 0;
    int64_t chapter = -1;         // chapter of the last absolute marker
    std::u32string quote;         // that marker as written
    int style = -1;               // its style (TimeMarker::style)
    std::u32string moves;         // relative markers since it (次年、三日后)
    int rel_years = 0;            // whole years added by them
  };
  const std::map<int64_t, Clock>& clocks() const { return before_; }
  std::optional<int64_t> first_year() const { return first_year_; }
  // The book's markers as resolved in context (chapter ordinal -> markers).
  const std::map<int64_t, std::vector<TimeMarker>>& markers() const { return markers_; }

 private:
  void resolve_eras(std::vector<TimeMarker>* ms, const std::optional<int64_t>& current) const;
  const BookKnowledge& k_;
  const NameIndex& names_;
  std::map<int64_t, Clock> before_;                        // chapter ordinal -> clock at its start
  std::map<int64_t, std::vector<TimeMarker>> markers_;     // chapter ordinal -> markers
  std::map<int64_t, std::vector<CheckFinding>> found_;     // chapter ordinal -> backward-time findings
  std::map<int, int> regime_votes_;                        // regime -> unambiguous era mentions in the book
  std::optional<int64_t> first_year_;
  std::vector<const storage::Fact*> timeline_facts_;
};

// Writes a year in a marker's style (宣和六年, 民国二十七年, 2020年); `era_hint` is the era the style names.
std::u32string year_in_style(int style, int64_t year);

}  // namespace cj::check
