// Chapters and their revision history. A chapter's text never changes except to the text of a revision: every
// save by the writer, every AI result and every import is a revision (source import/writer/ai/restore), so
// nothing the writer wrote is ever overwritten without a copy. An AI result can be stored as a revision that
// is not current (a proposal) and made current later with set_current().
//
// Ordinals are positions in the book: 0 = front matter (text before the first heading), then 1, 2, ... .
// chars = Unicode code points of the body (offsets count these); zi = its 字数 as every surface shows it
// (engine/base/text.h zishu). All changes re-index the chapter for search in the same
// transaction (SQL triggers; search_index.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

enum class RevisionSource { kImport, kWriter, kAi, kRestore };
const char* to_string(RevisionSource s);

struct ChapterInfo {
  int64_t id = 0;
  int64_t book_id = 0;
  int64_t ordinal = 0;
  std::string heading;      // heading line as written ("第一回  甄士隐梦幻识通灵"), "" for front matter
  std::string title;        // the title after the number ("甄士隐梦幻识通灵")
  int64_t chars = 0;        // code points of the body
  int64_t revision_id = 0;  // current revision
  int64_t updated_at = 0;   // ms since epoch
  int64_t zi = 0;           // 字数 of the body (engine/base/text.h zishu: 汉字 + full-width punctuation)
};

// The chapter's own label as the book writes it: the heading's number and unit or special word ("第二十二回",
// "楔子", "第3章"; chapter_splitter.h heading_label, whatever title follows), a heading without a number as written
// (a story's title: "狂人日记"), "卷首" for front matter (ordinal 0), the title or "第N章" (N = ordinal) for a
// chapter without a heading. Every surface that names a chapter to the writer uses this (or
// chapter_numbering.h, which also resolves what the writer types), never the bare ordinal.
std::string chapter_label(const ChapterInfo& c);

struct Chapter : ChapterInfo {
  std::string body;
};

struct Revision {
  int64_t id = 0;
  int64_t chapter_id = 0;
  int64_t number = 0;   // 1, 2, ... within the chapter
  std::string title;
  std::string body;     // empty in revisions() listings (use revision(id) for the text)
  std::string source;   // "import", "writer", "ai", "restore"
  std::string note;
  int64_t created_at = 0;
  int64_t chars = 0;    // code points
  int64_t zi = 0;       // 字数 (text::zishu), what the writer is shown
};

struct NewChapter {
  int64_t ordinal = -1;  // -1: after the last chapter
  std::string heading;
  std::string title;
  std::string body;      // valid UTF-8
};

class Chapters {
 public:
  explicit Chapters(Database& db) : db_(db) {}

  // Adds a chapter with its first revision; returns the chapter id. Error if the ordinal is taken.
  Result<int64_t> add(int64_t book_id, const NewChapter& c, RevisionSource source = RevisionSource::kWriter,
                      const std::string& note = "");
  Result<std::vector<ChapterInfo>> list(int64_t book_id);  // in ordinal order
  Result<int64_t> count(int64_t book_id);
  Result<Chapter> get(int64_t chapter_id);
  Result<Chapter> get_by_ordinal(int64_t book_id, int64_t ordinal);

  // Saves new text as a new current revision and returns its id; saving the current text again changes
  // nothing and returns the current revision. `title` (if given) renames the chapter too.
  Result<int64_t> save(int64_t chapter_id, const std::string& body, RevisionSource source = RevisionSource::kWriter,
                       const std::string& note = "", std::optional<std::string> title = std::nullopt);
  // Stores a revision without making it current (an AI proposal); returns its id.
  Result<int64_t> add_revision(int64_t chapter_id, const std::string& body, RevisionSource source,
                               const std::string& note = "");
  // Makes an existing revision of this chapter current (its text becomes the chapter's text).
  Status set_current(int64_t chapter_id, int64_t revision_id);
  Result<std::vector<Revision>> revisions(int64_t chapter_id);  // oldest first, bodies not loaded
  Result<Revision> revision(int64_t revision_id);
  // Moves a chapter to ordinal `to` (>= 1, an ordinal the book has); the chapters between shift by one so that
  // ordinals stay 1..n without gaps. Whatever names a chapter by ordinal is renumbered with it: findings, finding
  // keys, check state, facts (range ends and the chapter they were stated in; ends that cross make the range
  // between them) and scene/chapter summaries; arc and book summaries span ranges and turn stale by their source
  // hashes (rebuild the tree after reordering). One transaction.
  Status move(int64_t chapter_id, int64_t to);
  // Deletes a chapter and its revisions.
  Status remove(int64_t chapter_id);

 private:
  Result<int64_t> insert_revision(int64_t chapter_id, const std::string& title, const std::string& body,
                                  RevisionSource source, const std::string& note);
  Database& db_;
};

}  // namespace cj::storage
