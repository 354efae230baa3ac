#include "storage/statement.h"

#include <sqlite3.h>

#include <utility>

#include "storage/sqlite_error.h"

namespace cj::storage {

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = std::exchange(o.stmt_, nullptr);
  }
  return *this;
}

Statement& Statement::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Statement& Statement::bind(int i, std::optional<int64_t> v) {
  if (v) return bind(i, *v);
  return bind_null(i);
}
Statement& Statement::bind_blob(int i, std::string_view b) {
  sqlite3_bind_blob64(stmt_, i, b.data() ? b.data() : "", b.size(), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string msg = describe_sqlite(db_, rc, "database error");
  sqlite3_reset(stmt_);
  return make_error(std::move(msg));
}

Status Statement::run() {
  while (true) {
    auto r = step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
  }
  sqlite3_reset(stmt_);
  return Status::Ok();
}

void Statement::reset() { sqlite3_reset(stmt_); }

int64_t Statement::col_int(int i) const { return sqlite3_column_int64(stmt_, i); }
double Statement::col_double(int i) const { return sqlite3_column_double(stmt_, i); }
std::string Statement::col_text(int i) const { return std::string(col_view(i)); }
std::string_view Statement::col_view(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  const int n = sqlite3_column_bytes(stmt_, i);
  return p ? std::string_view(p, static_cast<size_t>(n)) : std::string_view();
}
bool Statement::col_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
std::optional<int64_t> Statement::col_opt_int(int i) const {
  if (col_null(i)) return std::nullopt;
  return col_int(i);
}

}  // namespace cj::storage
