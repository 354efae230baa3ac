#include "studio/check/timeline_check.h"

#include <algorithm>

namespace cj::check {

namespace {

struct Era {
  std::u32string_view name;
  int start;  // AD year of 元年
};
// Eastern Han, Three Kingdoms and Western Jin eras (三国演义).
const Era kEras[] = {
    {U"建宁", 168}, {U"熹平", 172}, {U"光和", 178}, {U"中平", 184}, {U"光熹", 189}, {U"昭宁", 189},
    {U"永汉", 189}, {U"初平", 190}, {U"兴平", 194}, {U"建安", 196}, {U"延康", 220}, {U"黄初", 220},
    {U"太和", 227}, {U"青龙", 233}, {U"景初", 237}, {U"正始", 240}, {U"嘉平", 249}, {U"正元", 254},
    {U"甘露", 256}, {U"景元", 260}, {U"咸熙", 264}, {U"章武", 221}, {U"建兴", 223}, {U"延熙", 238},
    {U"景耀", 258}, {U"炎兴", 263}, {U"黄武", 222}, {U"黄龙", 229}, {U"嘉禾", 232}, {U"赤乌", 238},
    {U"太元", 251}, {U"神凤", 252}, {U"五凤", 254}, {U"太平", 256}, {U"永安", 258}, {U"元兴", 264},
    {U"宝鼎", 266}, {U"建衡", 269}, {U"凤凰", 272}, {U"天册", 275}, {U"天玺", 276},
    {U"天纪", 277}, {U"泰始", 265}, {U"咸宁", 275}, {U"太康", 280}};

const char32_t* const kOtherTime[] = {U"去年", U"明年", U"前年", U"来年", U"当年", U"那年", U"往年", U"每年",
                                      U"旧年", U"昔", U"曾", U"原来", U"以来", U"先是", U"向年", U"当初", U"起初",
                                      U"自从", U"始于", U"建安初", U"前番", U"之时", U"那时", U"至今", U"已经", U"后来", U"将来"};

bool starts_with(std::u32string_view t, size_t pos, std::u32string_view w) {
  return t.size() >= pos + w.size() && t.compare(pos, w.size(), w) == 0;
}
bool is_numeral(char32_t c) {
  return (c >= U'0' && c <= U'9') || (c >= U'０' && c <= U'９') ||
         std::u32string_view(U"零〇一二三四五六七八九十廿").find(c) != std::u32string_view::npos;
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

// Month at t[p] ("三月", "十二月", "正月", "腊月", "冬月"); returns its length and the month.
size_t month_at(std::u32string_view t, size_t p, int* month) {
  if (starts_with(t, p, U"正月")) { *month = 1; return 2; }
  if (starts_with(t, p, U"腊月")) { *month = 12; return 2; }
  size_t e = p;
  while (e < t.size() && e - p < 3 && is_numeral(t[e])) ++e;
  if (e == p || e >= t.size() || t[e] != U'月') return 0;
  auto n = parse_number(t.substr(p, e - p));
  if (!n || *n < 1 || *n > 12) return 0;
  // not a duration: 三月有余, 三月之久, 数月
  if (starts_with(t, e + 1, U"有余") || starts_with(t, e + 1, U"之久") || starts_with(t, e + 1, U"余")) return 0;
  if (p > 0 && (t[p - 1] == U'个' || t[p - 1] == U'数' || t[p - 1] == U'几' || t[p - 1] == U'半' ||
                t[p - 1] == U'了' || is_numeral(t[p - 1])))
    return 0;
  *month = int(*n);
  return e + 1 - p;
}

struct Festival {
  std::u32string_view name;
  int month;
};
const Festival kFestivals[] = {{U"元宵", 1}, {U"上元", 1}, {U"元旦", 1}, {U"清明", 3}, {U"端午", 5},
                               {U"端阳", 5}, {U"七夕", 7}, {U"乞巧", 7}, {U"中秋", 8}, {U"重阳", 9},
                               {U"重九", 9}, {U"除夕", 12}};

const char32_t* const kSeasonPrefix[] = {U"时值", U"正值", U"时当", U"正是", U"又值", U"时逢", U"正当", U"值此"};
const char32_t kSeasonMod[] = U"初仲暮深隆残孟季盛早晚";
const char32_t kSeasonSuffix[] = U"天季";

}  // namespace

std::vector<TimeMarker> extract_time_markers(std::u32string_view t, const NameIndex* names) {
  std::vector<TimeMarker> out;
  for (size_t p = 0; p < t.size();) {
    if (!is_han(t[p]) && !(t[p] >= U'0' && t[p] <= U'9')) {
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
    size_t e = p;
    // Era year.
    for (const Era& era : kEras) {
      if (!starts_with(t, p, era.name)) continue;
      if (era.name == U"甘露" && p >= 2 && (starts_with(t, p - 2, U"改为") || starts_with(t, p - 2, U"改元")))
        break;  // 孙皓改元甘露 (265) is not Wei's 甘露 (256)
      size_t q = p + era.name.size();
      size_t nb = q;
      if (q < t.size() && t[q] == U'元') ++q;
      else
        while (q < t.size() && q - nb < 4 && is_numeral(t[q])) ++q;
      if (q == nb || q >= t.size() || t[q] != U'年') break;
      auto n = parse_number(t.substr(nb, q - nb));
      if (!n) break;
      m.year = era.start + *n - 1;
      e = q + 1;
      break;
    }
    // Four-digit year.
    if (!m.year && t[p] >= U'0' && t[p] <= U'9') {
      size_t q = p;
      while (q < t.size() && t[q] >= U'0' && t[q] <= U'9') ++q;
      if (q - p == 4 && q < t.size() && t[q] == U'年' && (p == 0 || !(t[p - 1] >= U'0' && t[p - 1] <= U'9'))) {
        m.year = *parse_number(t.substr(p, 4));
        e = q + 1;
      }
    }
    if (m.year) {  // 建安十三年冬十月, 建安三年春
      if (e < t.size() && season_of(t[e])) m.season = season_of(t[e++]);
      int mo = 0;
      if (size_t l = month_at(t, e, &mo)) {
        m.month = mo;
        e += l;
      }
    } else {
      int mo = 0;
      if (size_t l = month_at(t, p, &mo)) {
        m.month = mo;
        e = p + l;
      } else {
        for (const Festival& f : kFestivals)
          if (starts_with(t, p, f.name)) {
            m.month = f.month;
            e = p + f.name.size();
            break;
          }
        if (!m.month) {
          size_t q = p;
          bool prefixed = false;
          for (const char32_t* pre : kSeasonPrefix)
            if (starts_with(t, q, pre)) {
              q += std::u32string_view(pre).size();
              prefixed = true;
              break;
            }
          bool mod = false;
          if (q < t.size() && std::u32string_view(kSeasonMod).find(t[q]) != std::u32string_view::npos &&
              q + 1 < t.size() && season_of(t[q + 1])) {
            ++q;
            mod = true;
          }
          if (q < t.size() && season_of(t[q])) {
            int s = season_of(t[q]);
            bool suffix = q + 1 < t.size() &&
                          std::u32string_view(kSeasonSuffix).find(t[q + 1]) != std::u32string_view::npos;
            if (prefixed || mod || suffix) {
              m.season = s;
              e = q + 1 + (suffix ? 1 : 0);
            }
          }
        }
      }
    }
    if (!m.year && !m.month && !m.season) {
      ++p;
      continue;
    }
    if (!m.month && m.season) m.month = season_month(m.season);
    if (!m.season && m.month) m.season = month_season(m.month);
    m.end = e;
    m.text = std::u32string(t.substr(m.start, e - m.start));
    auto [sb, se] = sentence_around(t, m.start, m.end);
    std::u32string_view sentence = t.substr(sb, se - sb);
    for (const char32_t* w : kOtherTime)
      if (sentence.find(w) != std::u32string_view::npos) m.other_time = true;
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
  State cur;
  for (const auto& ch : chapters) {
    before_[ch.ordinal] = cur;
    auto ms = extract_time_markers(ch.body, &names_);
    for (const auto& m : ms) {
      if (m.other_time) continue;
      if (m.year) {
        // The story moves on only forward: a flashback marker never rewinds the state.
        if (!cur.year || *m.year > *cur.year || (*m.year == *cur.year && m.month >= cur.month)) {
          cur.year = m.year;
          cur.month = m.month;
          cur.chapter = ch.ordinal;
          cur.quote = to_utf8(m.text);
        }
      } else if (cur.year && cur.chapter == ch.ordinal && m.month > cur.month) {
        cur.month = m.month;  // a month later in the same chapter as the last year marker
      }
    }
    markers_[ch.ordinal] = std::move(ms);
  }
}

std::string TimelineCheck::state_before(int64_t ordinal) const {
  auto it = before_.find(ordinal);
  if (it == before_.end() || !it->second.year) return "";
  return std::to_string(*it->second.year) + "/" + std::to_string(it->second.month) + "@" +
         std::to_string(it->second.chapter);
}

void TimelineCheck::run(const CheckChapter& ch, std::vector<CheckFinding>* out) const {
  auto mit = markers_.find(ch.ordinal);
  if (mit == markers_.end()) return;
  State prev;
  if (auto it = before_.find(ch.ordinal); it != before_.end()) prev = it->second;
  auto emit = [&](const TimeMarker& m, const std::string& msg, const std::string& ev) {
    CheckFinding f;
    f.chapter = ch.ordinal;
    f.start = int64_t(m.start);
    f.end = int64_t(m.end);
    f.kind = kKindTimeline;
    f.message = msg;
    auto [sb, se] = sentence_around(ch.body, m.start, m.end);
    f.evidence = to_utf8(std::u32string_view(ch.body).substr(sb, se - sb)) + " ｜ " + ev;
    out->push_back(std::move(f));
  };
  bool first_year = true;
  for (const TimeMarker& m : mit->second) {
    if (m.other_time) continue;
    // Backwards against the previous chapters (only the chapter's first dated marker: later ones in the same
    // chapter are often recollections of how things came about).
    if (m.year && first_year) {
      first_year = false;
      // A recap (建安七年，曹操破袁绍…) returns to the present soon after (within kRecapSpan code points).
      constexpr size_t kRecapSpan = 600;
      bool returns = false;
      for (const TimeMarker& later : mit->second)
        if (later.start > m.start && later.start < m.start + kRecapSpan && !later.other_time && later.year && prev.year && *later.year >= *prev.year)
          returns = true;
      if (!returns && prev.year && (*m.year + 2 < *prev.year || (*m.year == *prev.year && m.month && prev.month &&
                                                 m.month < prev.month && m.season < month_season(prev.month)))) {
        emit(m,
             "时间倒流：此处写作「" + to_utf8(m.text) + "」，早于前文" + k_.label(prev.chapter) + "已到的「" +
                 prev.quote + "」",
             "前文时间：" + k_.label(prev.chapter) + "「" + prev.quote + "」");
        continue;
      }
    }
    // Against the recorded time of this chapter.
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
