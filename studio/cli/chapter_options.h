// The chapter options of every subcommand (--chapter, --chapters, --from/--to/--as-of of facts): values are read
// with storage::ChapterNumbering, the one rule for what a writer types (chapter_numbering.h) — 22 or 第二十二回 is
// the chapter the book numbers 22, 楔子 a label, a story's title, #N the position `chapters` lists. Errors are one
// line naming the option and what the book has.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "engine/base/result.h"
#include "storage/chapter_numbering.h"
#include "studio/args.h"

namespace cj::cli {

// Help text for a chapter option.
inline constexpr const char* kChapterRefHelp =
    "the book's number or label (22, 第二十二回, 楔子, a title) or #N, the position `chapters` lists";

// The ordinal named by option `name`, or nullopt when the option is absent. allow_new: a chapter right after the last
// one may be named too (drafting, facts about chapters not written yet).
inline Result<std::optional<int64_t>> chapter_option(const storage::ChapterNumbering& n, const Args& a,
                                                     const std::string& name, bool allow_new = false) {
  auto v = a.get(name);
  if (!v) return std::optional<int64_t>();
  auto r = allow_new ? n.resolve_new(*v) : n.resolve(*v);
  if (!r.ok()) return make_error("--" + name + " " + *v + ": " + r.error());
  return std::optional<int64_t>(*r);
}

// A range option ("21-22", "第二十一回至第二十二回", one chapter): ordinals first..last.
inline Result<std::optional<std::pair<int64_t, int64_t>>> chapter_range_option(const storage::ChapterNumbering& n,
                                                                              const Args& a, const std::string& name,
                                                                              bool allow_new = false) {
  using R = std::optional<std::pair<int64_t, int64_t>>;
  auto v = a.get(name);
  if (!v) return R();
  auto r = n.resolve_range(*v, allow_new);
  if (!r.ok()) return make_error("--" + name + " " + *v + ": " + r.error());
  return R(*r);
}

}  // namespace cj::cli
