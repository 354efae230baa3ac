// changjuan-cli export: a book as UTF-8 text or Markdown.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "storage/books.h"
#include "storage/chapters.h"
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
  auto b = storage::Books(**db).get(*book);
  auto chs = storage::Chapters(**db).list(*book);
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(*a.get("out"), ec);
  int64_t chars = 0, n = 0;
  if (chs.ok())
    for (const auto& c : *chs) chars += c.chars, n += c.ordinal > 0;
  if (a.has("json")) {
    std::printf("%s\n", nlohmann::json({{"book_id", *book}, {"out", *a.get("out")}, {"format", a.get_or("format", "txt")},
                                        {"chapters", n}, {"bytes", ec ? 0 : bytes}})
                            .dump()
                            .c_str());
    return 0;
  }
  std::printf("已导出《%s》%lld 章（%.1f 万个字符）到 %s（%s，UTF-8）\n", b.ok() ? b->title.c_str() : "?",
              static_cast<long long>(n), double(chars) / 10000.0, a.get("out")->c_str(),
              a.get_or("format", "txt") == "md" ? "Markdown" : "纯文本");
  return 0;
}

Registrar reg({.name = "export",
               .summary = "export a book as UTF-8 .txt (round-trips an import) or Markdown",
               .options = {{"db", "D", "project database", true},
                           {"book", "ID", "book id", true},
                           {"format", "txt|md", "txt (default) or md"},
                           {"out", "F", "output file (written atomically)", true},
                           {"json", "", "print {\"out\",\"chapters\",\"bytes\"}"}},
               .run = run_export});

}  // namespace
}  // namespace cj::cli
