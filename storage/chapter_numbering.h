// One chapter identity everywhere: the book's own labels and numbers (第二十二回, 楔子, 序章, 第3章, a story's title),
// and the one rule by which a writer names a chapter on the command line, in the GUI and in files (outlines).
//
// Ordinals stay the stable key in storage (position in the book: 0 = front matter, then 1, 2, …), but a book
// with a 楔子 numbers its chapters one off from their positions (第二十二回 is ordinal 23), so nothing shown to the
// writer uses ordinals, and everything the writer types is resolved here.
//
// How a chapter reference is read (resolve()):
//   #N            the chapter at ordinal N (the position `changjuan-cli chapters` lists as ordinal);
//   N             a bare number (22, ２２, 二十二): when the book numbers its chapters (some heading is 第N回/章/节…),
//                 the chapter the BOOK numbers N — 22 is 第二十二回 even when a 楔子 comes first; in a book whose
//                 headings carry no numbers (a story collection), the N-th chapter in reading order (ordinal N);
//   第N回, 第22回  the chapter the book numbers N (the unit is checked only when two chapters carry that number);
//   楔子, 序章, …   the chapter with that label; 卷首 is the front matter;
//   a title       the chapter whose title or heading is exactly this (狂人日记).
// A number carried by two chapters (volumes that restart their numbering) is an error naming their #ordinals.
// Anything else is a one-line error naming what the book has ("…: this book has 楔子, 第一回–第一百二十回").
//
// New chapters continue the book's numbering and style: after 第一百二十回 comes 第一百二十一回 (a 楔子 before it
// changes nothing), after 第3章 第4章; resolve_new() also accepts the numbers right after the last chapter.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/result.h"
#include "storage/chapters.h"
#include "storage/database.h"

namespace cj::storage {

class ChapterNumbering {
 public:
  ChapterNumbering() = default;
  explicit ChapterNumbering(const std::vector<ChapterInfo>& chapters);  // any order
  static Result<ChapterNumbering> load(Database& db, int64_t book_id);

  // The book's label of the chapter at `ordinal` (chapter_label); for an ordinal after the last chapter, the label a
  // new chapter there gets (第一百二十一回); "第N章" for an ordinal the book does not have.
  std::string label(int64_t ordinal) const;
  // The number the book gives that chapter (22 for 第二十二回); nullopt for 楔子, story titles, front matter. After
  // the last chapter: the number a new chapter there gets.
  std::optional<int64_t> number(int64_t ordinal) const;
  bool numbered() const { return numbered_; }  // some heading carries a number
  bool empty() const { return entries_.empty(); }
  int64_t last_ordinal() const { return entries_.empty() ? 0 : entries_.back().ordinal; }

  // The ordinal of an existing chapter named by `ref` (the rules above).
  Result<int64_t> resolve(std::string_view ref) const;
  // As resolve(), but also a chapter up to `max_new` past the last one (第一百二十一回, 121, #122): for drafting.
  Result<int64_t> resolve_new(std::string_view ref, int64_t max_new = 1000) const;
  // "A-B" (also A–B, A~B, A至B) or one reference (first == last); B before A is an empty range (last < first).
  // allow_new: resolve_new for both ends.
  Result<std::pair<int64_t, int64_t>> resolve_range(std::string_view ref, bool allow_new = false) const;
  // What the book has, for messages: "卷首、楔子、第一回–第一百二十回".
  std::string range_text() const;

  // The heading of a new chapter at `ordinal`: after the last one, the book's next numbers in its own style; at a
  // gap inside the book, the number after the nearest numbered chapter before it.
  std::string heading_for_new(int64_t ordinal) const;
  std::string next_heading() const { return heading_for_new(last_ordinal() + 1); }

 private:
  struct Entry {
    int64_t ordinal = 0;
    std::string label, title, heading, unit;
    std::optional<int64_t> number;
  };
  Result<int64_t> resolve_impl(std::string_view ref, int64_t max_new) const;
  Result<int64_t> by_number(int64_t n, std::string_view unit, std::string_view ref, int64_t max_new) const;
  std::string not_found(std::string_view ref) const;
  const Entry* last_numbered() const;
  std::vector<Entry> entries_;  // in ordinal order
  bool numbered_ = false;
};

}  // namespace cj::storage
