// changjuan-cli outline get|set: a chapter's outline (its beats), the one the GUI's 大纲 panel edits and 起草本章
// drafts from (studio/revisions.h).
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/file.h"
#include "engine/base/utf8.h"
#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "studio/cli/command.h"
#include "studio/revisions.h"

namespace cj::cli {
namespace {

struct Where {
  int64_t book = 0, chapter = 0;
};
Result<Where> where(const Args& a) {
  auto book = a.get_int("book", 0);
  auto ch = a.get_int("chapter", 0);
  if (!book.ok()) return Error{book.error()};
  if (!ch.ok()) return Error{ch.error()};
  if (*ch < 0) return make_error("--chapter must be 0 or more");
  return Where{*book, *ch};
}

int run_get(const Args& a) {
  auto w = where(a);
  if (!w.ok()) return fail(w.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false, .read_only = true});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(w->book); !b.ok()) return fail(b.error());
  auto text = studio::load_outline(**db, w->book, w->chapter);
  if (!text.ok()) return fail(text.error());
  if (a.has("json")) {
    std::printf("%s\n", nlohmann::json({{"book", w->book}, {"chapter", w->chapter}, {"outline", *text}}).dump().c_str());
    return 0;
  }
  if (text->empty()) {
    std::fprintf(stderr, "chapter %lld has no outline yet (changjuan-cli outline set … --file F)\n",
                 static_cast<long long>(w->chapter));
    return 0;
  }
  std::fwrite(text->data(), 1, text->size(), stdout);
  if (text->back() != '\n') std::fputc('\n', stdout);
  return 0;
}

int run_set(const Args& a) {
  auto w = where(a);
  if (!w.ok()) return fail(w.error());
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
  if (auto b = storage::Books(**db).get(w->book); !b.ok()) return fail(b.error());
  if (Status s = studio::save_outline(**db, w->book, w->chapter, text); !s.ok()) return fail(s.error());
  const auto ch = storage::Chapters(**db).get_by_ordinal(w->book, w->chapter);
  if (a.has("json")) {
    std::printf("%s\n", nlohmann::json({{"book", w->book}, {"chapter", w->chapter}, {"chars", utf8::count_code_points(text)},
                                        {"chapter_exists", ch.ok()}})
                            .dump().c_str());
    return 0;
  }
  const std::string label = ch.ok() ? storage::chapter_label(*ch) : "第 " + std::to_string(w->chapter) + " 章";
  std::printf("已保存%s的大纲（%zu 字）%s\n", label.c_str(), utf8::count_code_points(text),
              ch.ok() ? "" : "；这一章还没有，起草时会建立");
  return 0;
}

Registrar reg_get({.name = "outline get",
                   .summary = "print a chapter's outline (the beats 起草本章 / draft write from)",
                   .options = {{"db", "D", "project database", true},
                               {"book", "ID", "book id", true},
                               {"chapter", "N", "chapter ordinal", true},
                               {"json", "", "print JSON"}},
                   .run = run_get});
Registrar reg_set({.name = "outline set",
                   .summary = "save a chapter's outline (from --file or --text)",
                   .options = {{"db", "D", "project database", true},
                               {"book", "ID", "book id", true},
                               {"chapter", "N", "chapter ordinal (it may not exist yet)", true},
                               {"file", "F", "UTF-8 text file with the outline"},
                               {"text", "T", "the outline itself"},
                               {"json", "", "print JSON"}},
                   .run = run_set});

}  // namespace
}  // namespace cj::cli
