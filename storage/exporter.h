// Exporting a book as UTF-8 text or Markdown (LF line ends).
//   txt: the preamble (title line), the front matter, then every chapter's heading line and body, verbatim:
//        an imported file comes back byte for byte, up to CRLF -> LF and the encoding (always UTF-8) — unless the
//        import reflowed hard-wrapped lines.
//   md:  "# 书名" (and "作者：…"), then per chapter "## " + its heading (trimmed: no indentation, no trailing
//        spaces) and its paragraphs as Markdown paragraphs: each line of text is one paragraph, its indentation
//        (4 spaces, 全角 spaces, tabs — which Markdown would read as a code block) removed, paragraphs separated by a
//        blank line, a leading Markdown character (# > - * +) escaped; a heading inside a chapter (a story's 第一章)
//        is a "### " section. Importing the Markdown gives the same
//        chapters (headings, titles, the same paragraphs).
// Chapters that hold no text but an AI draft that was never accepted are exported empty (the draft is not the
// writer's text); unaccepted_drafts() names them so that the caller can warn.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

enum class ExportFormat { kText, kMarkdown };

// Parses "txt" / "md" (also "text", "markdown").
Result<ExportFormat> parse_export_format(const std::string& s);
Result<std::string> export_book(Database& db, int64_t book_id, ExportFormat format);
// Writes atomically (temp file + rename): a crash never leaves a half-written export over an old one.
Status export_book_to_file(Database& db, int64_t book_id, ExportFormat format, const std::string& path);
// The labels (chapter_label) of chapters whose text is empty (no 字) while an AI revision of them waits, not
// accepted: what an export leaves out.
Result<std::vector<std::string>> unaccepted_drafts(Database& db, int64_t book_id);

}  // namespace cj::storage
