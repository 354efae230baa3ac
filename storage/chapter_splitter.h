// Splitting a novel's text into chapters by its headings.
//
// A heading is a line that starts (at column 0, after an optional Markdown "#…# " or indentation) with
//   第 + number + unit   number: Chinese numerals (一二三…十百千万, 〇/零, 两, 壹贰叁…) or digits, e.g. 第一百二十回,
//                        第一二零回, 第12章, 第１２章; unit: 章 回 节 卷 部 篇 集 幕 话
//   or one of 楔子 序章 序言 序幕 序 引子 引言 前言 尾声 终章 后记 番外
// followed by the end of the line, or by a separator (spaces, 　, ：, :, 、, ., ·, —, -) and a title. Without a
// separator ("第一章风起") the line must be short and unpunctuated. A title longer than 40 characters or one
// containing 。 makes the line body text: a paragraph that merely begins with 第三回 is not a heading. After a
// Markdown "## ", any short line that is not a sentence is a heading too (a story's title, as export writes it).
//
// Before the first heading: a title line (《书名》作者, or Markdown "# 书名") with an optional 作者：X line is the
// book's title/author (kept verbatim as the preamble); any other text becomes the front-matter chapter.
// Bodies are kept verbatim (everything after the heading line up to the next heading), so joining
// preamble + front matter + (heading + "\n" + body)... gives back the input exactly.
//
// Books as they are found in the wild (structural rules that hold for any book, none keyed to one):
//   - A table of contents: a leading run of at least three headings with nothing but blank lines between them,
//     followed by a heading with the same label as the run's first (the text starts again where the list
//     began: 第一回 … 第五十五回, then 第一回 with its text). The run stays in the front matter (toc_lines).
//   - A story collection: "centred" title lines — short (at most 25 characters, no sentence punctuation), not a
//     heading, a blank line (or the start) before and after, indented at least 6 columns and at least 4 more
//     than the book's usual paragraph indent — each followed by text before the next such line. When at least
//     two exist and the first comes before any heading, each starts a chapter (its title is the line, trimmed),
//     and headings inside a story (阿Q正传's 第一章…第九章) are its sections: body text, not chapters.
//   - Hard-wrapped text (a line break inside a sentence): see detect_wrap_width() and reflow().
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cj::storage {

struct SplitChapter {
  std::string heading;  // the heading line without its "\n" and without a Markdown "## " prefix; "" if none
  std::string title;    // the title after the number ("甄士隐梦幻识通灵"), or the special word (楔子) if none
  std::string body;     // verbatim
  size_t begin = 0;     // byte offset in the text of the heading line (of the body when there is no heading)
};

struct SplitBook {
  std::string title;                        // from the title line, if any
  std::string author;
  std::string preamble;                     // the title line(s) and blank lines, verbatim ("" if none)
  std::optional<std::string> front_matter;  // other text before the first heading, verbatim
  std::vector<SplitChapter> chapters;
  int64_t toc_lines = 0;                    // heading lines of a table of contents kept in the front matter
  bool stories = false;                     // a story collection: chapters start at centred title lines
  int64_t sections = 0;                     // headings inside stories, kept as body text
};

struct HeadingMatch {
  std::string heading;  // the line without a Markdown prefix
  std::string title;
};

// Whether `line` (no "\n") is a chapter heading.
std::optional<HeadingMatch> parse_heading(std::string_view line);

// The label part of a heading line: "第二十二回" (number 22, unit 回) of "第二十二回　横海郡柴进留宾", "第3章" of
// "## 第3章：风起", "楔子" of "楔子 张天师祈禳瘟疫" (no number). Only the start of the line is read, so a heading
// whose title was renamed or is long still has its label. nullopt when the line does not start with one.
struct HeadingLabel {
  std::string label;              // as written, without indentation or separators
  std::optional<int64_t> number;  // the book's number for 第N…; nullopt for 楔子, 序章, …
  std::string unit;               // 回 章 节 …; "" for special words
  bool digits = false;            // the number is written in digits (第3章), not in Chinese numerals
};
std::optional<HeadingLabel> heading_label(std::string_view heading);

// A number written in digits (ASCII or full-width) or Chinese numerals (二十二, 一百零五, 一二零, 两, 廿, 壹贰),
// up to 99,999,999; nullopt otherwise.
std::optional<int64_t> parse_numeral(std::string_view s);

// The heading for the chapter the book numbers `number`, written the way `prev` (a heading of this book that
// carries a number) writes its number and unit: with prev "第二十回 王熙凤正言弹妒意", 21 gives "第二十一回"; with
// prev "第3章 风起", 4 gives "第4章". Without such a heading (empty, 楔子, a story title): "第N章". Callers pass the
// number the book would give the new chapter (chapter_numbering.h: next_heading), never its ordinal.
std::string heading_for(int64_t number, std::string_view prev);

// Hard-wrapped text: the width in columns (汉字 and other wide characters count 2) at which the text's lines were
// broken, or 0 when it is not hard-wrapped. Wrapped when, of at least 20 non-blank lines, at least 30 % end
// within 3 columns of one width W >= 40, at most 2 % are wider than W, and fewer than half of those full lines end
// a sentence (a book of one-line paragraphs has no such peak; verse and one-sentence lines end sentences).
int detect_wrap_width(std::string_view text);

// Joins the lines of a hard-wrapped paragraph: a line break goes when the line before it is full (within 3
// columns of `width`) and the next line continues it (not blank, not indented, not a heading). Between two
// Latin letters or digits a space takes its place. `joined` (if given) counts the line breaks removed.
std::string reflow(std::string_view text, int width, int64_t* joined = nullptr);

// `text`: UTF-8 with "\n" line ends. A text without headings yields one chapter (heading "") holding it all.
SplitBook split_chapters(std::string_view text);

}  // namespace cj::storage
