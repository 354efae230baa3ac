// Exporting a book as UTF-8 text or Markdown (LF line ends).
//   txt: the preamble (title line), the front matter, then every chapter's heading line and body, verbatim:
//        an imported file comes back byte for byte, up to CRLF -> LF and the encoding (always UTF-8).
//   md:  "# 书名" (and "作者：…"), then "## " + heading line + body for each chapter. Importing the Markdown
//        gives the same chapters (headings, titles, bodies).
#pragma once
#include <cstdint>
#include <string>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

enum class ExportFormat { kText, kMarkdown };

// Parses "txt" / "md" (also "text", "markdown").
Result<ExportFormat> parse_export_format(const std::string& s);
Result<std::string> export_book(Database& db, int64_t book_id, ExportFormat format);
// Writes atomically (temp file + rename): a crash never leaves a half-written export over an old one.
Status export_book_to_file(Database& db, int64_t book_id, ExportFormat format, const std::string& path);

}  // namespace cj::storage
