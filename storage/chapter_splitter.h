// Splitting a novel's text into chapters by its headings.
//
// A heading is a line that starts (at column 0, after an optional Markdown "#…# " or indentation) with
//   第 + number + unit   number: Chinese numerals (一二三…十百千万, 〇/零, 两, 壹贰叁…) or digits, e.g. 第一百二十回,
//                        第一二零回, 第12章, 第１２章; unit: 章 回 节 卷 部 篇 集 幕 话
//   or one of 楔子 序章 序言 序幕 序 引子 引言 前言 尾声 终章 后记 番外
// followed by the end of the line, or by a separator (spaces, 　, ：, :, 、, ., ·, —, -) and a title. Without a
// separator ("第一章风起") the line must be short and unpunctuated. A title longer than 40 characters or one
// containing 。 makes the line body text: a paragraph that merely begins with 第三回 is not a heading.
//
// Before the first heading: a title line (《书名》作者, or Markdown "# 书名") with an optional 作者：X line is the
// book's title/author (kept verbatim as the preamble); any other text becomes the front-matter chapter.
// Bodies are kept verbatim (everything after the heading line up to the next heading), so joining
// preamble + front matter + (heading + "\n" + body)... gives back the input exactly.
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
};

struct SplitBook {
  std::string title;                        // from the title line, if any
  std::string author;
  std::string preamble;                     // the title line(s) and blank lines, verbatim ("" if none)
  std::optional<std::string> front_matter;  // other text before the first heading, verbatim
  std::vector<SplitChapter> chapters;
};

struct HeadingMatch {
  std::string heading;  // the line without a Markdown prefix
  std::string title;
};

// Whether `line` (no "\n") is a chapter heading.
std::optional<HeadingMatch> parse_heading(std::string_view line);

// The heading for a new chapter at `ordinal`, written the way `prev` (the previous chapter's heading) writes its
// number and unit: after "第二十回 王熙凤正言弹妒意" comes "第二十一回", after "第3章 风起" "第4章". Without such a
// previous heading (empty, 楔子, …): "第N章".
std::string heading_for(int64_t ordinal, std::string_view prev);

// `text`: UTF-8 with "\n" line ends. A text without headings yields one chapter (heading "") holding it all.
SplitBook split_chapters(std::string_view text);

}  // namespace cj::storage
