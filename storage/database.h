// Database: one book project = one SQLite file. Opening it checks the file's structure (PRAGMA quick_check: a
// damaged file is refused with a message saying so), applies the connection settings (WAL journal,
// foreign keys, a 5 s busy timeout, synchronous=NORMAL: a killed process never corrupts the file and loses at
// most the transaction in flight), registers the Chinese full-text tokenizer ("cj", fts_tokenizer.h) and brings
// the schema up to date by `user_version` migrations, all of them in one transaction (schema.cpp).
//
// Errors from SQLite are turned into messages a user can act on at this boundary: a full disk says "disk is
// full", a read-only file or folder says "read-only", a locked file says which. Nothing here throws.
//
// Threading: a Database is one connection; use it from one thread at a time (open one per thread — SQLite's
// WAL lets readers and one writer work concurrently across connections and processes).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/result.h"
#include "storage/statement.h"

struct sqlite3;

namespace cj::storage {

struct SearchTokenizerState;  // fts_tokenizer.h

struct OpenOptions {
  bool create = true;      // create the file if it does not exist
  bool read_only = false;  // SQLITE_OPEN_READONLY: every write fails with a "read-only" error
  bool check = true;       // PRAGMA quick_check on open: a damaged file is an error that says so (~35 ms per 13 MB)
};

class Database {
 public:
  // Opens (or creates) `path`; ":memory:" gives a private in-memory database (tests).
  static Result<std::unique_ptr<Database>> open(const std::string& path, OpenOptions opts = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Prepares one statement. Errors name the SQL.
  Result<Statement> prepare(std::string_view sql);
  // Runs one or more statements that return no rows we need (DDL, PRAGMA setters).
  Status exec(std::string_view sql);
  // Convenience for "SELECT <one integer>" (e.g. PRAGMA user_version); `def` when no row.
  Result<int64_t> query_int(std::string_view sql, int64_t def = 0);
  Result<std::string> query_text(std::string_view sql);

  int64_t last_insert_id() const;
  int changes() const;  // rows changed by the last INSERT/UPDATE/DELETE
  bool read_only() const { return read_only_; }
  bool in_transaction() const;
  const std::string& path() const { return path_; }
  int schema_version() const { return schema_version_; }
  static int latest_schema_version();

  // A readable message for SQLite result code `rc` (with the connection's own message), prefixed by `what`.
  std::string describe(int rc, std::string_view what) const;

  // The full-text tokenizer's per-connection state (the index lexicon). Repositories call
  // sync_search_lexicon() before any statement that (re)tokenizes chapter text, so that this connection
  // tokenizes with the same lexicon the index was built with (search_index.h explains why).
  SearchTokenizerState& tokenizer_state() { return *tok_; }
  Status sync_search_lexicon();

  sqlite3* handle() const { return db_; }

 private:
  Database() = default;
  Status configure(const OpenOptions& opts);
  Status migrate();

  sqlite3* db_ = nullptr;
  std::string path_;
  bool read_only_ = false;
  int schema_version_ = 0;
  std::unique_ptr<SearchTokenizerState> tok_;
};

// Milliseconds since the Unix epoch (all timestamps in the schema use it).
int64_t now_ms();

}  // namespace cj::storage
