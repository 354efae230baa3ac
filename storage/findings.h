// Consistency findings: "chapter 41 says 张三 is alive, but he died in chapter 40" — where (chapter ordinal and a
// code-point span of its body), what kind, a message, the evidence, and the writer's decision (status).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

struct Finding {
  int64_t id = 0;
  int64_t book_id = 0;
  int64_t chapter = 0;       // ordinal
  int64_t span_begin = 0;    // code points into the chapter body
  int64_t span_end = 0;
  std::string kind;          // "contradiction", "timeline", "name", ...
  std::string message;
  std::string evidence;      // quotes, fact ids
  std::string subject;       // what it is about: an entity's name, a variant as written ("" if nothing in particular)
  std::string status = "open";  // "open", "accepted", "dismissed", "fixed"
  std::optional<int64_t> job_id;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

class Findings {
 public:
  explicit Findings(Database& db) : db_(db) {}

  Result<int64_t> add(const Finding& f);
  Result<Finding> get(int64_t id);
  // A book's findings, optionally of one chapter and/or one status, by chapter and span.
  Result<std::vector<Finding>> list(int64_t book_id, std::optional<int64_t> chapter = std::nullopt,
                                    const std::string& status = "");
  Status set_status(int64_t id, const std::string& status);
  Status remove(int64_t id);

 private:
  Database& db_;
};

}  // namespace cj::storage
