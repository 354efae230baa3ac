// Books: the books stored in a project file (usually one). Deleting a book deletes its chapters, revisions,
// entities, facts, summaries, findings and jobs (foreign keys, ON DELETE CASCADE).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

struct Book {
  int64_t id = 0;
  std::string title;
  std::string author;
  std::string preamble;     // title line(s) before the first chapter, verbatim ("《红楼梦》曹雪芹\n\n\n")
  std::string source_name;  // file it was imported from ("" if created in the app)
  std::string source_hash;  // content_hash() of the decoded text ("" if none)
  std::string encoding;     // detected encoding of the imported file
  int64_t created_at = 0;   // ms since epoch
  int64_t updated_at = 0;
};

class Books {
 public:
  explicit Books(Database& db) : db_(db) {}

  // Inserts a book (id is ignored) and returns its id.
  Result<int64_t> create(const Book& b);
  Result<Book> get(int64_t id);  // error "no book with id N" if absent
  Result<std::vector<Book>> list();
  Result<std::optional<Book>> find_by_source_hash(const std::string& hash);
  Status rename(int64_t id, const std::string& title);
  Status remove(int64_t id);  // error if absent
  Status touch(int64_t id);   // updated_at = now

 private:
  Database& db_;
};

}  // namespace cj::storage
