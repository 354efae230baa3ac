#include "storage/chapter_splitter.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "engine/base/utf8.h"

namespace cj::storage {
namespace {

constexpr std::u32string_view kNumerals = U"〇零一二三四五六七八九十百千万两廿卅壹贰叁肆伍陆柒捌玖拾佰仟0123456789０１２３４５６７８９";
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


bool is_digit(char32_t c) { return (c >= U'0' && c <= U'9') || (c >= U'０' && c <= U'９'); }

int cn_digit(char32_t c) {
  switch (c) {
    case U'〇': case U'零': return 0;
    case U'一': case U'壹': return 1;
    case U'二': case U'贰': case U'两': return 2;
    case U'三': case U'叁': return 3;
    case U'四': case U'肆': return 4;
    case U'五': case U'伍': return 5;
    case U'六': case U'陆': return 6;
    case U'七': case U'柒': return 7;
    case U'八': case U'捌': return 8;
    case U'九': case U'玖': return 9;
    default: return -1;
  }
}

int cn_unit(char32_t c) {
  switch (c) {
    case U'十': case U'拾': return 10;
    case U'百': case U'佰': return 100;
    case U'千': case U'仟': return 1000;
    case U'万': return 10000;
    default: return -1;
  }
}

std::optional<int64_t> numeral_value(std::u32string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  constexpr int64_t kMax = 99'999'999;
  if (std::all_of(s.begin(), s.end(), is_digit)) {
    int64_t v = 0;
    for (char32_t c : s) {
      v = v * 10 + (c >= U'０' ? int64_t(c - U'０') : int64_t(c - U'0'));
      if (v > kMax) return std::nullopt;
    }
    return v;
  }
  const bool positional = std::any_of(s.begin(), s.end(), [](char32_t c) {
    return cn_unit(c) > 0 || c == U'廿' || c == U'卅';
  });
  if (!positional) {  // 一二零 = 120
    if (s.size() > 8) return std::nullopt;
    int64_t v = 0;
    for (char32_t c : s) {
      const int d = cn_digit(c);
      if (d < 0) return std::nullopt;
      v = v * 10 + d;
    }
    return v;
  }
  int64_t total = 0, section = 0;
  int cur = -1;
  for (char32_t c : s) {
    if (const int d = cn_digit(c); d >= 0) {
      if (cur > 0) return std::nullopt;  // two digits in a row (三四十) is not a number
      cur = d;
      continue;
    }
    if (c == U'廿' || c == U'卅') {
      section += c == U'廿' ? 20 : 30;
      cur = -1;
      continue;
    }
    const int u = cn_unit(c);
    if (u < 0) return std::nullopt;
    if (u == 10000) {
      section += std::max(cur, 0);
      total += (section == 0 ? 1 : section) * 10000;
      section = 0;
    } else {
      section += (cur < 0 ? 1 : cur) * u;
    }
    cur = -1;
  }
  section += std::max(cur, 0);
  if (total + section > kMax) return std::nullopt;
  return total + section;
}

// Display columns: wide characters (CJK, full-width forms, U+3000) count 2.
int columns(char32_t c) {
  if (c < 0x1100) return 1;
  if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
      (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
      (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD) || c == 0x2014 || c == 0x2026 ||
      c == 0x201C || c == 0x201D || c == 0x2018 || c == 0x2019)
    return 2;
  return 1;
}

int lead_columns(std::u32string_view u) {
  int n = 0;
  for (char32_t c : u) {
    if (c == U' ') n += 1;
    else if (c == U'\t') n += 4;
    else if (c == U'　') n += 2;
    else break;
  }
  return n;
}

bool is_han_or_alnum(char32_t c) {
  return (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3FFFF) ||
         c == U'〇' || (c >= U'0' && c <= U'9') || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') ||
         (c >= U'０' && c <= U'９') || (c >= U'Ａ' && c <= U'Ｚ') || (c >= U'ａ' && c <= U'ｚ');
}

constexpr std::u32string_view kSentencePunct = U"。，！？；：…,!?;:、“”「」";

struct Line {
  size_t begin, end, next;  // [begin, end) without "\n"; next = start of the following line
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  for (size_t i = 0; i < text.size();) {
    const size_t nl = text.find('\n', i);
    const size_t end = nl == std::string_view::npos ? text.size() : nl;
    lines.push_back({i, end, nl == std::string_view::npos ? text.size() : nl + 1});
    i = lines.back().next;
  }
  return lines;
}

// The label of a centred title line (story collections), or "" if the line is not one. `indent`: the book's usual
// paragraph indent in columns.
std::u32string centred_title(std::u32string_view u, int indent) {
  const int lead = lead_columns(u);
  if (lead < 6 || lead < indent + 4) return {};
  const std::u32string_view t = trim(u, kSeparators);
  if (t.empty() || t.size() > 25) return {};
  if (t.find_first_of(kSentencePunct) != std::u32string_view::npos) return {};
  if (std::none_of(t.begin(), t.end(), is_han_or_alnum)) return {};
  return std::u32string(t);
}

// A centred title that is only a number (一, 二, （三）, 4): a section marker when stories have real titles.
bool is_numeral_title(std::u32string_view t) {
  t = trim(t, U"（）()、.．");
  return numeral_value(t).has_value();
}

}  // namespace

std::optional<int64_t> parse_numeral(std::string_view s) { return numeral_value(decode(s)); }

std::optional<HeadingLabel> heading_label(std::string_view heading) {
  const std::u32string u = decode(strip_markdown(heading));
  size_t p = 0;
  while (p < u.size() && is_space(u[p])) ++p;
  HeadingLabel h;
  if (p < u.size() && u[p] == U'第') {
    size_t q = p + 1;
    while (q < u.size() && in(kNumerals, u[q])) ++q;
    if (q == p + 1 || q - p - 1 > 12 || q >= u.size() || !in(kUnits, u[q])) return std::nullopt;
    h.number = numeral_value(std::u32string_view(u).substr(p + 1, q - p - 1));
    if (!h.number) return std::nullopt;
    h.digits = is_digit(u[p + 1]);
    h.unit = encode(std::u32string_view(u).substr(q, 1));
    h.label = encode(std::u32string_view(u).substr(p, q + 1 - p));
    return h;
  }
  for (std::u32string_view w : kSpecial) {
    if (u.compare(p, w.size(), w) != 0) continue;
    const size_t after = p + w.size();
    if (after < u.size() && !in(kSeparators, u[after])) continue;  // 序曲 is not 序
    h.label = encode(w);
    return h;
  }
  return std::nullopt;
}

std::string heading_for(int64_t number, std::string_view prev) {
  bool digits = true;
  std::string unit = "章";
  if (auto h = heading_label(prev); h && h->number) {
    unit = h->unit;
    digits = h->digits;
  }
  std::u32string out = U"第";
  if (digits || number < 1 || number > 9999) {
    for (char c : std::to_string(number)) out += static_cast<char32_t>(c);
  } else {
    out += chinese_number(number);
  }
  return encode(out) + unit;
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
    if (!numeral_value(std::u32string_view(u).substr(p + 1, q - p - 1))) return std::nullopt;
    after = q + 1;
  } else {
    for (std::u32string_view w : kSpecial) {
      if (u.compare(p, w.size(), w) == 0) {
        special = w;
        after = p + w.size();
        break;
      }
    }
    if (special.empty()) {
      // A Markdown chapter heading ("## 狂人日记", as export writes a story's title): short, not a sentence.
      if (raw.rfind("## ", 0) != 0) return std::nullopt;
      const std::u32string_view t = trim(u, kSeparators);
      if (t.empty() || t.size() > 40 || t.find_first_of(U"。！？") != std::u32string_view::npos) return std::nullopt;
      HeadingMatch m;
      m.heading = encode(t);
      m.title = m.heading;
      return m;
    }
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
  const std::vector<Line> lines = split_lines(text);
  auto line_at = [&](size_t li) { return text.substr(lines[li].begin, lines[li].end - lines[li].begin); };
  std::vector<std::pair<size_t, HeadingMatch>> heads;
  std::vector<char> blank(lines.size(), 0);
  for (size_t li = 0; li < lines.size(); ++li) {
    blank[li] = is_blank(line_at(li));
    if (blank[li]) continue;
    if (auto m = parse_heading(line_at(li))) heads.emplace_back(li, std::move(*m));
  }
  // Markdown: when chapters are "## " headings, deeper ones ("### 第一章", a story's section) are body text.
  if (std::any_of(heads.begin(), heads.end(), [&](const auto& h) { return line_at(h.first).rfind("## ", 0) == 0; })) {
    const size_t before = heads.size();
    heads.erase(std::remove_if(heads.begin(), heads.end(),
                               [&](const auto& h) { return line_at(h.first).rfind("###", 0) == 0; }),
                heads.end());
    book.sections += static_cast<int64_t>(before - heads.size());
  }

  // ---- A story collection: centred title lines, each followed by its text. ----
  std::vector<std::pair<size_t, HeadingMatch>> stories;
  {
    // The usual paragraph indent: the most common indentation of lines long enough to be prose.
    std::vector<int> indent_count(64, 0);
    std::vector<std::u32string> decoded(lines.size());
    for (size_t li = 0; li < lines.size(); ++li) {
      if (blank[li]) continue;
      const std::string_view l = line_at(li);
      if (l.size() > 1200) {  // prose, not a title: decode only its start
        decoded[li] = decode(l.substr(0, 60));
        decoded[li] += U"………………………………………………………………";
      } else {
        decoded[li] = decode(l);
      }
      if (decoded[li].size() >= 20) ++indent_count[static_cast<size_t>(std::min(lead_columns(decoded[li]), 63))];
    }
    const int indent = static_cast<int>(std::max_element(indent_count.begin(), indent_count.end()) - indent_count.begin());
    std::vector<char> is_head(lines.size(), 0);
    for (const auto& h : heads) is_head[h.first] = 1;
    std::vector<std::pair<size_t, std::u32string>> cands;
    for (size_t li = 0; li < lines.size(); ++li) {
      if (blank[li] || is_head[li]) continue;
      if (li > 0 && !blank[li - 1]) continue;
      if (li + 1 < lines.size() && !blank[li + 1]) continue;
      std::u32string t = centred_title(decoded[li], indent);
      if (!t.empty()) cands.emplace_back(li, std::move(t));
    }
    // Keep the titles followed by text (anything that is not another centred line) before the next one.
    std::vector<std::pair<size_t, std::u32string>> with_text;
    for (size_t k = 0; k < cands.size(); ++k) {
      const size_t stop = k + 1 < cands.size() ? cands[k + 1].first : lines.size();
      bool text_follows = false;
      for (size_t li = cands[k].first + 1; li < stop && !text_follows; ++li) text_follows = !blank[li];
      if (text_follows) with_text.push_back(cands[k]);
    }
    size_t named = 0;
    for (const auto& c : with_text) named += is_numeral_title(c.second) ? 0 : 1;
    for (const auto& c : with_text) {
      if (named >= 2 && is_numeral_title(c.second)) continue;  // a story's section number
      HeadingMatch m;
      m.heading.assign(line_at(c.first));
      m.title = encode(c.second);
      stories.emplace_back(c.first, std::move(m));
    }
    if (stories.size() >= 2 && (heads.empty() || stories.front().first < heads.front().first)) {
      for (const auto& h : heads) book.sections += h.first > stories.front().first ? 1 : 0;
      heads = std::move(stories);
      book.stories = true;
    }
  }

  // ---- A table of contents: a leading run of headings without text, then the same first heading again. ----
  size_t first_structure = heads.empty() ? lines.size() : heads.front().first;
  if (!book.stories && heads.size() >= 4) {
    size_t k = 1;
    while (k < heads.size()) {
      bool only_blank = true;
      for (size_t li = heads[k - 1].first + 1; li < heads[k].first && only_blank; ++li) only_blank = blank[li];
      if (!only_blank) break;
      ++k;
    }
    // heads[0..k) have no text between them; heads[k-1] is the last entry only if text follows heads[k]'s
    // predecessor, i.e. the run ends at the first heading that has text after it.
    if (k >= 4) {
      const size_t run = k - 1;  // heads[0..run) are the listing; heads[run] is the first heading with text
      auto key = [&](size_t i) {
        auto l = heading_label(heads[i].second.heading);
        return l ? (l->number ? std::to_string(*l->number) : l->label) : std::string();
      };
      if (run >= 3 && !key(0).empty() && key(0) == key(run)) {
        book.toc_lines = static_cast<int64_t>(run);
        heads.erase(heads.begin(), heads.begin() + static_cast<std::ptrdiff_t>(run));
      }
    }
  }
  const size_t first_heading = heads.empty() ? lines.size() : heads.front().first;

  // Preamble: a title line at the top (after blank lines), an optional 作者 line, and the blank lines after.
  size_t li = 0;
  while (li < first_structure && blank[li]) ++li;
  if (li < first_structure) {
    std::string_view l = line_at(li);
    const std::u32string u = decode(l.substr(0, 400));
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
      while (k < first_structure && blank[k]) ++k;
      if (k < first_structure) {
        const std::u32string a = decode(line_at(k).substr(0, 400));
        if (a.rfind(U"作者", 0) == 0 && a.size() < 40) {
          if (book.author.empty()) book.author = encode(trim(std::u32string_view(a).substr(2), kSeparators));
          li = k + 1;
        }
      }
      while (li < first_structure && blank[li]) ++li;
      const size_t pre_end = li < lines.size() ? lines[li].begin : text.size();
      book.preamble.assign(text.substr(0, pre_end));
    } else {
      // A short first line without punctuation before the text (儒林外史\n\n清·吴敬梓著) names the book; it stays in
      // the front matter.
      const std::u32string_view t = trim(u, kSeparators);
      const bool next_blank = li + 1 >= lines.size() || blank[li + 1];
      if (!t.empty() && t.size() <= 20 && next_blank && t.find_first_of(kSentencePunct) == std::u32string_view::npos &&
          !parse_heading(l))
        book.title = encode(t);
    }
  }
  const size_t body_start = book.preamble.size();
  const size_t first_heading_byte = first_heading < lines.size() ? lines[first_heading].begin : text.size();

