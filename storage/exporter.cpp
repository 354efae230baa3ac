#include "storage/exporter.h"

#include "engine/base/file.h"
#include "engine/base/utf8.h"
#include "storage/books.h"
#include "storage/chapter_splitter.h"
#include "storage/chapters.h"

namespace cj::storage {
namespace {

// Strips ASCII blanks and U+3000 from both ends.
std::string_view trim_blank(std::string_view s) {
  for (;;) {
    if (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    else if (s.size() >= 3 && s.compare(0, 3, "\xE3\x80\x80") == 0) s.remove_prefix(3);
    else break;
  }
  for (;;) {
    if (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    else if (s.size() >= 3 && s.compare(s.size() - 3, 3, "\xE3\x80\x80") == 0) s.remove_suffix(3);
    else break;
  }
  return s;
}

std::string_view strip_markdown_prefix(std::string_view h) {
  size_t n = 0;
  while (n < h.size() && h[n] == '#') ++n;
  if (n >= 1 && n <= 6 && n < h.size() && h[n] == ' ') h.remove_prefix(n + 1);
  return h;
}

// Each non-blank line one Markdown paragraph, without indentation.
void append_paragraphs(std::string& out, std::string_view body) {
  size_t at = 0;
  while (at < body.size()) {
    size_t nl = body.find('\n', at);
    if (nl == std::string_view::npos) nl = body.size();
    const std::string_view line = trim_blank(body.substr(at, nl - at));
    at = nl + 1;
    if (line.empty()) continue;
    if (parse_heading(line)) out += "### ";  // a section inside a chapter (a story's 第一章)
    else if (line[0] == '#' || line[0] == '>' || line[0] == '-' || line[0] == '*' || line[0] == '+') out += '\\';
    out.append(line);
    out += "\n\n";
  }
}

}  // namespace

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
  CJ_TRY(damaged("the book's author", book->author));
  auto st = db.prepare("SELECT ordinal, heading, body, title FROM chapters WHERE book_id = ?1 ORDER BY ordinal");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id);
  std::string out;
  if (format == ExportFormat::kText) {
    out = book->preamble;
  } else {
    out = "# " + std::string(trim_blank(book->title)) + "\n\n";
    if (!book->author.empty()) out += "作者：" + std::string(trim_blank(book->author)) + "\n\n";
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
    CJ_TRY(damaged("the title of " + chapter_label(info), st->col_view(3)));
    CJ_TRY(damaged(chapter_label(info), st->col_view(2)));
    if (format == ExportFormat::kText) {
      if (!heading.empty()) {
        out += heading;
        out += '\n';
      }
      out += st->col_view(2);
      continue;
    }
    std::string_view h = trim_blank(strip_markdown_prefix(trim_blank(heading)));
    std::string label;
    if (h.empty() && st->col_int(0) > 0) {  // a chapter without a heading line still gets one
      ChapterInfo c;  // the heading is blank: label it by its ordinal and title
      c.ordinal = info.ordinal;
      c.title = info.title;
      label = chapter_label(c);
      h = label;
    }
    if (!h.empty()) {
      out += "## ";
      out += h;
      out += "\n\n";
    }
    append_paragraphs(out, st->col_view(2));
  }
  if (format == ExportFormat::kMarkdown)
    while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') out.pop_back();
  return out;
}

Status export_book_to_file(Database& db, int64_t book_id, ExportFormat format, const std::string& path) {
  auto text = export_book(db, book_id, format);
  if (!text.ok()) return Error{text.error()};
  return write_file_atomic(path, *text);
}

Result<std::vector<std::string>> unaccepted_drafts(Database& db, int64_t book_id) {
  auto st = db.prepare(
      "SELECT c.ordinal, c.heading, c.title FROM chapters c WHERE c.book_id = ?1 AND c.zi = 0 AND EXISTS ("
      "  SELECT 1 FROM chapter_revisions r WHERE r.chapter_id = c.id AND r.source = 'ai' AND r.id <> c.revision_id"
      "  AND r.zi > 0) ORDER BY c.ordinal");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id);
  std::vector<std::string> out;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    ChapterInfo c;
    c.ordinal = st->col_int(0);
    c.heading = st->col_text(1);
    c.title = st->col_text(2);
    out.push_back(chapter_label(c));
  }
  return out;
}

}  // namespace cj::storage
