// The timeline check (studio/check/timeline_check.h): the era table against the standard chronological tables,
// time markers of every kind (traditional characters too), the story clock with relative moves, the findings'
// wording, and the evaluation (eval timeline) on committed text: 三国演义 and a modern book written for the test.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

#include "engine/base/file.h"
#include "storage/chapter_splitter.h"
#include "storage/chapters.h"
#include "studio/check/reign_eras.h"
#include "studio/check/timeline_check.h"
#include "studio/check/timeline_eval.h"

namespace cj::check {
namespace {

// ---- the era table ----

std::map<std::string, int> eras_per_regime() {
  std::map<std::string, std::set<int>> distinct;
  for (const auto& e : reign_eras()) distinct[reign_regimes()[size_t(e.regime)].name].insert(e.index);
  std::map<std::string, int> n;
  for (const auto& [r, s] : distinct) n[r] = int(s.size());
  return n;
}

TEST(ReignEras, CountsPerDynastyAsInTheStandardTables) {
  // Era counts of the standard chronological tables (万国鼎《中国历史纪年表》; the 新华字典 appendix
  // 我国历代纪元表 for the dynasties it lists): 西汉 from 武帝's 建元 to 孺子婴's 初始 (with 哀帝's 太初元将),
  // 明 洪武…崇祯 17, 清 崇德…宣统 11 (after 后金's 天命, 天聪), 北宋 35, 南宋 22, 元 from 中统 16.
  auto n = eras_per_regime();
  EXPECT_EQ(n["西汉"], 38);
  EXPECT_EQ(n["新"], 3);
  EXPECT_EQ(n["东汉"], 39);
  EXPECT_EQ(n["曹魏"], 10);
  EXPECT_EQ(n["蜀汉"], 5);
  EXPECT_EQ(n["孙吴"], 18);
  EXPECT_EQ(n["西晋"], 16);
  EXPECT_EQ(n["东晋"], 19);
  EXPECT_EQ(n["刘宋"], 11);
  EXPECT_EQ(n["南齐"], 8);
  EXPECT_EQ(n["南梁"], 13);
  EXPECT_EQ(n["南陈"], 7);
  EXPECT_EQ(n["隋"], 5);
  EXPECT_EQ(n["北宋"], 35);
  EXPECT_EQ(n["南宋"], 22);
  EXPECT_EQ(n["元"], 16);
  EXPECT_EQ(n["明"], 17);
  EXPECT_EQ(n["后金"], 2);
  EXPECT_EQ(n["清"], 11);
  // Every regime between the Han and the Qing that proclaimed eras is there, the 十六国 and 十国 included.
  for (const char* r : {"前赵", "成汉", "后赵", "前燕", "前秦", "后燕", "后秦", "西秦", "后凉", "南凉", "南燕",
                        "西凉", "北凉", "北燕", "胡夏", "北魏", "东魏", "西魏", "北齐", "北周", "唐", "武周",
                        "后梁", "后唐", "后晋", "后汉", "后周", "杨吴", "南唐", "吴越", "前蜀", "后蜀", "南汉",
                        "闽", "北汉", "辽", "西夏", "金", "南明"})
    EXPECT_GT(n[r], 0) << r;
  size_t total = 0;
  for (const auto& [r, c] : n) total += size_t(c);
  EXPECT_GT(total, 600u);
}

int64_t start_of(const char32_t* name, const char* regime) {
  for (const ReignEra* e : eras_named(fold_han(name)))
    if (reign_regimes()[size_t(e->regime)].name == regime) return e->first;
  return -99999;
}

TEST(ReignEras, SampleStartYears) {
  // Astronomical years: 140 BC is -139.
  EXPECT_EQ(start_of(U"建元", "西汉"), -139);
  EXPECT_EQ(start_of(U"元始", "西汉"), 1);
  EXPECT_EQ(start_of(U"建武", "东汉"), 25);
  EXPECT_EQ(start_of(U"建安", "东汉"), 196);
  EXPECT_EQ(start_of(U"黄初", "曹魏"), 220);
  EXPECT_EQ(start_of(U"建兴", "蜀汉"), 223);
  EXPECT_EQ(start_of(U"建兴", "孙吴"), 252);
  EXPECT_EQ(start_of(U"太元", "东晋"), 376);
  EXPECT_EQ(start_of(U"建元", "前秦"), 365);
  EXPECT_EQ(start_of(U"元嘉", "刘宋"), 424);
  EXPECT_EQ(start_of(U"太和", "北魏"), 477);
  EXPECT_EQ(start_of(U"天监", "南梁"), 502);
  EXPECT_EQ(start_of(U"开皇", "隋"), 581);
  EXPECT_EQ(start_of(U"贞观", "唐"), 627);
  EXPECT_EQ(start_of(U"开元", "唐"), 713);
  EXPECT_EQ(start_of(U"大和", "唐"), 827);
  EXPECT_EQ(start_of(U"太和", "唐"), 827);
  EXPECT_EQ(start_of(U"长安", "武周"), 701);
  EXPECT_EQ(start_of(U"显德", "后周"), 954);
  EXPECT_EQ(start_of(U"统和", "辽"), 983);
  EXPECT_EQ(start_of(U"大中祥符", "北宋"), 1008);
  EXPECT_EQ(start_of(U"政和", "北宋"), 1111);
  EXPECT_EQ(start_of(U"宣和", "北宋"), 1119);
  EXPECT_EQ(start_of(U"绍兴", "南宋"), 1131);
  EXPECT_EQ(start_of(U"天盛", "西夏"), 1149);
  EXPECT_EQ(start_of(U"大定", "金"), 1161);
  EXPECT_EQ(start_of(U"至正", "元"), 1341);
  EXPECT_EQ(start_of(U"洪武", "明"), 1368);
  EXPECT_EQ(start_of(U"成化", "明"), 1465);
  EXPECT_EQ(start_of(U"嘉靖", "明"), 1522);
  EXPECT_EQ(start_of(U"万历", "明"), 1573);
  EXPECT_EQ(start_of(U"萬曆", "明"), 1573);  // traditional spelling, folded
  EXPECT_EQ(start_of(U"永历", "南明"), 1647);
  EXPECT_EQ(start_of(U"康熙", "清"), 1662);
  EXPECT_EQ(start_of(U"乾隆", "清"), 1736);
  EXPECT_EQ(start_of(U"光绪", "清"), 1875);
}

TEST(ReignEras, FoldingAndGanzhi) {
  EXPECT_EQ(fold_han(std::u32string(U"後來萬曆天啓崇禎民國")), U"后来万历天启崇祯民国");
  EXPECT_EQ(fold_han(std::u32string(U"乾隆乾坤")), U"乾隆乾坤");  // never 干隆
  EXPECT_EQ(ganzhi_name(ganzhi_of_year(1984)), U"甲子");
  EXPECT_EQ(ganzhi_name(ganzhi_of_year(184)), U"甲子");
  EXPECT_EQ(ganzhi_name(ganzhi_of_year(1937)), U"丁丑");
  EXPECT_EQ(ganzhi_at(U"甲子", 0), 0);
  EXPECT_EQ(ganzhi_at(U"甲丑", 0), -1);
  EXPECT_EQ(chinese_number(26), U"二十六");
  EXPECT_EQ(year_in_style(-2, 1938), U"民国二十七年");
  EXPECT_EQ(year_in_style(-3, 2020), U"2020年");
}

// ---- markers ----

std::optional<int64_t> first_year(std::u32string_view text) {
  auto m = extract_time_markers(text);
  for (const auto& x : m)
    if (x.year) return x.year;
  return std::nullopt;
}

TEST(TimeMarkers, YearsOfEveryKind) {
  EXPECT_EQ(first_year(U"时值宣和五年春，天下无事。"), 1123);
  EXPECT_EQ(first_year(U"大宋宣和元年，东京城里。"), 1119);
  EXPECT_EQ(first_year(U"明成化二年，江南大水。"), 1466);
  EXPECT_EQ(first_year(U"嘉靖甲子，倭寇犯境。"), 1564);
  EXPECT_EQ(first_year(U"萬曆三十年，京師大旱。"), 1602);
  EXPECT_EQ(first_year(U"天啓元年春正月。"), 1621);
  EXPECT_EQ(first_year(U"乾隆四十年，宅子落成。"), 1775);
  EXPECT_EQ(first_year(U"民國二十六年秋，苏州下雨。"), 1937);
  EXPECT_EQ(first_year(U"民国元年，剪了辫子。"), 1912);
  EXPECT_EQ(first_year(U"公元前202年，垓下。"), -201);
  EXPECT_EQ(first_year(U"公元184年，黄巾起事。"), 184);
  EXPECT_EQ(first_year(U"一九四九年四月，城头换了旗。"), 1949);
  EXPECT_EQ(first_year(U"2019年春节，书印出来了。"), 2019);
  EXPECT_FALSE(first_year(U"1990年代的街道。").has_value());
  EXPECT_FALSE(first_year(U"成化年间，有个书生。").has_value());
  EXPECT_FALSE(first_year(U"他活了三十五年。").has_value());
  auto m = extract_time_markers(U"这一年是甲子年，家里该添点喜气。");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].ganzhi, 0);
  EXPECT_FALSE(m[0].year.has_value());  // resolved against the story's year by the check
  EXPECT_TRUE(m[0].present);
  EXPECT_EQ(extract_time_markers(U"明成化二年").front().text, U"明成化二年");
}

