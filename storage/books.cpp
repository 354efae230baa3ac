#include "storage/books.h"

#include "storage/transaction.h"

namespace cj::storage {
namespace {
constexpr const char* kCols =
    "id, title, author, preamble, coalesce(source_name, ''), coalesce(source_hash, ''), coalesce(encoding, ''), "
    "created_at, updated_at";

Book row(const Statement& s) {
  return {s.col_int(0), s.col_text(1), s.col_text(2), s.col_text(3), s.col_text(4),
          s.col_text(5), s.col_text(6), s.col_int(7), s.col_int(8)};
}
}  // namespace

Result<int64_t> Books::create(const Book& b) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare(
      "INSERT INTO books(title, author, preamble, source_name, source_hash, encoding, created_at, updated_at)"
      " VALUES (?1, ?2, ?3, nullif(?4, ''), nullif(?5, ''), nullif(?6, ''), ?7, ?7)");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, b.title).bind(2, b.author).bind(3, b.preamble).bind(4, b.source_name).bind(5, b.source_hash);
  st->bind(6, b.encoding).bind(7, now_ms());
  if (auto s = st->run(); !s.ok()) return make_error("cannot create book «" + b.title + "»: " + s.error());
  const int64_t id = db_.last_insert_id();
  CJ_TRY(tx->commit());
  return id;
}

Result<Book> Books::get(int64_t id) {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM books WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return make_error("no book with id " + std::to_string(id) + " in " + db_.path());
  return row(*st);
}

Result<std::vector<Book>> Books::list() {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM books ORDER BY id");
  if (!st.ok()) return Error{st.error()};
  std::vector<Book> out;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    out.push_back(row(*st));
  }
  return out;
}

Result<std::optional<Book>> Books::find_by_source_hash(const std::string& hash) {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM books WHERE source_hash = ?1 ORDER BY id LIMIT 1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, hash);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return std::optional<Book>();
  return std::optional<Book>(row(*st));
}

Status Books::rename(int64_t id, const std::string& title) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("UPDATE books SET title = ?2, updated_at = ?3 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).bind(2, title).bind(3, now_ms()).run());
  if (db_.changes() == 0) return make_error("no book with id " + std::to_string(id));
  return tx->commit();
}

Status Books::remove(int64_t id) {
  CJ_TRY(db_.sync_search_lexicon());  // deleting chapters re-tokenizes them (search_index.h)
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("DELETE FROM books WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  if (auto s = st->bind(1, id).run(); !s.ok()) return make_error("cannot delete book " + std::to_string(id) + ": " + s.error());
  if (db_.changes() == 0) return make_error("no book with id " + std::to_string(id));
  return tx->commit();
}

Status Books::touch(int64_t id) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("UPDATE books SET updated_at = ?2 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).bind(2, now_ms()).run());
  return tx->commit();
}

}  // namespace cj::storage
