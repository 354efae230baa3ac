#include "storage/chapter_splitter.h"

#include <array>

#include "engine/base/utf8.h"

namespace cj::storage {
namespace {

constexpr std::u32string_view kNumerals = U"〇零一二三四五六七八九十百千万两壹贰叁肆伍陆柒捌玖拾佰仟0123456789０１２３４５６７８９";
constexpr std::u32string_view kUnits = U"章回节卷部篇集幕话";
constexpr std::u32string_view kSeparators = U" \t　：:、.．·—-";
constexpr std::array<std::u32string_view, 12> kSpecial = {U"楔子", U"序章", U"序言", U"序幕", U"引子", U"引言",
                                                          U"前言", U"尾声", U"终章", U"后记", U"番外", U"序"};

bool in(std::u32string_view set, char32_t c) { return set.find(c) != std::u32string_view::npos; }
bool is_space(char32_t c) { return c == U' ' || c == U'\t' || c == U'　'; }

std::u32string decode(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const int n = utf8::decode(s, i, &cp);
    out += n ? static_cast<char32_t>(cp) : U'\uFFFD';
    i += n ? static_cast<size_t>(n) : 1;
  }
  return out;
}

std::string encode(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) utf8::append(out, static_cast<uint32_t>(c));
  return out;
}

std::u32string_view trim(std::u32string_view s, std::u32string_view set) {
  while (!s.empty() && in(set, s.front())) s.remove_prefix(1);
  while (!s.empty() && in(set, s.back())) s.remove_suffix(1);
  return s;
}

std::string_view strip_markdown(std::string_view line) {
  size_t h = 0;
  while (h < line.size() && line[h] == '#') ++h;
  if (h >= 1 && h <= 6 && h < line.size() && line[h] == ' ') return line.substr(h + 1);
  return line;
}

bool is_blank(std::string_view line) { return trim(decode(line), kSeparators).empty(); }

// 1 → 一, 21 → 二十一, 105 → 一百零五, 1010 → 一千零一十 (up to 9999).
std::u32string chinese_number(int64_t n) {
  constexpr std::u32string_view kDigits = U"零一二三四五六七八九";
  constexpr std::u32string_view kPlaces = U"千百十";
  std::u32string out;
  bool zero = false;
  for (int i = 0, div = 1000; div >= 1; ++i, div /= 10) {
    const int64_t d = n / div % 10;
    if (d == 0) {
      zero = !out.empty();
      continue;
    }
    if (zero) out += U'零';
    zero = false;
    if (!(div == 10 && d == 1 && out.empty())) out += kDigits[static_cast<size_t>(d)];  // 十一, not 一十一
    if (div > 1) out += kPlaces[static_cast<size_t>(i)];
  }
  return out;
}

}  // namespace

std::string heading_for(int64_t ordinal, std::string_view prev) {
  const std::u32string u = decode(strip_markdown(prev));
  size_t p = 0;
  while (p < u.size() && is_space(u[p])) ++p;
  bool digits = true;
  char32_t unit = U'章';
  if (p < u.size() && u[p] == U'第') {
    size_t q = p + 1;
    while (q < u.size() && in(kNumerals, u[q])) ++q;
    if (q > p + 1 && q < u.size() && in(kUnits, u[q])) {
      unit = u[q];
      digits = u[p + 1] >= U'0' && u[p + 1] <= U'9';
      if (u[p + 1] >= U'０' && u[p + 1] <= U'９') digits = true;
    }
  }
  std::u32string out = U"第";
  if (digits || ordinal < 1 || ordinal > 9999) {
    for (char c : std::to_string(ordinal)) out += static_cast<char32_t>(c);
  } else {
    out += chinese_number(ordinal);
  }
  out += unit;
  return encode(out);
}

std::optional<HeadingMatch> parse_heading(std::string_view raw) {
  std::string_view line = strip_markdown(raw);
  if (line.empty() || line.size() > 400) return std::nullopt;
  const std::u32string u = decode(line);
  size_t p = 0;
  while (p < u.size() && is_space(u[p])) ++p;
  const bool indented = p > 0;
  size_t after = 0;
  std::u32string_view special;
  if (p < u.size() && u[p] == U'第') {
    size_t q = p + 1;
    while (q < u.size() && in(kNumerals, u[q])) ++q;
    if (q == p + 1 || q - p - 1 > 12 || q >= u.size() || !in(kUnits, u[q])) {
      // 第 + number + unit required (but "第" + special word never occurs)
      return std::nullopt;
    }
    after = q + 1;
  } else {
    for (std::u32string_view w : kSpecial) {
      if (u.compare(p, w.size(), w) == 0) {
        special = w;
        after = p + w.size();
        break;
      }
    }
    if (special.empty()) return std::nullopt;
  }
  std::u32string_view rest(u);
  rest.remove_prefix(after);
  const bool separated = rest.empty() || in(kSeparators, rest.front());
  const std::u32string_view title = trim(rest, kSeparators);
  if (title.size() > 40 || title.find(U'。') != std::u32string_view::npos) return std::nullopt;
  const bool punctuated = title.find_first_of(U"，。！？；“”「」…") != std::u32string_view::npos;
  if (!separated && (!special.empty() || u.size() > 30 || punctuated)) return std::nullopt;
  // Headings are expected at column 0; an indented one must look unmistakably like a heading.
  if (indented && (!separated || punctuated || title.find(U'—') != std::u32string_view::npos)) return std::nullopt;
  HeadingMatch m;
  m.heading.assign(line);
  m.title = title.empty() && !special.empty() ? encode(special) : encode(title);
  return m;
}

