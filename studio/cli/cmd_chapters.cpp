// changjuan-cli chapters: the chapters of a book: position (ordinal, the stable key), the book's own label and
// number (第二十二回, 22; storage/chapter_numbering.h), title, 字数 (text::zishu) and code points (chars, what offsets
// count).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "storage/chapter_numbering.h"
#include "storage/chapters.h"
#include "storage/books.h"
#include "storage/database.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_chapters(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());
  auto list = storage::Chapters(**db).list(*book);
  if (!list.ok()) return fail(list.error());
  const storage::ChapterNumbering numbering(*list);
  if (a.has("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& c : *list) {
      const auto n = numbering.number(c.ordinal);
      j.push_back({{"ordinal", c.ordinal},
                   {"label", numbering.label(c.ordinal)},
                   {"number", n ? nlohmann::json(*n) : nlohmann::json()},
                   {"title", c.title},
                   {"heading", c.heading},
                   {"zi", c.zi},
                   {"chars", c.chars},
                   {"id", c.id}});
    }
    std::printf("%s\n", j.dump().c_str());
  } else {
    // #ordinal, the book's label, the title, 字数.
    for (const auto& c : *list) {
      const std::string label = numbering.label(c.ordinal);
      std::string title = c.title == label ? std::string() : c.title;
      if (c.ordinal == 0 && c.heading.empty()) title = "(front matter)";
      std::printf("#%-4lld %s  %s  %lld 字\n", static_cast<long long>(c.ordinal), label.c_str(), title.c_str(),
                  static_cast<long long>(c.zi));
    }
  }
  return 0;
}

Registrar reg({.name = "chapters",
               .summary = "list a book's chapters: position (#ordinal), the book's label (第二十二回), title, 字数",
               .options = {{"db", "D", "project database", true},
                           {"book", "ID", "book id", true},
                           {"json", "",
                            "print [{\"ordinal\":…,\"label\":\"第二十二回\",\"number\":22,\"title\":…,\"zi\":…,\"chars\":…}]"}},
               .run = run_chapters});

}  // namespace
}  // namespace cj::cli