  if (heads.empty()) {
    SplitChapter c;
    c.title = book.title;
    c.begin = body_start;
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
    c.begin = hl.begin;
    book.chapters.push_back(std::move(c));
  }
  return book;
}

int detect_wrap_width(std::string_view text) {
  std::vector<int> hist;      // lines by width in columns
  std::vector<int> ends;      // of those, lines that end a sentence (。！？…」”)
  int64_t n = 0;
  for (const Line& l : split_lines(text)) {
    std::string_view s = text.substr(l.begin, l.end - l.begin);
    if (is_blank(s)) continue;
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);  // trailing blanks
    int w = 0;
    char32_t last = 0;
    for (size_t i = 0; i < s.size() && w <= 4000;) {
      uint32_t cp;
      const int k = utf8::decode(s, i, &cp);
      w += k ? columns(static_cast<char32_t>(cp)) : 1;
      last = k ? static_cast<char32_t>(cp) : 0;
      i += k ? static_cast<size_t>(k) : 1;
    }
    if (static_cast<size_t>(w) >= hist.size()) hist.resize(static_cast<size_t>(w) + 1, 0), ends.resize(hist.size(), 0);
    ++hist[static_cast<size_t>(w)];
    if (in(U"。！？…」”』.!?", last)) ++ends[static_cast<size_t>(w)];
    ++n;
  }
  if (n < 20) return 0;
  std::vector<int64_t> wider(hist.size() + 1, 0);  // lines wider than index
  for (size_t w = hist.size(); w-- > 0;) wider[w] = wider[w + 1] + (w + 1 < hist.size() ? hist[w + 1] : 0);
  int best = 0;
  int64_t best_full = 0, best_ends = 0;
  for (size_t w = 40; w < hist.size(); ++w) {
    const int64_t full = hist[w] + hist[w - 1] + hist[w - 2] + hist[w - 3];
    if (full > best_full && wider[w] * 50 <= n) {
      best_full = full, best = static_cast<int>(w);
      best_ends = ends[w] + ends[w - 1] + ends[w - 2] + ends[w - 3];
    }
  }
  // Wrapped lines break anywhere; lines that mostly end a sentence (verse, one sentence a line) are not wrapped.
  return best_full * 10 >= n * 3 && best_ends * 2 < best_full ? best : 0;
}

