// changjuan-cli chapters: the chapters of a book (ordinal, title, characters).
#include <cstdio>

#include <nlohmann/json.hpp>

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
  if (a.has("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& c : *list) j.push_back({{"ordinal", c.ordinal}, {"title", c.title}, {"chars", c.chars}, {"id", c.id}});
    std::printf("%s\n", j.dump().c_str());
  } else {
    for (const auto& c : *list)
      std::printf("%4lld  %-40s %8lld\n", static_cast<long long>(c.ordinal),
                  (c.heading.empty() ? (c.ordinal == 0 ? "(front matter)" : c.title) : c.heading).c_str(),
                  static_cast<long long>(c.chars));
  }
  return 0;
}

Registrar reg({.name = "chapters",
               .summary = "list a book's chapters: ordinal, title, characters",
               .options = {{"db", "D", "project database", true},
                           {"book", "ID", "book id", true},
                           {"json", "", "print [{\"ordinal\":…,\"title\":…,\"chars\":…}]"}},
               .run = run_chapters});

}  // namespace
}  // namespace cj::cli
