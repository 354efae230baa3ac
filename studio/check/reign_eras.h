// Chinese reign eras (年号) from the Western Han to the Qing with their years, as general historical knowledge
// (studio/check/reign_eras.inc), and the folding of traditional characters to simplified that lets one table
// match text written in either. Used by the timeline check (timeline_check.h).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cj::check {

struct Regime {
  std::string name;                     // 北宋, 明, 前秦 …
  std::vector<std::u32string> prefixes; // words naming it before an era: 宋, 大宋, 北宋 (folded)
  bool minor = false;                   // a short-lived or rebel regime (元末's 天启 loses to 明's)
};

struct ReignEra {
  std::u32string name;  // folded (simplified) characters
  int regime = 0;       // index into reign_regimes()
  int64_t first = 0;    // astronomical year of 元年 (1 BC = 0, 2 BC = -1)
  int64_t last = 0;     // astronomical year of its last year
  int index = 0;        // the era's number in the table: two spellings of one era (大和/太和) share it
};

const std::vector<Regime>& reign_regimes();
// In table order (historical order within each regime); an era written two ways has an entry per spelling.
const std::vector<ReignEra>& reign_eras();
// All eras named `name` (folded), in table order; empty if none.
std::vector<const ReignEra*> eras_named(std::u32string_view name);
// The longest era name that starts text[pos] (text folded); 0 if none.
size_t longest_era_at(std::u32string_view text, size_t pos);

// Traditional → simplified, one code point for one code point (so offsets stay valid): 後→后, 歷→历, 萬→万,
// 啓→启, 禎→祯. 乾 stays 乾 (乾隆, 乾坤; never 干). Characters without a one-character simplified form stay.
char32_t fold_han(char32_t c);
std::u32string fold_han(std::u32string_view s);

// 干支 of an astronomical year: 0 = 甲子 … 59 = 癸亥. The stem/branch of text at t[p], t[p+1]: 0..59 or -1.
int ganzhi_of_year(int64_t year);
int ganzhi_at(std::u32string_view t, size_t p);
std::u32string ganzhi_name(int index);

// A year as it is usually written: 宣和五年 (era), 民国二十六年, 2019年, 公元前2年. `era` may be null.
std::u32string chinese_number(int64_t n);  // 23 → 二十三
std::u32string era_year_text(const ReignEra& era, int64_t year);

}  // namespace cj::check