SplitBook split_chapters(std::string_view text) {
  SplitBook book;
  // Lines with their byte ranges.
  struct Line {
    size_t begin, end, next;  // [begin, end) without "\n"; next = start of the following line
  };
  std::vector<Line> lines;
  for (size_t i = 0; i < text.size();) {
    const size_t nl = text.find('\n', i);
    const size_t end = nl == std::string_view::npos ? text.size() : nl;
    lines.push_back({i, end, nl == std::string_view::npos ? text.size() : nl + 1});
    i = lines.back().next;
  }
  size_t first_heading = lines.size();
  std::vector<std::pair<size_t, HeadingMatch>> heads;
  for (size_t li = 0; li < lines.size(); ++li) {
    auto m = parse_heading(text.substr(lines[li].begin, lines[li].end - lines[li].begin));
    if (m) {
      if (heads.empty()) first_heading = li;
      heads.emplace_back(li, std::move(*m));
    }
  }

  // Preamble: a title line at the top (after blank lines), an optional 作者 line, and the blank lines after.
  size_t li = 0;
  while (li < first_heading && is_blank(text.substr(lines[li].begin, lines[li].end - lines[li].begin))) ++li;
  if (li < first_heading) {
    std::string_view l = text.substr(lines[li].begin, lines[li].end - lines[li].begin);
    const std::u32string u = decode(l);
    const size_t close = u.find(U'》');
    bool title_line = false;
    if (!u.empty() && u[0] == U'《' && close != std::u32string::npos && close > 1 && u.size() < 80) {
      book.title = encode(u.substr(1, close - 1));
      book.author = encode(trim(std::u32string_view(u).substr(close + 1), kSeparators));
      title_line = true;
    } else if (l.size() > 2 && l.substr(0, 2) == "# " && u.size() < 80) {
      book.title = encode(trim(std::u32string_view(u).substr(2), kSeparators));
      title_line = !book.title.empty();
    }
    if (title_line) {
      ++li;
      size_t k = li;
      while (k < first_heading && is_blank(text.substr(lines[k].begin, lines[k].end - lines[k].begin))) ++k;
      if (k < first_heading) {
        const std::u32string a = decode(text.substr(lines[k].begin, lines[k].end - lines[k].begin));
        if (a.rfind(U"作者", 0) == 0 && a.size() < 40) {
          if (book.author.empty()) book.author = encode(trim(std::u32string_view(a).substr(2), kSeparators));
          li = k + 1;
        }
      }
      while (li < first_heading && is_blank(text.substr(lines[li].begin, lines[li].end - lines[li].begin))) ++li;
      const size_t pre_end = li < lines.size() ? lines[li].begin : text.size();
      book.preamble.assign(text.substr(0, pre_end));
    }
  }
  const size_t body_start = book.preamble.size();
  const size_t first_heading_byte = first_heading < lines.size() ? lines[first_heading].begin : text.size();

  if (heads.empty()) {
    SplitChapter c;
    c.title = book.title;
    c.body.assign(text.substr(body_start));
    if (!c.body.empty()) book.chapters.push_back(std::move(c));
    return book;
  }
  if (first_heading_byte > body_start) {
    const std::string_view fm = text.substr(body_start, first_heading_byte - body_start);
    if (trim(decode(fm), U" \t　\n\f").empty()) {
      book.preamble.append(fm);  // only blank lines: keep them for export, no front-matter chapter
    } else {
      book.front_matter.emplace(fm);
    }
  }
  for (size_t h = 0; h < heads.size(); ++h) {
    const Line& hl = lines[heads[h].first];
    const size_t body_end = h + 1 < heads.size() ? lines[heads[h + 1].first].begin : text.size();
    SplitChapter c;
    c.heading = std::move(heads[h].second.heading);
    c.title = std::move(heads[h].second.title);
    c.body.assign(text.substr(hl.next, body_end - hl.next));
    book.chapters.push_back(std::move(c));
  }
  return book;
}

}  // namespace cj::storage