std::string reflow(std::string_view text, int width, int64_t* joined) {
  if (joined) *joined = 0;
  if (width <= 0) return std::string(text);
  const std::vector<Line> lines = split_lines(text);
  std::string out;
  out.reserve(text.size());
  auto width_of = [](std::string_view s) {
    int w = 0;
    for (size_t i = 0; i < s.size();) {
      uint32_t cp;
      const int k = utf8::decode(s, i, &cp);
      w += k ? columns(static_cast<char32_t>(cp)) : 1;
      i += k ? static_cast<size_t>(k) : 1;
    }
    return w;
  };
  auto ascii_alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (size_t li = 0; li < lines.size(); ++li) {
    std::string_view cur = text.substr(lines[li].begin, lines[li].end - lines[li].begin);
    const bool has_newline = lines[li].next > lines[li].end;
    bool join = false;
    if (has_newline && li + 1 < lines.size() && !is_blank(cur) && !parse_heading(cur)) {
      std::string_view trimmed = cur;
      while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
      const std::string_view next = text.substr(lines[li + 1].begin, lines[li + 1].end - lines[li + 1].begin);
      const bool next_continues = !next.empty() && !is_blank(next) && next[0] != ' ' && next[0] != '\t' &&
                                  next.rfind("\xE3\x80\x80", 0) != 0 && !parse_heading(next);
      if (next_continues && width_of(trimmed) >= width - 3) {
        join = true;
        cur = trimmed;
        out.append(cur);
        if (ascii_alnum(cur.back()) && ascii_alnum(next[0])) out += ' ';
        if (joined) ++*joined;
      }
    }
    if (!join) {
      out.append(cur);
      if (has_newline) out += '\n';
    }
  }
  return out;
}

}  // namespace cj::storage
