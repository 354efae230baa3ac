// The open book as the GUI sees it: its chapters (title, 字数), loading a chapter's text, saving an edited
// chapter, and searching. The UI only draws; every action on the book goes through here. Two sources:
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

namespace cj::studio {

struct ChapterInfo {
  int64_t id = 0;         // storage id (text files: the index)
  std::string title;
  size_t zi = 0;          // 字数: non-whitespace characters of the chapter text
  int revision = 0;       // latest revision number (0: text file, no revisions)
};

struct SearchHit {
  size_t chapter = 0;     // index into chapters()
  size_t byte = 0;        // byte offset of the match in the chapter text
  size_t length = 0;      // bytes
  std::string snippet;    // the match with some context, one line
};

class BookSession {
 public:
  virtual ~BookSession() = default;

  // Opens a UTF-8 (or UTF-8 with BOM) text file and splits it into chapters at heading lines.
  static Result<std::unique_ptr<BookSession>> open_text_file(const std::string& path);

  virtual std::string title() const = 0;
  virtual std::string source() const = 0;      // what was opened, for the window title and settings
  virtual bool has_revisions() const = 0;
  const std::vector<ChapterInfo>& chapters() const { return chapters_; }
  virtual Result<std::string> load_chapter(size_t index) = 0;
  // Saves text as the chapter's new content (a new revision where the source keeps them).
  virtual Status save_chapter(size_t index, std::string_view text) = 0;
  // Plain substring search over every chapter, in chapter order; at most `limit` hits.
  virtual Result<std::vector<SearchHit>> search(std::string_view query, size_t limit) = 0;

 protected:
  std::vector<ChapterInfo> chapters_;
};

// True if a line (trimmed) is a chapter heading: 第十二回 …, 第3章 …, 楔子, 序章, 引子, 尾声, 后记.
bool is_chapter_heading(std::string_view line);
// A one-line snippet around [byte, byte+len) of text: up to `context` code points either side, newlines as spaces.
std::string make_snippet(std::string_view text, size_t byte, size_t len, size_t context);

}  // namespace cj::studio
