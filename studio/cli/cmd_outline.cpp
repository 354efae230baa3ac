// changjuan-cli outline get|set: a chapter's outline (its beats), the one the GUI's 大纲 panel edits and 起草本章
// drafts from (studio/revisions.h).
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/file.h"
#include "engine/base/utf8.h"
#include "storage/books.h"
#include "storage/chapter_numbering.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "studio/cli/chapter_options.h"
#include "studio/cli/command.h"
#include "studio/revisions.h"
#include "studio/workflows.h"

namespace cj::cli {
namespace {

struct Where {
  int64_t book = 0, chapter = 0;  // chapter: the ordinal
  std::string label;              // as the book names it (第二十一回)
};
// --chapter by the one rule (chapter_options.h): the book's number or label, or #N; `allow_new` (set) also the chapter
// right after the last one, not further (an outline of a chapter past a gap could never be drafted there).
Result<Where> where(storage::Database& db, const Args& a, bool allow_new) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return Error{book.error()};
  if (auto b = storage::Books(db).get(*book); !b.ok()) return Error{b.error()};
  auto numbering = storage::ChapterNumbering::load(db, *book);
  if (!numbering.ok()) return Error{numbering.error()};
  auto ch = chapter_option(*numbering, a, "chapter", allow_new);
  if (!ch.ok()) return Error{ch.error()};
  if (!*ch) return make_error("--chapter is required");
  if (Status g = studio::check_no_gap(*numbering, **ch); !g.ok()) return make_error("--chapter " + *a.get("chapter") + ": " + g.error());
  return Where{*book, **ch, numbering->label(**ch)};
}

int run_get(const Args& a) {
  auto db = storage::Database::open(*a.get("db"), {.create = false, .read_only = true});
  if (!db.ok()) return fail(db.error());
  auto w = where(**db, a, true);
  if (!w.ok()) return fail(w.error());
  auto text = studio::load_outline(**db, w->book, w->chapter);
  if (!text.ok()) return fail(text.error());
  if (a.has("json")) {
    std::printf("%s\n", nlohmann::json({{"book", w->book}, {"chapter", w->chapter}, {"label", w->label}, {"outline", *text}})
                           .dump()
                           .c_str());
    return 0;
  }
  if (text->empty()) {
    std::fprintf(stderr, "%s has no outline yet (changjuan-cli outline set … --file F)\n", w->label.c_str());
    return 0;
  }
  std::fwrite(text->data(), 1, text->size(), stdout);
  if (text->back() != '\n') std::fputc('\n', stdout);
  return 0;
}

int run_set(const Args& a) {
  if (a.has("file") == a.has("text")) return fail("give the outline with --file F or --text T (one of them)");
  std::string text;
  if (auto f = a.get("file")) {
    auto t = read_file(*f);
    if (!t.ok()) return fail(t.error());
    text = std::move(*t);
    if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);  // BOM
  } else {
    text = *a.get("text");
  }
  if (!utf8::valid(text)) return fail("the outline is not valid UTF-8");
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  auto w = where(**db, a, true);
  if (!w.ok()) return fail(w.error());
  if (Status s = studio::save_outline(**db, w->book, w->chapter, text); !s.ok()) return fail(s.error());
  const auto ch = storage::Chapters(**db).get_by_ordinal(w->book, w->chapter);
  if (a.has("json")) {
    std::printf("%s\n", nlohmann::json({{"book", w->book}, {"chapter", w->chapter}, {"label", w->label},
                                        {"chars", utf8::count_code_points(text)},
                                        {"chapter_exists", ch.ok()}})
                            .dump().c_str());
    return 0;
  }
  std::printf("已保存%s的大纲（%zu 字）%s\n", w->label.c_str(), utf8::count_code_points(text),
              ch.ok() ? "" : "；这一章还没有，起草时会建立");
  return 0;
}

Registrar reg_get({.name = "outline get",
                   .summary = "print a chapter's outline (the beats 起草本章 / draft write from)",
                   .options = {{"db", "D", "project database", true},
                               {"book", "ID", "book id", true},
                               {"chapter", "N", kChapterRefHelp, true},
                               {"json", "", "print JSON"}},
                   .run = run_get});
Registrar reg_set({.name = "outline set",
                   .summary = "save a chapter's outline (from --file or --text)",
                   .options = {{"db", "D", "project database", true},
                               {"book", "ID", "book id", true},
                               {"chapter", "N", "the chapter (22, 第二十二回, 楔子, #N); the one after the last may not exist yet", true},
                               {"file", "F", "UTF-8 text file with the outline"},
                               {"text", "T", "the outline itself"},
                               {"json", "", "print JSON"}},
                   .run = run_set});

}  // namespace
}  // namespace cj::cli
