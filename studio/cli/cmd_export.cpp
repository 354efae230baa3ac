// changjuan-cli export: a book as UTF-8 text or Markdown.
#include <cstdio>

#include "storage/database.h"
#include "storage/exporter.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_export(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  auto fmt = storage::parse_export_format(a.get_or("format", "txt"));
  if (!fmt.ok()) return fail(fmt.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  if (auto s = storage::export_book_to_file(**db, *book, *fmt, *a.get("out")); !s.ok()) return fail(s.error());
  // A chapter whose only text is an AI draft nobody accepted is exported empty: say which.
  auto drafts = storage::unaccepted_drafts(**db, *book);
  if (!drafts.ok()) return fail(drafts.error());
  if (!drafts->empty()) {
    std::string names;
    for (const auto& n : *drafts) names += (names.empty() ? "" : "、") + n;
    std::fprintf(stderr,
                 "changjuan-cli: warning: %zu chapter(s) hold only an AI draft that was not accepted and were exported "
                 "empty: %s (accept a draft in the app to export it)\n",
                 drafts->size(), names.c_str());
  }
  return 0;
}

Registrar reg({.name = "export",
               .summary = "export a book as UTF-8 .txt (round-trips an import) or Markdown",
               .options = {{"db", "D", "project database", true},
                           {"book", "ID", "book id", true},
                           {"format", "txt|md", "txt (default) or md"},
                           {"out", "F", "output file (written atomically)", true}},
               .run = run_export});

}  // namespace
}  // namespace cj::cli