TEST(TimeMarkers, MonthsSeasonsFestivalsSolarTerms) {
  auto m = extract_time_markers(U"建安十三年冬十月，曹操南征。次年正月。时值深秋。去年中秋，人在金陵。");
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(*m[0].year, 208);
  EXPECT_EQ(m[0].month, 10);
  EXPECT_EQ(m[1].rel_years, 1);  // 次年正月: a move of the clock with its month
  EXPECT_EQ(m[1].month, 1);
  EXPECT_EQ(m[2].season, 3);
  EXPECT_TRUE(m[3].other_time);
  EXPECT_EQ(extract_time_markers(U"那年冬至，雪下得很大。").front().month, 11);
  EXPECT_EQ(extract_time_markers(U"时值大雪，路上无人。").front().month, 11);
  EXPECT_TRUE(extract_time_markers(U"窗外下着大雪。").empty());      // weather, not the solar term
  EXPECT_TRUE(extract_time_markers(U"三月有余，三个月后。").size() == 1);  // only the move 三个月后
  EXPECT_EQ(extract_time_markers(U"重陽那天").front().month, 9);
}

TEST(TimeMarkers, RelativeMovesAndOtherTimes) {
  auto rel = [](std::u32string_view t) {
    auto m = extract_time_markers(t);
    return m.empty() ? std::array<int, 3>{-1, -1, -1}
                     : std::array<int, 3>{m[0].rel_years, m[0].rel_months, m[0].rel_days};
  };
  EXPECT_EQ(rel(U"次日一早，便去码头。"), (std::array<int, 3>{0, 0, 1}));
  EXPECT_EQ(rel(U"三日后，雇了一条船。"), (std::array<int, 3>{0, 0, 3}));
  EXPECT_EQ(rel(U"过了半年，进了学堂。"), (std::array<int, 3>{0, 6, 0}));
  EXPECT_EQ(rel(U"翌年端午，来提亲。"), (std::array<int, 3>{1, 0, 0}));
  EXPECT_EQ(rel(U"两年后的除夕。"), (std::array<int, 3>{2, 0, 0}));
  EXPECT_EQ(rel(U"又过了三个月，信来了。"), (std::array<int, 3>{0, 3, 0}));
  EXPECT_TRUE(extract_time_markers(U"“建安五年，吾在许都。”").front().other_time);  // dialogue
  EXPECT_TRUE(extract_time_markers(U"他想起宣和元年的事。").front().other_time);
  EXPECT_FALSE(extract_time_markers(U"时当初平二年，众人歇息。").front().other_time);  // 当初 is not a word here
}

