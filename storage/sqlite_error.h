// Turns SQLite result codes into messages a writer can act on ("the disk is full", "read-only", "locked by
// another program") — the one place where SQLite errors become text (storage's error boundary).
#pragma once
#include <string>
#include <string_view>

struct sqlite3;

namespace cj::storage {

// `what` says what was being done ("cannot save chapter 3"); the connection's own message is appended.
std::string describe_sqlite(sqlite3* db, int rc, std::string_view what);

}  // namespace cj::storage
