// The open book as the GUI sees it: its chapters (title, 字数), loading a chapter's text, saving an edited
// chapter, searching, and (projects only) entities, facts, findings and jobs. The UI only draws; every action on the
// book goes through here. Two sources:
//   - a book project (SQLite, storage/): saving writes a new revision, never overwriting the old text;
//   - a plain UTF-8 .txt novel (until a project is imported): chapters split at headings (第X回/第X章/楔子…);
//     saving rewrites the file atomically and keeps the original once as FILE~.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "storage/chapter_numbering.h"
#include "storage/entities.h"
#include "storage/facts.h"
#include "storage/findings.h"
#include "storage/jobs.h"
#include "storage/search_index.h"

namespace cj::studio {

struct ChapterInfo {
  int64_t id = 0;        // storage id (text files: the index)
  std::string title;     // as shown: "第一回  甄士隐梦幻识通灵" (the label, then the title unless it is the label)
  std::string label;     // the book's own label: "第一回", "楔子", a story's title, "卷首" (storage::chapter_label)
  std::string name;      // what rename_chapter() changes: "甄士隐梦幻识通灵"
  int64_t ordinal = 0;   // position in the book (0: front matter)
  size_t zi = 0;         // 字数 (cj::text::zishu, stored with the chapter as storage zi)
  int64_t revision = 0;  // current revision number once loaded (0: unknown, or a text file)
};

struct RevisionInfo {
  int64_t id = 0;
  int64_t number = 0;  // 1, 2, ... within the chapter
  std::string source;  // import, writer, ai, restore
  std::string note;
  int64_t created_at = 0;  // ms since the epoch
  int64_t chars = 0;       // code points
  int64_t zi = 0;          // 字数 (text::zishu), what the writer is shown
  bool current = false;
};

struct SearchHit {
  size_t chapter = 0;   // index into chapters()
  size_t byte = 0;      // byte offset of the match in the chapter text
  size_t length = 0;    // bytes
  std::string snippet;  // the match with some context, one line
};

class BookSession {
 public:
  virtual ~BookSession() = default;

  // Opens a text file for editing in place: UTF-8, or any encoding the importer reads (GB18030, Big5, UTF-16/32)
  // when it converts back to the same bytes; split into chapters as the importer splits (storage::split_chapters:
  // a table of contents stays in the front matter). Saving keeps the encoding and the line ends (the majority's).
  static Result<std::unique_ptr<BookSession>> open_text_file(const std::string& path);
  // Opens book `book_id` of a project file (0: the only book in it).
  static Result<std::unique_ptr<BookSession>> open_project(const std::string& db_path, int64_t book_id);

  virtual std::string title() const = 0;
  virtual std::string source() const = 0;  // what was opened, for the window title and settings
  virtual bool has_revisions() const = 0;
  const std::vector<ChapterInfo>& chapters() const { return chapters_; }
  virtual Result<std::string> load_chapter(size_t index) = 0;
  // Saves text as the chapter's new content (a new revision where the source keeps them).
  virtual Status save_chapter(size_t index, std::string_view text) = 0;
  // Plain substring search over every chapter, in chapter order; at most `limit` hits.
  // Text files: plain substring search. Projects: the book's full-text index (every whitespace-separated term
  // must occur), one hit per chapter at the first occurrence of the first term.
  virtual Result<std::vector<SearchHit>> search(std::string_view query, size_t limit) = 0;
  // How many occurrences of the query and in how many chapters (all of them, not only the hits listed).
  virtual Result<storage::SearchCount> search_count(std::string_view query) = 0;