// ---- the check on small books ----

struct Book {
  BookKnowledge k;
  std::vector<CheckChapter> chapters;
};
Book book(std::vector<std::u32string> bodies) {
  Book b;
  int64_t ord = 0;
  for (auto& body : bodies) {
    ++ord;
    b.k.labels[ord] = "第" + to_utf8(chinese_number(ord)) + "回";
    b.chapters.push_back({ord, std::move(body)});
  }
  return b;
}
std::vector<CheckFinding> check(const Book& b) {
  NameIndex names(b.k);
  TimelineCheck tl(b.k, names);
  tl.prepare(b.chapters);
  std::vector<CheckFinding> out;
  for (const auto& ch : b.chapters) tl.run(ch, &out);
  return out;
}

TEST(TimelineCheckBook, BackwardEraYearSaysWhatWasExpected) {
  auto b = book({U"宣和元年，东京城里花灯正盛。", U"宣和五年春，梁山泊上又聚了许多好汉。众人饮酒。",
                 U"众人商议已定。\n时值宣和元年春，城中一片安静。又说时值宣和元年春，街上无人。"});
  auto f = check(b);
  ASSERT_EQ(f.size(), 1u);  // one per contradiction, though the chapter says it twice
  EXPECT_EQ(f[0].chapter, 3);
  EXPECT_EQ(f[0].kind, kKindTimeline);
  EXPECT_EQ(f[0].subject, "时间线");
  EXPECT_NE(f[0].message.find("上文第二回已到宣和五年春，此处却是宣和元年春"), std::string::npos) << f[0].message;
  EXPECT_EQ(to_utf8(std::u32string_view(b.chapters[2].body).substr(size_t(f[0].start), size_t(f[0].end - f[0].start))),
            "宣和元年春");
}

