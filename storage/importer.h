// Importing a plain-text novel into a project: decode (text_decoder.h), split into chapters
// (chapter_splitter.h), store the book, its chapters (each with an "import" revision) and index them for
// search — all in one transaction, so a crash or an error leaves either no trace or the whole book.
//
// What the importer decides (chapter_splitter.h): a leading table of contents stays in the front matter, a story
// collection becomes one chapter per story, hard-wrapped text is reflowed (detect_wrap_width / reflow); the result
// says so; the studio puts it in words (studio::describe).
//
// Re-importing: the decoded text's content_hash() is stored with the book. Importing a text that is already in
// the project is an error that names the existing book, unless `replace` (the old book and everything attached
// to it is deleted, in the same transaction) or `allow_duplicate` (a second copy is stored) is set.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

struct ImportOptions {
  std::string title;             // overrides the title found in the file (or the file name)
  bool replace = false;          // replace a book imported from the same text
  bool allow_duplicate = false;  // store a second copy of the same text
};

struct ImportResult {
  int64_t book_id = 0;
  int64_t chapters = 0;          // chapters stored, the front-matter chapter included
  bool front_matter = false;     // a chapter 0 holds text found before the first heading
  int64_t toc_lines = 0;         // lines of a table of contents, kept in the front matter (not chapters)
  bool stories = false;          // a story collection: one chapter per centred title
  int64_t sections = 0;          // headings inside stories kept as sections of their story
  int wrap_width = 0;            // columns the text was hard-wrapped at (0: not wrapped)
  int64_t reflowed = 0;          // line breaks inside paragraphs removed (hard-wrapped text)
  std::string first_label, last_label;  // the book's labels of its first and last chapters (卷首 excluded)
  std::string title;
  std::string encoding;
  int64_t replaced_book_id = 0;  // the book that `replace` deleted, or 0
};

// Limits (errors name them): a file over kMaxImportBytes, a chapter over kMaxChapterChars code points
// (usually a file with no headings at all).
inline constexpr size_t kMaxImportBytes = 256u << 20;
inline constexpr size_t kMaxChapterChars = 2'000'000;


Result<ImportResult> import_file(Database& db, const std::string& path, const ImportOptions& opts = {});
// `name` is the file name used for messages and as the fallback title.
Result<ImportResult> import_bytes(Database& db, std::string_view bytes, const std::string& name,
                                  const ImportOptions& opts = {});

}  // namespace cj::storage
