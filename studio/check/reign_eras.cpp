#include "studio/check/reign_eras.h"

#include <mutex>
#include <unordered_map>

#include <unicode/translit.h>
#include <unicode/unistr.h>

#include "engine/base/result.h"
#include "studio/check/check_types.h"

namespace cj::check {

namespace {

const char* const kEraData =
#include "studio/check/reign_eras.inc"
    ;

struct Table {
  std::vector<Regime> regimes;
  std::vector<ReignEra> eras;
  std::unordered_map<std::u32string, std::vector<size_t>> by_name;
  size_t max_len = 0;
  size_t distinct = 0;
};

int64_t astronomical(int64_t historical) { return historical < 0 ? historical + 1 : historical; }

const Table& table() {
  static const Table t = [] {
    Table t;
    std::string_view data(kEraData);
    size_t pos = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      if (nl == std::string_view::npos) nl = data.size();
      std::string_view line = data.substr(pos, nl - pos);
      pos = nl + 1;
      std::vector<std::string> words;
      for (size_t i = 0; i < line.size();) {
        while (i < line.size() && line[i] == ' ') ++i;
        size_t j = i;
        while (j < line.size() && line[j] != ' ') ++j;
        if (j > i) words.emplace_back(line.substr(i, j - i));
        i = j;
      }
      if (words.empty()) continue;
      if (words[0][0] == '@') {
        Regime r;
        r.name = words[0].substr(1);
        if (!r.name.empty() && r.name.back() == '*') r.minor = true, r.name.pop_back();
        for (size_t i = 1; i < words.size(); ++i) r.prefixes.push_back(fold_han(to_u32(words[i])));
        t.regimes.push_back(std::move(r));
        continue;
      }
      CJ_ASSERT(words.size() == 3 && !t.regimes.empty());
      ReignEra e;
      e.regime = int(t.regimes.size()) - 1;
      e.first = astronomical(std::stoll(words[1]));
      e.last = astronomical(std::stoll(words[2]));
      e.index = int(t.distinct++);
      CJ_ASSERT(e.last >= e.first);
      for (size_t b = 0; b <= words[0].size();) {  // 大和/太和: one era, two spellings
        size_t slash = std::min(words[0].find('/', b), words[0].size());
        e.name = fold_han(to_u32(words[0].substr(b, slash - b)));
        b = slash + 1;
        auto& same = t.by_name[e.name];
        if (!same.empty() && t.eras[same.back()].index == e.index) continue;  // 昇明/升明 fold to one spelling
        same.push_back(t.eras.size());
        t.max_len = std::max(t.max_len, e.name.size());
        t.eras.push_back(e);
      }
    }
    return t;
  }();
  return t;
}

constexpr std::u32string_view kStems = U"甲乙丙丁戊己庚辛壬癸";
constexpr std::u32string_view kBranches = U"子丑寅卯辰巳午未申酉戌亥";

}  // namespace

const std::vector<Regime>& reign_regimes() { return table().regimes; }
const std::vector<ReignEra>& reign_eras() { return table().eras; }

std::vector<const ReignEra*> eras_named(std::u32string_view name) {
  std::vector<const ReignEra*> out;
  const Table& t = table();
  auto it = t.by_name.find(std::u32string(name));
  if (it != t.by_name.end())
    for (size_t i : it->second) out.push_back(&t.eras[i]);
  return out;
}

size_t longest_era_at(std::u32string_view text, size_t pos) {
  const Table& t = table();
  for (size_t len = std::min(t.max_len, text.size() - std::min(pos, text.size())); len >= 2; --len)
    if (t.by_name.count(std::u32string(text.substr(pos, len)))) return len;
  return 0;
}

char32_t fold_han(char32_t c) {
  if (c < 0x3400 || c == U'乾') return c;
  static std::mutex mu;
  static std::unordered_map<char32_t, char32_t> cache;
  static icu::Transliterator* tr = [] {
    UErrorCode st = U_ZERO_ERROR;
    icu::Transliterator* t = icu::Transliterator::createInstance("Traditional-Simplified", UTRANS_FORWARD, st);
    return U_SUCCESS(st) ? t : nullptr;
  }();
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(c);
  if (it != cache.end()) return it->second;
  char32_t out = c;
  if (tr) {
    icu::UnicodeString s = icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(&c), 1);
    tr->transliterate(s);
    if (s.countChar32() == 1) out = char32_t(s.char32At(0));
  }
  cache.emplace(c, out);
  return out;
}

std::u32string fold_han(std::u32string_view s) {
  std::u32string out(s);
  for (char32_t& c : out) c = fold_han(c);
  return out;
}

int ganzhi_of_year(int64_t year) { return int(((year - 4) % 60 + 60) % 60); }

int ganzhi_at(std::u32string_view t, size_t p) {
  if (p + 1 >= t.size()) return -1;
  size_t s = kStems.find(t[p]), b = kBranches.find(t[p + 1]);
  if (s == std::u32string_view::npos || b == std::u32string_view::npos) return -1;
  // the index i with i % 10 == s and i % 12 == b (exists only when s and b have the same parity)
  for (int i = int(s); i < 60; i += 10)
    if (i % 12 == int(b)) return i;
  return -1;
}

std::u32string ganzhi_name(int index) {
  if (index < 0) return U"";
  return std::u32string{kStems[size_t(index % 10)], kBranches[size_t(index % 12)]};
}

std::u32string chinese_number(int64_t n) {
  static const char32_t* d = U"零一二三四五六七八九";
  if (n < 0) return U"负" + chinese_number(-n);
  if (n < 10) return std::u32string(1, d[n]);
  if (n < 20) return std::u32string(U"十") + (n % 10 ? std::u32string(1, d[n % 10]) : U"");
  if (n < 100) return std::u32string(1, d[n / 10]) + U"十" + (n % 10 ? std::u32string(1, d[n % 10]) : U"");
  std::u32string out;
  for (char32_t c : std::to_string(n)) out += d[c - '0'];
  return out;
}

std::u32string era_year_text(const ReignEra& era, int64_t year) {
  int64_t n = year - era.first + 1;
  return era.name + (n == 1 ? std::u32string(U"元") : chinese_number(n)) + U"年";
}

}  // namespace cj::check