TEST(TimelineCheckBook, RelativeMovesAreCheckedAgainstTheNextYear) {
  auto b = book({U"宣和五年春，众人上山。", U"次年，朝廷招安。", U"过了两年，兵马南下。",
                 U"时值宣和六年秋，城中一片安静。"});
  auto f = check(b);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].chapter, 4);
  EXPECT_NE(f[0].message.find("上文第一回已到宣和五年春，其后又过了3年（次年、过了两年），应在靖康元年或之后，此处却是宣和六年秋"),
            std::string::npos)
      << f[0].message;
  // Without the moves the same year is fine.
  EXPECT_TRUE(check(book({U"宣和五年春，众人上山。", U"时值宣和六年秋，城中一片安静。"})).empty());
}

TEST(TimelineCheckBook, FlashbacksRecapsDialogueAndHistoryAreExempt) {
  EXPECT_TRUE(check(book({U"宣和五年春，众人上山。", U"他想起宣和元年的事，不觉泪下。",
                          U"宋江道：“宣和二年，我在郓城做押司。”", U"宣和二年，晁盖劫了生辰纲，后来上了山。"
                          U"其后诸事，不必细说。宣和五年秋，朝廷又遣使来。"}))
                  .empty());
  // A house built under 乾隆 in a book set in 1937-2019: before the story's first year, a historical reference.
  EXPECT_TRUE(check(book({U"民国二十六年秋，苏州下雨。", U"1952年夏，上了小学。这座宅子建于乾隆四十年。"})).empty());
}

