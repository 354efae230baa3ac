#include "storage/exporter.h"

#include "engine/base/file.h"
#include "engine/base/utf8.h"
#include "storage/books.h"
#include "storage/chapters.h"

namespace cj::storage {

Result<ExportFormat> parse_export_format(const std::string& s) {
  if (s == "txt" || s == "text") return ExportFormat::kText;
  if (s == "md" || s == "markdown") return ExportFormat::kMarkdown;
  return make_error("unknown export format '" + s + "' (use txt or md)");
}

Result<std::string> export_book(Database& db, int64_t book_id, ExportFormat format) {
  Books books(db);
  auto book = books.get(book_id);
  if (!book.ok()) return Error{book.error()};
  // Text changed outside Changjuan (a damaged file: SQLite's page checks pass when bytes inside a text value are
  // altered) is reported, never written out as invalid UTF-8.
  auto damaged = [&](const std::string& where, std::string_view text) -> Status {
    size_t bad = 0;
    if (utf8::valid(text, &bad)) return Status::Ok();
    return make_error("cannot export book " + std::to_string(book_id) + ": " + where +
                      " is damaged (not UTF-8 at byte " + std::to_string(bad) +
                      "); restore an earlier revision of it (chapters revisions / restore) or a backup of " + db.path());
  };
  CJ_TRY(damaged("the book's title page", book->preamble));
  CJ_TRY(damaged("the book's title", book->title));
  auto st = db.prepare("SELECT ordinal, heading, body, title FROM chapters WHERE book_id = ?1 ORDER BY ordinal");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id);
  std::string out;
  if (format == ExportFormat::kText) {
    out = book->preamble;
  } else {
    out = "# " + book->title + "\n\n";
    if (!book->author.empty()) out += "作者：" + book->author + "\n\n";
  }
  while (true) {
    auto r = st->step();
    if (!r.ok()) return make_error("cannot export book " + std::to_string(book_id) + ": " + r.error());
    if (!*r) break;
    const std::string_view heading = st->col_view(1);
    ChapterInfo info;
    info.ordinal = st->col_int(0);
    info.heading = utf8::valid(heading) ? std::string(heading) : std::string();
    info.title = utf8::valid(st->col_view(3)) ? std::string(st->col_view(3)) : std::string();
    CJ_TRY(damaged("the heading of " + chapter_label(info), heading));
    CJ_TRY(damaged(chapter_label(info), st->col_view(2)));
    if (!heading.empty()) {
      if (format == ExportFormat::kMarkdown) out += "## ";
      out += heading;
      out += '\n';
    }
    out += st->col_view(2);
  }
  return out;
}

Status export_book_to_file(Database& db, int64_t book_id, ExportFormat format, const std::string& path) {
  auto text = export_book(db, book_id, format);
  if (!text.ok()) return Error{text.error()};
  return write_file_atomic(path, *text);
}

}  // namespace cj::storage