  // Projects only (a text file says it cannot):
  // renames chapter i (a new revision records the title; unsaved editor text must be saved first);
  virtual Status rename_chapter(size_t i, const std::string& title) = 0;
  // appends an empty chapter, its heading numbered like the chapter before it (第二十一回 after 第二十回) and
  // followed by `title` ("" = the number alone; a title that is a heading itself is taken as is); returns its index;
  virtual Result<size_t> add_chapter(const std::string& title) = 0;
  // the revisions of chapter i, oldest first, and one revision's text;
  virtual Result<std::vector<RevisionInfo>> revisions(size_t i) = 0;
  virtual Result<std::string> revision_text(int64_t revision_id) = 0;
  // makes an old revision's text current again as a new "restore" revision (nothing is lost).
  virtual Status restore_revision(size_t i, int64_t revision_id) = 0;
  // makes an AI proposal (a revision that is not current) of chapter i current: the writer accepted it. The
  // text it replaces stays in the history.
  virtual Status accept_revision(size_t i, int64_t revision_id) = 0;
  // moves chapter `from` to position `to` (indexes into chapters()); the chapters between shift by one.
  virtual Status move_chapter(size_t from, size_t to) = 0;
  // The outline (beats) of the chapter with this ordinal, as the writer left it ("" when none), and saving it.
  virtual Result<std::string> outline(int64_t ordinal) = 0;
  virtual Status save_outline(int64_t ordinal, const std::string& text) = 0;
  // The project file (empty for a text file): the assistant opens its own connections to it.
  virtual std::string db_path() const { return ""; }

  // What a book project stores besides the text; a text file has none of it (an error says so).
  virtual Result<std::vector<storage::Entity>> entities() = 0;
  virtual Result<std::vector<storage::Fact>> facts() = 0;
  // Adds a character/place/item/faction/other with aliases; names feed segmentation, search and the checks.
  virtual Result<int64_t> add_entity(const std::string& kind, const std::string& name,
                                     const std::vector<std::string>& aliases, const std::string& description) = 0;
  virtual Status remove_entity(int64_t entity_id) = 0;  // with its facts
  // Adds a fact (book_id is filled in); errors name what is wrong (empty predicate, inverted range, ...).
  virtual Result<int64_t> add_fact(storage::Fact f) = 0;
  virtual Status remove_fact(int64_t fact_id) = 0;
  virtual Result<std::vector<storage::Finding>> findings() = 0;
  virtual Result<std::vector<storage::Job>> jobs() = 0;
  virtual Status set_finding_status(int64_t finding_id, const std::string& status) = 0;
  // The same for many findings in one transaction (a whole group: 全部忽略 / 全部已修正).
  virtual Status set_findings_status(const std::vector<int64_t>& ids, const std::string& status) = 0;
  // The book's chapter identity over chapters() (storage/chapter_numbering.h): labels, numbers, and what the writer
  // types. resolve_chapter() reads a reference by the CLI's one rule (22 or 第二十二回 = the chapter the book numbers
  // 22, 楔子, a title, #N = ordinal N) and returns its index into chapters(); errors name what the book has.
  const storage::ChapterNumbering& numbering() const { return numbering_; }
  Result<size_t> resolve_chapter(std::string_view ref) const {
    auto o = numbering_.resolve(ref);
    if (!o.ok()) return Error{o.error()};
    const int i = chapter_index_of_ordinal(*o);
    if (i < 0) return make_error("no chapter «" + std::string(ref) + "» in this book");
    return static_cast<size_t>(i);
  }
  // The label of the chapter with this ordinal ("第二十二回"), also for one that is not (yet) in the list.
  std::string chapter_label(int64_t ordinal) const { return numbering_.label(ordinal); }
  // Index into chapters() of the chapter with this ordinal, or -1.
  int chapter_index_of_ordinal(int64_t ordinal) const {
    for (size_t i = 0; i < chapters_.size(); ++i)
      if (chapters_[i].ordinal == ordinal) return static_cast<int>(i);
    return -1;
  }
  virtual int64_t book_id() const { return 0; }

 protected:
  // Rebuilds numbering_ and every ChapterInfo::label from the chapters' headings (rows in chapters_ order);
  // subclasses call it whenever chapters are added, moved or renamed.
  void renumber(const std::vector<storage::ChapterInfo>& rows) {
    numbering_ = storage::ChapterNumbering(rows);
    for (size_t i = 0; i < chapters_.size() && i < rows.size(); ++i) chapters_[i].label = storage::chapter_label(rows[i]);
  }

  std::vector<ChapterInfo> chapters_;
  storage::ChapterNumbering numbering_;
};

// Byte offset in text of code point offset cp (clamped to the end); storage spans count code points.
size_t byte_offset_of_code_point(std::string_view text, int64_t cp);
// A one-line snippet around [byte, byte+len) of text: up to `context` code points either side, newlines as spaces.
std::string make_snippet(std::string_view text, size_t byte, size_t len, size_t context);

}  // namespace cj::studio