TEST(TimelineCheckBook, SharedEraNamesFollowTheBook) {
  // 天顺 is 元's (1328) and 明's (1457): a 明 book means 明.
  Book b = book({U"洪武元年，太祖登基。", U"永乐三年，郑和下西洋。", U"正统十四年秋，土木之变。",
                 U"时值天顺二年，京城无事。"});
  EXPECT_TRUE(check(b).empty());
  NameIndex names(b.k);
  TimelineCheck tl(b.k, names);
  tl.prepare(b.chapters);
  EXPECT_EQ(*tl.markers().at(4).front().year, 1458);
  // 改元甘露 in 265 is 孙吴's 甘露, not 曹魏's (256).
  Book c = book({U"景元五年，司马昭为晋王。", U"咸熙元年，吴主孙皓即位，改元甘露元年。"});
  EXPECT_TRUE(check(c).empty());
}

TEST(TimelineCheckBook, TraditionalText) {
  auto f = check(book({U"萬曆二十年，倭寇犯朝鮮。", U"時值萬曆十五年，京師無事。"}));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("此处却是萬曆十五年"), std::string::npos) << f[0].message;
}

TEST(TimelineCheckBook, GanzhiYearResolvedAgainstTheStory) {
  // 丙子 before 1937 (丁丑) is 1936: a year back.
  auto f = check(book({U"民国二十六年秋，苏州下雨。", U"时值丙子年，城中一片安静。"}));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(check(book({U"民国二十六年秋，苏州下雨。", U"时值戊寅年，城中一片安静。"})).empty());
}

// ---- evaluation on committed text ----

std::vector<CheckChapter> load(const std::string& path, BookKnowledge* k) {
  auto t = read_file(path);
  CJ_ASSERT(t.ok());
  std::string s;
  for (char c : *t)
    if (c != '\r') s += c;
  auto split = storage::split_chapters(s);
  std::vector<CheckChapter> out;
  int64_t ord = 0;
  for (const auto& c : split.chapters) {
    storage::ChapterInfo info;
    info.ordinal = ++ord;
    info.heading = c.heading;
    info.title = c.title;
    k->labels[ord] = storage::chapter_label(info);
    out.push_back({ord, to_u32(c.body)});
  }
  return out;
}

void expect_eval(const std::string& path, int min_chapters) {
  BookKnowledge k;
  auto chs = load(path, &k);
  ASSERT_GE(int(chs.size()), min_chapters);
  int found = 0, injected = 0;
  TimelineEvalResult r;
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    TimelineEvalOptions o;
    o.seed = seed;
    r = eval_timeline(chs, k, o);
    found += r.found;
    injected += int(r.injections.size());
    for (const auto& i : r.injections)
      if (!i.found) std::printf("[timeline] missed %s：%s（前文 %s）\n", k.label(i.chapter).c_str(), i.sentence.c_str(), i.clock.c_str());
  }
  for (const auto& f : r.original_findings)
    std::printf("[timeline] original finding %s：%s\n", k.label(f.chapter).c_str(), f.message.c_str());
  std::printf("[timeline] %s: %d chapters, recall %d/%d = %.3f over seeds 1-5, %zu findings on the unmodified book "
              "(%.2f per 100 chapters)\n",
              path.c_str(), r.chapters, found, injected, double(found) / injected, r.original_findings.size(),
              r.findings_per_100());
  EXPECT_GE(injected, 5 * 20);
  EXPECT_GE(double(found) / injected, 0.9);
  EXPECT_LE(r.findings_per_100(), 2.0);
}

TEST(TimelineEval, Sanguo) { expect_eval(std::string(CJ_TEST_DATA) + "/novels/三国演义.txt", 120); }
TEST(TimelineEval, ModernBook) { expect_eval(std::string(CJ_TEST_DATA) + "/timeline/沈家旧事.txt", 30); }

TEST(TimelineEval, BookWithoutYearsInjectsNothing) {
  BookKnowledge k;
  auto chs = load(std::string(CJ_TEST_DATA) + "/novels/红楼梦.txt", &k);
  auto r = eval_timeline(chs, k, {});
  EXPECT_TRUE(r.injections.empty());
  EXPECT_LE(r.findings_per_100(), 2.0);
}

}  // namespace
}  // namespace cj::check
