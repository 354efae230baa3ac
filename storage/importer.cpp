#include "storage/importer.h"

#include <sys/stat.h>

#include "engine/base/file.h"
#include "engine/base/utf8.h"
#include "storage/books.h"
#include "storage/chapter_splitter.h"
#include "storage/chapters.h"
#include "storage/text_decoder.h"
#include "storage/transaction.h"

namespace cj::storage {
namespace {

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = b.find_last_of('.');
  if (dot != std::string::npos && dot > 0) b.resize(dot);
  return b;
}

}  // namespace

Result<ImportResult> import_file(Database& db, const std::string& path, const ImportOptions& opts) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > kMaxImportBytes) {
    return make_error(path + " is " + std::to_string(st.st_size >> 20) + " MB; the importer takes files up to " +
                      std::to_string(kMaxImportBytes >> 20) + " MB");
  }
  auto bytes = read_file(path);
  if (!bytes.ok()) return Error{bytes.error()};
  return import_bytes(db, *bytes, path, opts);
}

Result<ImportResult> import_bytes(Database& db, std::string_view bytes, const std::string& name,
                                  const ImportOptions& opts) {
  if (bytes.size() > kMaxImportBytes) return make_error(name + " is too large to import");
  auto decoded = decode_text(bytes, name);
  if (!decoded.ok()) return Error{decoded.error()};
  SplitBook split = split_chapters(decoded->text);
  if (split.chapters.empty() && !split.front_matter) return make_error(name + " contains no chapter text");
  ImportResult res;
  res.toc_lines = split.toc_lines;
  res.stories = split.stories;
  res.sections = split.sections;
  res.wrap_width = detect_wrap_width(decoded->text);
  if (res.wrap_width > 0) {
    int64_t n = 0;
    for (auto& c : split.chapters) {
      c.body = reflow(c.body, res.wrap_width, &n);
      res.reflowed += n;
    }
    if (split.front_matter) {
      *split.front_matter = reflow(*split.front_matter, res.wrap_width, &n);
      res.reflowed += n;
    }
  }
  for (const auto& c : split.chapters) {
    const size_t n = utf8::count_code_points(c.body);
    if (n > kMaxChapterChars) {
      std::string which = c.heading.empty() ? "the text" : "chapter «" + c.heading + "»";
      return make_error(name + ": " + which + " has " + std::to_string(n) + " characters, more than one chapter may hold (" +
                        std::to_string(kMaxChapterChars) + ")" +
                        (c.heading.empty() ? "; no chapter headings (第一章, 第一回, 楔子…) were found at the start of a line"
                                           : "; is a heading missing?"));
    }
  }

  res.encoding = decoded->encoding;
  res.title = !opts.title.empty() ? opts.title : !split.title.empty() ? split.title : base_name(name);
  const std::string hash = content_hash(decoded->text);

  CJ_TRY(db.sync_search_lexicon());
  auto tx = Transaction::begin(db);
  if (!tx.ok()) return make_error("cannot import " + name + ": " + tx.error());
  Books books(db);
  auto existing = books.find_by_source_hash(hash);
  if (!existing.ok()) return make_error("cannot import " + name + ": " + existing.error());
  if (existing->has_value() && !opts.allow_duplicate) {
    const Book& old = **existing;
    if (!opts.replace) {
      return make_error(name + " was already imported as book " + std::to_string(old.id) + " «" + old.title +
                        "»; use --replace to replace that book or --duplicate to store a second copy");
    }
    if (auto s = books.remove(old.id); !s.ok()) return make_error("cannot replace book " + std::to_string(old.id) + ": " + s.error());
    res.replaced_book_id = old.id;
  }

  Book b;
  b.title = res.title;
  b.author = split.author;
  b.preamble = split.preamble;
  b.source_name = base_name(name);
  b.source_hash = hash;
  b.encoding = decoded->encoding;
  auto book_id = books.create(b);
  if (!book_id.ok()) return make_error("cannot import " + name + ": " + book_id.error());
  res.book_id = *book_id;

  Chapters chapters(db);
  if (split.front_matter) {
    NewChapter c{0, "", "", *split.front_matter};
    auto id = chapters.add(res.book_id, c, RevisionSource::kImport);
    if (!id.ok()) return make_error("cannot import " + name + ": " + id.error());
    res.front_matter = true;
    ++res.chapters;
  }
  int64_t ordinal = 1;
  for (auto& sc : split.chapters) {
    ChapterInfo info;
    info.ordinal = ordinal;
    info.heading = sc.heading;
    info.title = sc.title;
    if (res.first_label.empty()) res.first_label = chapter_label(info);
    res.last_label = chapter_label(info);
    NewChapter c{ordinal++, std::move(sc.heading), std::move(sc.title), std::move(sc.body)};
    auto id = chapters.add(res.book_id, c, RevisionSource::kImport);
    if (!id.ok()) return make_error("cannot import " + name + ": " + id.error());
    ++res.chapters;
  }
  if (auto s = tx->commit(); !s.ok()) return make_error("cannot import " + name + ": " + s.error());
  return res;
}

}  // namespace cj::storage
