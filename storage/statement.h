// Statement: a prepared SQLite statement (RAII over sqlite3_stmt). Bind parameters by 1-based index, step
// through rows, read columns by 0-based index. Errors come back as Result/Status with a message that names the
// cause (see Database::describe). Move-only; not thread-safe (like the Database it came from).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cj::storage {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding (1-based, chainable). Text is copied by SQLite (SQLITE_TRANSIENT).
  Statement& bind(int i, int64_t v);
  Statement& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Statement& bind(int i, double v);
  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, std::optional<int64_t> v);
  Statement& bind_blob(int i, std::string_view bytes);
  Statement& bind_null(int i);

  // One step: true = a row is available, false = done. Errors carry the SQL and a readable cause.
  Result<bool> step();
  // Steps until done (for INSERT/UPDATE/DELETE), then resets so the statement can be reused.
  Status run();
  // Clears the cursor (keeps bindings).
  void reset();

  // Columns of the current row (0-based).
  int64_t col_int(int i) const;
  double col_double(int i) const;
  std::string col_text(int i) const;
  std::string_view col_view(int i) const;  // valid until the next step/reset
  bool col_null(int i) const;
  std::optional<int64_t> col_opt_int(int i) const;

  bool valid() const { return stmt_ != nullptr; }
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace cj::storage
