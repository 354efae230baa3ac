#include "studio/check/timeline_check.h"

#include <algorithm>
#include <set>

#include "studio/check/reign_eras.h"

namespace cj::check {

namespace {

constexpr const char* kSubject = "时间线";

// Words that put a sentence at another time than the story's present (matched on folded text).
const char32_t* const kOtherTime[] = {U"去年", U"明年", U"前年", U"来年", U"当年", U"那年", U"往年", U"每年",
                                      U"旧年", U"昔", U"曾", U"原来", U"以来", U"先是", U"向年", U"当初", U"起初",
                                      U"自从", U"始于", U"前番", U"之时", U"那时", U"至今", U"已经", U"后来",
                                      U"将来", U"回想", U"想起", U"记得", U"梦见", U"年前", U"年间", U"说起",
                                      U"讲起", U"提起", U"谈起", U"忆起", U"追忆", U"往事", U"从前"};
// Words that frame a year as the present of the story (never a recap).
const char32_t* const kPresent[] = {U"时值", U"时当", U"正值", U"时逢", U"是年", U"这一年是", U"此时已是"};
// Words before an era that proclaim it (改元甘露): the era starts at the story's present.
const char32_t* const kProclaim[] = {U"改元", U"改为", U"改年号", U"建元", U"年号"};

bool starts_with(std::u32string_view t, size_t pos, std::u32string_view w) {
  return t.size() >= pos + w.size() && t.compare(pos, w.size(), w) == 0;
}
bool ends_at(std::u32string_view t, size_t pos, std::u32string_view w) {  // w ends right before t[pos]
  return pos >= w.size() && t.compare(pos - w.size(), w.size(), w) == 0;
}
bool is_digit(char32_t c) { return (c >= U'0' && c <= U'9') || (c >= U'０' && c <= U'９'); }
bool is_numeral(char32_t c) {
  return is_digit(c) || std::u32string_view(U"零〇一二三四五六七八九十廿百两").find(c) != std::u32string_view::npos;
}
bool is_digit_char(char32_t c) {  // a digit written one character per digit (一九三七, 二〇一九)
  return is_digit(c) || std::u32string_view(U"〇零一二三四五六七八九").find(c) != std::u32string_view::npos;
}
int digit_value(char32_t c) {
  if (c >= U'0' && c <= U'9') return int(c - U'0');
  if (c >= U'０' && c <= U'９') return int(c - U'０');
  size_t i = std::u32string_view(U"〇一二三四五六七八九").find(c);
  if (i != std::u32string_view::npos) return int(i);
  return c == U'零' ? 0 : -1;
}
int season_of(char32_t c) {
  switch (c) {
    case U'春': return 1;
    case U'夏': return 2;
    case U'秋': return 3;
    case U'冬': return 4;
    default: return 0;
  }
}
int season_month(int s) { return s ? (s - 1) * 3 + 2 : 0; }
int month_season(int m) { return m <= 0 ? 0 : m <= 3 ? 1 : m <= 6 ? 2 : m <= 9 ? 3 : 4; }
const char* season_name(int s) {
  static const char* n[] = {"", "春", "夏", "秋", "冬"};
  return n[s];
}

// A number of up to `max` numeral characters at t[p]: its length (0 if none) and value.
size_t number_at(std::u32string_view t, size_t p, size_t max, int64_t* value) {
  size_t e = p;
  while (e < t.size() && e - p < max && is_numeral(t[e])) ++e;
  while (e > p) {
    if (auto n = parse_number(t.substr(p, e - p))) {
      *value = *n;
      return e - p;
    }
    --e;
  }
  return 0;
}

// Month at t[p] ("三月", "十二月", "正月", "腊月", "冬月", "闰三月"); returns its length and the month.
size_t month_at(std::u32string_view t, size_t p, int* month) {
  size_t q = p;
  if (starts_with(t, q, U"闰")) ++q;
  if (starts_with(t, q, U"正月")) { *month = 1; return q + 2 - p; }
  if (starts_with(t, q, U"腊月")) { *month = 12; return q + 2 - p; }
  if (starts_with(t, q, U"冬月")) { *month = 11; return q + 2 - p; }
  size_t e = q;
  while (e < t.size() && e - q < 3 && is_numeral(t[e])) ++e;
  if (e == q || e >= t.size() || t[e] != U'月') return 0;
  auto n = parse_number(t.substr(q, e - q));
  if (!n || *n < 1 || *n > 12) return 0;
  // not a duration: 三月有余, 三月之久, 三月后, 数月
  for (const char32_t* w : {U"有余", U"之久", U"余", U"后", U"之后", U"以后", U"之内", U"间", U"光景"})
    if (starts_with(t, e + 1, w)) return 0;
  if (q > 0 && (t[q - 1] == U'个' || t[q - 1] == U'数' || t[q - 1] == U'几' || t[q - 1] == U'半' ||
                t[q - 1] == U'了' || t[q - 1] == U'过' || is_numeral(t[q - 1])))
    return 0;
  *month = int(*n);
  return e + 1 - p;
}

struct Festival {
  std::u32string_view name;
  int month;
};
const Festival kFestivals[] = {{U"元宵", 1}, {U"上元", 1}, {U"元旦", 1}, {U"春节", 1}, {U"寒食", 3},
                               {U"上巳", 3}, {U"清明", 3}, {U"端午", 5}, {U"端阳", 5}, {U"七夕", 7},
                               {U"乞巧", 7}, {U"中元节", 7}, {U"中秋", 8}, {U"重阳", 9}, {U"重九", 9},
                               {U"下元节", 10}, {U"腊八", 12}, {U"除夕", 12}};
// Solar terms (节气) with the lunar month they fall in; `context` ones are ordinary words too (大雪, 白露) and
// count only with a time word around them.
struct SolarTerm {
  std::u32string_view name;
  int month;
  bool context;
};
const SolarTerm kSolarTerms[] = {
    {U"立春", 1, false}, {U"雨水", 1, true},  {U"惊蛰", 2, false}, {U"春分", 2, false}, {U"谷雨", 3, false},
    {U"立夏", 4, false}, {U"小满", 4, true},  {U"芒种", 5, false}, {U"夏至", 5, false}, {U"小暑", 6, true},
    {U"大暑", 6, true},  {U"立秋", 7, false}, {U"处暑", 7, false}, {U"白露", 8, true},  {U"秋分", 8, false},
    {U"寒露", 9, true},  {U"霜降", 9, true},  {U"立冬", 10, false}, {U"小雪", 10, true}, {U"大雪", 11, true},
    {U"冬至", 11, false}, {U"小寒", 12, true}, {U"大寒", 12, true}};
const char32_t* const kTermBefore[] = {U"时值", U"正值", U"到了", U"已是", U"交", U"过了", U"又到", U"正是", U"将近",
                                       U"临近", U"时当", U"时逢"};
const char32_t* const kTermAfter[] = {U"节", U"时节", U"前后", U"那天", U"这天", U"之日", U"当天", U"时分",
                                      U"以后", U"之后", U"那日", U"这日"};

const char32_t* const kSeasonPrefix[] = {U"时值", U"正值", U"时当", U"正是", U"又值", U"时逢", U"正当", U"值此"};
const char32_t kSeasonMod[] = U"初仲暮深隆残孟季盛早晚";
const char32_t kSeasonSuffix[] = U"天季";

// Relative moves: fixed words.
struct RelWord {
  std::u32string_view word;
  int years, months, days;
};
const RelWord kRelWords[] = {{U"次年", 1, 0, 0},   {U"翌年", 1, 0, 0},   {U"第二年", 1, 0, 0}, {U"转年", 1, 0, 0},
                             {U"次月", 0, 1, 0},   {U"半年后", 0, 6, 0}, {U"过了半年", 0, 6, 0}, {U"半载后", 0, 6, 0},
                             {U"次日", 0, 0, 1},   {U"翌日", 0, 0, 1},   {U"第二天", 0, 0, 1}, {U"第二日", 0, 0, 1},
                             {U"次早", 0, 0, 1},   {U"翌早", 0, 0, 1},   {U"次晨", 0, 0, 1}};

// "过了N年", "又过了N个月", "N年后", "N日之后", "N天后": the unit and count, or 0.
size_t relative_at(std::u32string_view f, size_t p, TimeMarker* m) {
  for (const RelWord& w : kRelWords)
    if (starts_with(f, p, w.word)) {
      m->rel_years = w.years;
      m->rel_months = w.months;
      m->rel_days = w.days;
      return w.word.size();
    }
  size_t q = p;
  bool past = false;
  if (starts_with(f, q, U"又过了")) q += 3, past = true;
  else if (starts_with(f, q, U"过了")) q += 2, past = true;
  int64_t n = 0;
  size_t nl = number_at(f, q, 3, &n);
  if (!nl || n <= 0 || n > 100) return 0;
  size_t u = q + nl;
  int unit = 0;  // 1 year, 2 month, 3 day
  size_t ul = 0;
  if (starts_with(f, u, U"年")) unit = 1, ul = 1;
  else if (starts_with(f, u, U"载")) unit = 1, ul = 1;
  else if (starts_with(f, u, U"个年头")) unit = 1, ul = 3;
  else if (starts_with(f, u, U"个月")) unit = 2, ul = 2;
  else if (starts_with(f, u, U"日")) unit = 3, ul = 1;
  else if (starts_with(f, u, U"天")) unit = 3, ul = 1;
  if (!unit) return 0;
  size_t e = u + ul;
  if (!past) {
    if (starts_with(f, e, U"后") || starts_with(f, e, U"以后")) e += starts_with(f, e, U"后") ? 1 : 2;
    else if (starts_with(f, e, U"之后")) e += 2;
    else return 0;
  }
  if (p > 0 && is_numeral(f[p - 1])) return 0;
  (unit == 1 ? m->rel_years : unit == 2 ? m->rel_months : m->rel_days) = int(n);
  return e - p;
}

// Which code points are inside a quotation (dialogue): “…”, 「…」, 『…』; a line break closes them all.
std::vector<bool> quoted(std::u32string_view t) {
  std::vector<bool> q(t.size(), false);
  int depth = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    char32_t c = t[i];
    if (c == U'\n') depth = 0;
    if (c == U'“' || c == U'「' || c == U'『') ++depth;
    q[i] = depth > 0;
    if ((c == U'”' || c == U'」' || c == U'』') && depth > 0) --depth;
  }
  return q;
}

// The dynasty words of the era table, longest first.
const std::vector<std::u32string>& prefix_words() {
  static const std::vector<std::u32string> w = [] {
    std::set<std::u32string> s;
    for (const Regime& r : reign_regimes())
      for (const auto& p : r.prefixes) s.insert(p);
    std::vector<std::u32string> v(s.begin(), s.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    return v;
  }();
  return w;
}

// First characters of era names and dynasty words (a quick test before the table look-ups).
const std::set<char32_t>& era_first_chars() {
  static const std::set<char32_t> s = [] {
    std::set<char32_t> s;
    for (const ReignEra& e : reign_eras()) s.insert(e.name[0]);
    for (const auto& w : prefix_words()) s.insert(w[0]);
    return s;
  }();
  return s;
}

// An era year at f[p] (after an optional dynasty word): fills m and returns the end, or 0.
size_t era_year_at(std::u32string_view f, size_t p, TimeMarker* m) {
  if (!era_first_chars().count(f[p])) return 0;
  auto try_at = [&](size_t q, std::u32string_view prefix) -> size_t {
    size_t len = longest_era_at(f, q);
    for (; len >= 2; --len) {
      if (eras_named(f.substr(q, len)).empty()) continue;
      size_t r = q + len;
      int64_t n = 0;
      int gz = -1;
      size_t e = 0;
      if (starts_with(f, r, U"元年")) n = 1, e = r + 2;
      else if (size_t nl = number_at(f, r, 4, &n); nl && r + nl < f.size() && f[r + nl] == U'年' && n > 0)
        e = r + nl + 1;
      else if ((gz = ganzhi_at(f, r)) >= 0) e = r + 2 + (starts_with(f, r + 2, U"年") ? 1 : 0);
      if (!e) continue;
      if (starts_with(f, e, U"代") || starts_with(f, e, U"间")) return 0;  // 年代, 年间: not a year
      m->era_name = std::u32string(f.substr(q, len));
      m->era_prefix = std::u32string(prefix);
      m->era_number = n;
      m->ganzhi = gz;
      return e;
    }
    return 0;
  };
  for (const auto& w : prefix_words()) {
    if (!starts_with(f, p, w)) continue;
    bool proclaim = false;  // 改元建兴元年: the 元 of 改元 is no dynasty word
    for (const char32_t* pw : kProclaim) proclaim = proclaim || ends_at(f, p + w.size(), pw);
    if (proclaim) continue;
    if (size_t e = try_at(p + w.size(), w)) return e;
  }
  return try_at(p, U"");
}

// The year an era mention names, given the chosen era.
std::optional<int64_t> era_mention_year(const ReignEra& e, const TimeMarker& m) {
  if (m.era_number > 0) return e.first + m.era_number - 1;
  if (m.ganzhi >= 0)
    for (int64_t y = e.first; y <= e.last; ++y)
      if (ganzhi_of_year(y) == m.ganzhi) return y;
  return std::nullopt;
}

// Candidates of an era mention after the prefix and year-number filters.
std::vector<const ReignEra*> era_candidates(const TimeMarker& m) {
  auto all = eras_named(m.era_name);
  auto filter = [&](auto pred) {
    std::vector<const ReignEra*> kept;
    for (auto* e : all)
      if (pred(*e)) kept.push_back(e);
    if (!kept.empty()) all = std::move(kept);
  };
  if (!m.era_prefix.empty())
    filter([&](const ReignEra& e) {
      const auto& ps = reign_regimes()[size_t(e.regime)].prefixes;
      return std::find(ps.begin(), ps.end(), m.era_prefix) != ps.end();
    });
  if (m.era_number > 0) filter([&](const ReignEra& e) { return m.era_number <= e.last - e.first + 2; });
  if (m.ganzhi >= 0) filter([&](const ReignEra& e) { return era_mention_year(e, m).has_value(); });
  std::stable_sort(all.begin(), all.end(), [](const ReignEra* a, const ReignEra* b) {
    return !reign_regimes()[size_t(a->regime)].minor && reign_regimes()[size_t(b->regime)].minor;
  });
  return all;
}

void set_era(TimeMarker* m, const ReignEra* e) {
  m->style = int(e - reign_eras().data());
  m->year = era_mention_year(*e, *m);
}

}  // namespace

std::u32string year_in_style(int style, int64_t year) {
  const auto& eras = reign_eras();
  if (style >= 0 && size_t(style) < eras.size()) {
    const ReignEra& e = eras[size_t(style)];
    if (year >= e.first && year <= e.last) return era_year_text(e, year);
    for (const ReignEra& o : eras)  // the era of that year in the same dynasty (宣和 → 靖康)
      if (o.regime == e.regime && year >= o.first && year <= o.last) return era_year_text(o, year);
    if (year >= e.first && year <= e.last + 3) return era_year_text(e, year);
    for (const ReignEra& o : eras)  // another dynasty's era of that year (建安 before 章武)
      if (year >= o.first && year <= o.last && !reign_regimes()[size_t(o.regime)].minor) return era_year_text(o, year);
  }
  if (style == -2 && year > 1911) return U"民国" + (year == 1912 ? std::u32string(U"元") : chinese_number(year - 1911)) + U"年";
  if (year <= 0) return U"公元前" + to_u32(std::to_string(1 - year)) + U"年";
  return to_u32(std::to_string(year)) + U"年";
}

std::vector<TimeMarker> extract_time_markers(std::u32string_view t, const NameIndex* names) {
  const std::u32string f = fold_han(t);
  const std::vector<bool> inq = quoted(t);
  std::vector<TimeMarker> out;
  for (size_t p = 0; p < f.size();) {
    if (!is_han(f[p]) && !is_digit(f[p])) {
      ++p;
      continue;
    }
    size_t nlen = 0;
    if (names && names->match(t, p, &nlen)) {  // 探春, 秋纹: names are not seasons
      p += nlen;
      continue;
    }
    TimeMarker m;
    m.start = p;
    size_t e = 0;
    // Absolute years.
    if (size_t q = era_year_at(f, p, &m)) {
      e = q;
      auto c = era_candidates(m);
      if (!c.empty()) set_era(&m, c.front());
    } else if (starts_with(f, p, U"民国")) {
      int64_t n = 0;
      size_t r = p + 2;
      if (starts_with(f, r, U"元年")) n = 1, e = r + 2;
      else if (size_t nl = number_at(f, r, 4, &n); nl && r + nl < f.size() && f[r + nl] == U'年' && n > 0)
        e = r + nl + 1;
      if (e) m.year = 1911 + n, m.style = -2;
    } else if (starts_with(f, p, U"公元")) {
      size_t r = p + 2;
      bool bc = starts_with(f, r, U"前");
      if (bc) ++r;
      int64_t n = 0;
      size_t nl = 0;
      size_t d = r;
      while (d < f.size() && d - r < 4 && is_digit_char(f[d])) ++d;
      if (d - r >= 3) {  // digit by digit: 一九三七, 184
        n = 0;
        for (size_t i = r; i < d; ++i) n = n * 10 + digit_value(f[i]);
        nl = d - r;
      } else {
        nl = number_at(f, r, 6, &n);
      }
      if (nl && r + nl < f.size() && f[r + nl] == U'年' && n > 0) {
        e = r + nl + 1;
        m.year = bc ? 1 - n : n;
        m.style = -3;
      }
    } else if (is_digit_char(f[p]) && (p == 0 || !is_numeral(f[p - 1]))) {
      size_t q = p;
      while (q < f.size() && is_digit_char(f[q])) ++q;
      if (q - p == 4 && q < f.size() && f[q] == U'年' && !starts_with(f, q + 1, U"代") &&
          !starts_with(f, q + 1, U"级")) {
        int64_t y = 0;
        for (size_t i = p; i < q; ++i) y = y * 10 + digit_value(f[i]);
        if (y >= 1000 && y <= 2200) {
          m.year = y;
          m.style = -3;
          e = q + 1;
        }
      }
    }
    if (!e) {
      // Bare 干支 year: 甲子年, 甲子岁, 岁在甲子, 岁次甲子.
      size_t g = p;
      bool lead = starts_with(f, p, U"岁在") || starts_with(f, p, U"岁次");
      if (lead) g += 2;
      int gz = ganzhi_at(f, g);
      if (gz >= 0 && (lead || starts_with(f, g + 2, U"年") || starts_with(f, g + 2, U"岁"))) {
        m.ganzhi = gz;
        m.style = -4;
        e = g + 2 + (lead ? 0 : 1);
      }
    }
    if (e && (m.year || m.ganzhi >= 0)) {  // 建安十三年冬十月, 建安三年春
      if (e < f.size() && season_of(f[e])) m.season = season_of(f[e++]);
      int mo = 0;
      if (size_t l = month_at(f, e, &mo)) {
        m.month = mo;
        e += l;
      }
    } else if (size_t l = relative_at(f, p, &m)) {
      e = p + l;
      if (e < f.size() && season_of(f[e])) m.season = season_of(f[e++]);  // 次年春
      int mo = 0;
      if (size_t ml = month_at(f, e, &mo)) m.month = mo, e += ml;
    } else {
      int mo = 0;
      if (size_t l = month_at(f, p, &mo)) {
        m.month = mo;
        e = p + l;
      } else {
        for (const Festival& fe : kFestivals)
          if (starts_with(f, p, fe.name)) {
            m.month = fe.month;
            e = p + fe.name.size();
            break;
          }
        if (!m.month)
          for (const SolarTerm& st : kSolarTerms) {
            if (!starts_with(f, p, st.name)) continue;
            bool ok = !st.context;
            for (const char32_t* w : kTermBefore) ok = ok || ends_at(f, p, w);
            for (const char32_t* w : kTermAfter) ok = ok || starts_with(f, p + 2, w);
            if (ok) {
              m.month = st.month;
              e = p + 2;
            }
            break;
          }
        if (!m.month) {
          size_t q = p;
          bool prefixed = false;
          for (const char32_t* pre : kSeasonPrefix)
            if (starts_with(f, q, pre)) {
              q += std::u32string_view(pre).size();
              prefixed = true;
              break;
            }
          bool mod = false;
          if (q < f.size() && std::u32string_view(kSeasonMod).find(f[q]) != std::u32string_view::npos &&
              q + 1 < f.size() && season_of(f[q + 1])) {
            ++q;
            mod = true;
          }
          if (q < f.size() && season_of(f[q])) {
            int s = season_of(f[q]);
            bool suffix = q + 1 < f.size() &&
                          std::u32string_view(kSeasonSuffix).find(f[q + 1]) != std::u32string_view::npos;
            if (prefixed || mod || suffix) {
              m.season = s;
              e = q + 1 + (suffix ? 1 : 0);
            }
          }
        }
      }
    }
    if (!e || (!m.year && m.ganzhi < 0 && !m.month && !m.season && !m.relative())) {
      ++p;
      continue;
    }
    if (!m.month && m.season) m.month = season_month(m.season);
    if (!m.season && m.month) m.season = month_season(m.month);
    m.end = e;
    m.text = std::u32string(t.substr(m.start, e - m.start));
    auto [sb, se] = sentence_around(f, m.start, m.end);
    std::u32string_view sentence = std::u32string_view(f).substr(sb, se - sb);
    // (a word that overlaps the marker is not one: 时当初平二年 holds 当初)
    for (const char32_t* w : kOtherTime)
      for (size_t at = sentence.find(w); at != std::u32string_view::npos; at = sentence.find(w, at + 1)) {
        const size_t a = sb + at, b = a + std::u32string_view(w).size();
        if (b <= m.start || a >= m.end) m.other_time = true;
      }
    if (inq[m.start]) m.other_time = true;
    for (const char32_t* w : kPresent) {
      const size_t wl = std::u32string_view(w).size();
      if (m.start >= wl && std::u32string_view(f).substr(m.start - wl, wl) == w) m.present = true;
    }
    out.push_back(std::move(m));
    p = e;
  }
  return out;
}

TimelineCheck::TimelineCheck(const BookKnowledge& k, const NameIndex& names) : k_(k), names_(names) {
  for (const auto& e : k.entities) {
    if (e.name != U"时间线" && e.name != U"时间" && e.name != U"timeline") continue;
    for (const auto& f : k.facts)
      if (f.entity_id == e.id) timeline_facts_.push_back(&f);
  }
}

void TimelineCheck::prepare(const std::vector<CheckChapter>& chapters) {
  before_.clear();
  markers_.clear();
  found_.clear();
  regime_votes_.clear();
  first_year_.reset();
  // Pass 1: markers, and the dynasties of the book's unambiguous eras (votes for resolving the others).
  for (const auto& ch : chapters) {
    auto ms = extract_time_markers(ch.body, &names_);
    for (const auto& m : ms) {
      if (m.era_name.empty()) continue;
      std::set<int> regimes;
      for (const ReignEra* e : era_candidates(m)) regimes.insert(e->regime);
      if (regimes.size() == 1) ++regime_votes_[*regimes.begin()];
    }
    markers_[ch.ordinal] = std::move(ms);
  }
  // Pass 2: the story clock, chapter by chapter.
  Clock cur;
  for (const auto& ch : chapters) {
    before_[ch.ordinal] = cur;
    auto& ms = markers_[ch.ordinal];
    const std::u32string f = fold_han(ch.body);
    std::set<std::pair<int, int64_t>> reported;  // (kind, year): one finding per contradiction and chapter
    size_t rejected_paragraph = std::u32string::npos;
    auto paragraph_of = [&](size_t pos) {
      size_t b = f.rfind(U'\n', pos);
      return b == std::u32string::npos ? size_t(0) : b + 1;
    };
    for (size_t i = 0; i < ms.size(); ++i) {
      TimeMarker& m = ms[i];
      // Resolve in context: eras shared by several dynasties, bare 干支 years.
      if (!m.era_name.empty()) {
        auto c = era_candidates(m);
        if (c.size() > 1) {
          bool proclaimed = false;
          for (const char32_t* w : kProclaim) proclaimed = proclaimed || ends_at(f, m.start, w);
          auto year_of = [&](const ReignEra* e) { return era_mention_year(*e, m).value_or(e->first); };
          auto dist = [&](const ReignEra* e) {
            return cur.year ? std::llabs(year_of(e) - *cur.year) : int64_t(0);
          };
          const ReignEra* best = c.front();
          auto better = [&](const ReignEra* a, const ReignEra* b) {  // a better than b?
            if (cur.year) {
              if (proclaimed) return dist(a) < dist(b);
              bool na = dist(a) <= 60, nb = dist(b) <= 60;
              if (na != nb) return na;
            }
            int va = regime_votes_.count(a->regime) ? regime_votes_.at(a->regime) : 0;
            int vb = regime_votes_.count(b->regime) ? regime_votes_.at(b->regime) : 0;
            if (va != vb) return va > vb;
            const bool ma = reign_regimes()[size_t(a->regime)].minor, mb = reign_regimes()[size_t(b->regime)].minor;
            if (ma != mb) return mb;
            return dist(a) < dist(b);
          };
          for (const ReignEra* e : c)
            if (better(e, best)) best = e;
          set_era(&m, best);
        }
      } else if (m.style == -4 && m.ganzhi >= 0) {
        m.year.reset();
        if (cur.year) {
          int64_t base = *cur.year;
          int64_t d = ((m.ganzhi - ganzhi_of_year(base)) % 60 + 60) % 60;  // years forward to that 干支
          m.year = d <= 30 ? base + d : base + d - 60;
        }
      }
      if (m.other_time) continue;
      if (m.relative()) {
        if (!cur.year || paragraph_of(m.start) == rejected_paragraph) continue;
        int add_years = m.rel_years;
        int months = m.rel_months;
        if (cur.month) {
          months += m.rel_days / 30;
          int mo = cur.month + months;
          while (mo > 12) mo -= 12, ++add_years;
          cur.month = mo;
        } else {
          add_years += months / 12;
        }
        if (m.rel_years) cur.month = 0;
        if (m.month) cur.month = m.month;
        if (add_years > 0) {
          *cur.year += add_years;
          cur.rel_years += add_years;
          if (cur.moves.size() < 40) cur.moves += (cur.moves.empty() ? U"" : U"、") + m.text;
        }
        continue;
      }
      if (m.year) {
        const int64_t y = *m.year;
        auto accept = [&] {
          cur.year = y;
          cur.anchor_year = y;
          cur.month = m.month;
          cur.chapter = ch.ordinal;
          cur.quote = m.text;
          cur.style = m.style;
          cur.moves.clear();
          cur.rel_years = 0;
          if (!first_year_) first_year_ = y;
        };
        if (!cur.year || y > *cur.year || (y == *cur.year && m.month >= cur.month)) {
          accept();
          continue;
        }
        if (y == *cur.year) {  // the same year, an earlier month: only an earlier season is a contradiction
          if (m.month && cur.month && m.season < month_season(cur.month) && cur.rel_years == 0 &&
              m.style == cur.style &&
              reported.insert({1, y * 100 + m.season}).second) {
            CheckFinding fd;
            fd.chapter = ch.ordinal;
            fd.start = int64_t(m.start);
            fd.end = int64_t(m.end);
            fd.kind = kKindTimeline;
            fd.subject = kSubject;
            fd.message = "时间倒流：上文" + k_.label(cur.chapter) + "已到" + to_utf8(cur.quote) + "，此处却是" +
                         to_utf8(m.text) + "（同年而季节更早）";
            auto [sb, se] = sentence_around(ch.body, m.start, m.end);
            fd.evidence = to_utf8(std::u32string_view(ch.body).substr(sb, se - sb)) + " ｜ 前文时间：" +
                          k_.label(cur.chapter) + "「" + to_utf8(cur.quote) + "」";
            found_[ch.ordinal].push_back(std::move(fd));
          }
          continue;
        }
        // Earlier than the clock.
        rejected_paragraph = paragraph_of(m.start);
        // A year well before the story's first one is a historical reference (a house built under 乾隆 in a
        // book set in 2019), not the story's time.
        if (first_year_ && y < *first_year_ - kHistoryYears) continue;
        // A year framed as the present (时值宣和元年) is checked as it stands. Otherwise it may be a recap: the
        // text returns to a year at least as late within kRecapSpan, or it is one of several earlier years close
        // together (建安七年…建安八年…, a biography); and a year only one earlier than the last one stated is
        // within the looseness of narration that interleaves several places.
        bool recap = false;
        if (!m.present) {
          for (size_t j = i + 1; j < ms.size() && ms[j].start < m.start + kRecapSpan; ++j)
            if (!ms[j].other_time && !ms[j].relative() && ms[j].year &&
                (*ms[j].year >= *cur.anchor_year || *ms[j].year != y))
              recap = true;
          for (size_t j = i; j-- > 0 && ms[j].end + kRecapSpan > m.start;)
            if (!ms[j].other_time && !ms[j].relative() && ms[j].year && *ms[j].year < *cur.anchor_year &&
                *ms[j].year != y)
              recap = true;
          if (*cur.anchor_year - y < 2 && cur.rel_years == 0) recap = true;
        }
        if (recap) continue;
        const bool by_anchor = y < *cur.anchor_year;
        if (!reported.insert({by_anchor ? 2 : 3, y}).second) continue;
        CheckFinding fd;
        fd.chapter = ch.ordinal;
        fd.start = int64_t(m.start);
        fd.end = int64_t(m.end);
        fd.kind = kKindTimeline;
        fd.subject = kSubject;
        const std::string where = ch.ordinal == cur.chapter ? "上文" : "上文" + k_.label(cur.chapter);
        if (by_anchor)
          fd.message = "时间倒流：" + where + "已到" + to_utf8(cur.quote) + "，此处却是" + to_utf8(m.text) + "，早了" +
                       std::to_string(*cur.anchor_year - y) + "年";
        else
          fd.message = "时间倒流：" + where + "已到" + to_utf8(cur.quote) + "，其后又过了" +
                       std::to_string(cur.rel_years) + "年（" + to_utf8(cur.moves) + "），应在" +
                       to_utf8(year_in_style(cur.style, *cur.year)) + "或之后，此处却是" + to_utf8(m.text);
        auto [sb, se] = sentence_around(ch.body, m.start, m.end);
        fd.evidence = to_utf8(std::u32string_view(ch.body).substr(sb, se - sb)) + " ｜ 前文时间：" +
                      k_.label(cur.chapter) + "「" + to_utf8(cur.quote) + "」" +
                      (cur.moves.empty() ? "" : "，其后「" + to_utf8(cur.moves) + "」");
        found_[ch.ordinal].push_back(std::move(fd));
      } else if (cur.year && cur.chapter == ch.ordinal && m.month > cur.month) {
        cur.month = m.month;  // a month later in the same chapter as the last year marker
      }
    }
  }
}

std::string TimelineCheck::state_before(int64_t ordinal) const {
  auto it = before_.find(ordinal);
  if (it == before_.end() || !it->second.year) return "";
  const Clock& c = it->second;
  return std::to_string(*c.year) + "/" + std::to_string(c.month) + "@" + std::to_string(c.chapter) + "+" +
         std::to_string(c.rel_years);
}

void TimelineCheck::run(const CheckChapter& ch, std::vector<CheckFinding>* out) const {
  if (auto it = found_.find(ch.ordinal); it != found_.end())
    for (const auto& f : it->second) out->push_back(f);
  auto mit = markers_.find(ch.ordinal);
  if (mit == markers_.end() || timeline_facts_.empty()) return;
  auto emit = [&](const TimeMarker& m, const std::string& msg, const std::string& ev) {
    CheckFinding f;
    f.chapter = ch.ordinal;
    f.start = int64_t(m.start);
    f.end = int64_t(m.end);
    f.kind = kKindTimeline;
    f.subject = kSubject;
    f.message = msg;
    auto [sb, se] = sentence_around(ch.body, m.start, m.end);
    f.evidence = to_utf8(std::u32string_view(ch.body).substr(sb, se - sb)) + " ｜ " + ev;
    out->push_back(std::move(f));
  };
  // Against the recorded time of this chapter.
  for (const TimeMarker& m : mit->second) {
    if (m.other_time || m.relative()) continue;
    for (const storage::Fact* f : timeline_facts_) {
      if (!f->holds_at(ch.ordinal)) continue;
      std::u32string v = to_u32(f->value);
      std::string ev = "事实#" + std::to_string(f->id) + "：时间线 " + f->predicate + "=" + f->value;
      if ((f->predicate == "季节" || f->predicate == "season") && m.season && !v.empty()) {
        int rec = 0;
        for (char32_t c : v)
          if (!rec) rec = season_of(c);
        if (rec && rec != m.season)
          emit(m,
               "季节不符：" + k_.label(ch.ordinal) + "记录为" + season_name(rec) + "季，此处写作「" +
                   to_utf8(m.text) + "」",
               ev);
      } else if ((f->predicate == "月份" || f->predicate == "month") && m.month) {
        int rec = 0;
        month_at(v + U"月", 0, &rec);
        if (!rec) month_at(v, 0, &rec);
        if (rec && rec != m.month && !(m.month == season_month(m.season) && month_season(rec) == m.season))
          emit(m, "月份不符：" + k_.label(ch.ordinal) + "记录为" + f->value + "，此处写作「" + to_utf8(m.text) + "」",
               ev);
      } else if ((f->predicate == "年份" || f->predicate == "year") && m.year) {
        auto rm = extract_time_markers(v);
        std::optional<int64_t> rec;
        if (!rm.empty() && rm[0].year) rec = rm[0].year;
        else if (auto n = parse_number(v)) rec = n;
        if (rec && *rec != *m.year)
          emit(m, "年份不符：" + k_.label(ch.ordinal) + "记录为" + f->value + "，此处写作「" + to_utf8(m.text) + "」",
               ev);
      }
    }
  }
}

}  // namespace cj::check
