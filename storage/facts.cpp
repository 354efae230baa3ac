#include "storage/facts.h"

#include "storage/transaction.h"

namespace cj::storage {
namespace {
constexpr const char* kCols =
    "id, book_id, entity_id, predicate, value, object_id, valid_from, valid_to, source_chapter, source_offset, origin, "
    "created_at";

Fact row(const Statement& s) {
  Fact f;
  f.id = s.col_int(0);
  f.book_id = s.col_int(1);
  f.entity_id = s.col_int(2);
  f.predicate = s.col_text(3);
  f.value = s.col_text(4);
  f.object_id = s.col_opt_int(5);
  f.valid_from = s.col_opt_int(6);
  f.valid_to = s.col_opt_int(7);
  f.source_chapter = s.col_opt_int(8);
  f.source_offset = s.col_opt_int(9);
  f.origin = s.col_text(10);
  f.created_at = s.col_int(11);
  return f;
}
}  // namespace

Result<int64_t> Facts::add(const Fact& f) {
  if (f.predicate.empty()) return make_error("a fact needs a predicate (e.g. 状态, 住在)");
  if (f.valid_from && f.valid_to && *f.valid_from > *f.valid_to)
    return make_error("a fact's validity range is inverted (from chapter " + std::to_string(*f.valid_from) +
                      " to " + std::to_string(*f.valid_to) + ")");
  if (f.origin != "writer" && f.origin != "extracted" && f.origin != "import")
    return make_error("unknown fact origin '" + f.origin + "'");
  // The write lock first: the entity check below is a read, and a read transaction cannot wait for the lock
  // when the INSERT upgrades it (SQLite skips the busy handler there: "database is locked" at once).
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return make_error("cannot add fact: " + tx.error());
  auto chk = db_.prepare("SELECT count(*) FROM entities WHERE id = ?1 AND book_id = ?2");
  if (!chk.ok()) return Error{chk.error()};
  for (auto id : {std::optional<int64_t>(f.entity_id), f.object_id}) {
    if (!id) continue;
    chk->reset();
    chk->bind(1, *id).bind(2, f.book_id);
    auto r = chk->step();
    if (!r.ok()) return Error{r.error()};
    if (chk->col_int(0) == 0)
      return make_error("no entity with id " + std::to_string(*id) + " in book " + std::to_string(f.book_id));
  }
  auto st = db_.prepare(
      "INSERT INTO facts(book_id, entity_id, predicate, value, object_id, valid_from, valid_to, source_chapter,"
      " source_offset, origin, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, f.book_id).bind(2, f.entity_id).bind(3, f.predicate).bind(4, f.value).bind(5, f.object_id);
  st->bind(6, f.valid_from).bind(7, f.valid_to).bind(8, f.source_chapter).bind(9, f.source_offset);
  st->bind(10, f.origin).bind(11, now_ms());
  if (auto s = st->run(); !s.ok()) return make_error("cannot add fact: " + s.error());
  const int64_t id = db_.last_insert_id();
  if (auto s = tx->commit(); !s.ok()) return make_error("cannot add fact: " + s.error());
  return id;
}

Result<Fact> Facts::get(int64_t id) {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM facts WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return make_error("no fact with id " + std::to_string(id));
  return row(*st);
}

Result<std::vector<Fact>> Facts::query(const std::string& where, int64_t book_id, std::optional<int64_t> entity_id,
                                       std::optional<int64_t> ordinal) {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM facts WHERE book_id = ?1 AND (?2 IS NULL OR entity_id = ?2)" +
                        where + " ORDER BY entity_id, coalesce(valid_from, -1), id");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, entity_id);
  if (ordinal) st->bind(3, *ordinal);
  std::vector<Fact> out;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    out.push_back(row(*st));
  }
  return out;
}

Result<std::vector<Fact>> Facts::list(int64_t book_id, std::optional<int64_t> entity_id) {
  return query("", book_id, entity_id, std::nullopt);
}

Result<std::vector<Fact>> Facts::as_of(int64_t book_id, int64_t ordinal, std::optional<int64_t> entity_id) {
  return query(" AND (valid_from IS NULL OR valid_from <= ?3) AND (valid_to IS NULL OR valid_to >= ?3)", book_id,
               entity_id, ordinal);
}

Status Facts::set_valid_to(int64_t id, std::optional<int64_t> valid_to) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("UPDATE facts SET valid_to = ?2 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  if (auto s = st->bind(1, id).bind(2, valid_to).run(); !s.ok()) {
    if (s.error().find("CHECK") != std::string::npos) return make_error("valid_to would come before valid_from");
    return Error{s.error()};
  }
  if (db_.changes() == 0) return make_error("no fact with id " + std::to_string(id));
  return tx->commit();
}

Status Facts::remove(int64_t id) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("DELETE FROM facts WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).run());
  if (db_.changes() == 0) return make_error("no fact with id " + std::to_string(id));
  return tx->commit();
}

}  // namespace cj::storage
