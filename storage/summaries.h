// Summary nodes of the memory tree: level 0 scene (part N of a chapter), 1 chapter, 2 arc, 3 book, each over an
// inclusive range of chapter ordinals. source_hash is the hash of what was summarized (the memory layer decides
// what goes in); a node whose source_hash no longer matches is stale. One node per (book, level, range, part,
// method): put() replaces it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

struct SummaryNode {
  int64_t id = 0;
  int64_t book_id = 0;
  int level = 1;            // 0 scene, 1 chapter, 2 arc, 3 book
  int64_t first_chapter = 0;
  int64_t last_chapter = 0;
  int64_t part = 0;         // scene index within the chapter (level 0), else 0
  std::string text;
  int64_t token_count = 0;
  std::string source_hash;
  std::string method;       // "extractive", "abstractive:<model>"
  int64_t created_at = 0;
};

class Summaries {
 public:
  explicit Summaries(Database& db) : db_(db) {}

  // Inserts or replaces the node with the same (book, level, first, last, part, method); returns its id.
  Result<int64_t> put(const SummaryNode& n);
  Result<SummaryNode> get(int64_t id);
  Result<std::optional<SummaryNode>> find(int64_t book_id, int level, int64_t first_chapter, int64_t last_chapter,
                                          int64_t part = 0, const std::string& method = "");
  // Nodes of a book (one level, or all with level < 0), by level, first_chapter, part.
  Result<std::vector<SummaryNode>> list(int64_t book_id, int level = -1);
  // Nodes whose range contains chapter `ordinal` (the ancestors that an edit of that chapter makes stale).
  Result<std::vector<SummaryNode>> covering(int64_t book_id, int64_t ordinal);
  Status remove(int64_t id);

 private:
  Database& db_;
};

}  // namespace cj::storage
