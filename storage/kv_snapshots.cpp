#include "storage/kv_snapshots.h"

#include "storage/transaction.h"

namespace cj::storage {
namespace {
constexpr const char* kCols = "id, book_id, model_hash, prefix_hash, token_count, file, bytes, created_at, last_used";

KvSnapshot row(const Statement& s) {
  return {s.col_int(0), s.col_opt_int(1), s.col_text(2), s.col_text(3), s.col_int(4),
          s.col_text(5), s.col_int(6),    s.col_int(7),  s.col_int(8)};
}
}  // namespace

Result<int64_t> KvSnapshots::put(const KvSnapshot& s) {
  if (s.model_hash.empty() || s.prefix_hash.empty() || s.file.empty())
    return make_error("a KV snapshot needs a model hash, a prefix hash and a file");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare(
      "INSERT INTO kv_snapshots(book_id, model_hash, prefix_hash, token_count, file, bytes, created_at, last_used)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT(model_hash, prefix_hash) DO UPDATE SET"
      " book_id = excluded.book_id, token_count = excluded.token_count, file = excluded.file, bytes = excluded.bytes,"
      " created_at = excluded.created_at, last_used = excluded.last_used RETURNING id");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, s.book_id).bind(2, s.model_hash).bind(3, s.prefix_hash).bind(4, s.token_count).bind(5, s.file);
  st->bind(6, s.bytes).bind(7, now_ms());
  auto r = st->step();
  if (!r.ok()) return make_error("cannot record KV snapshot: " + r.error());
  const int64_t id = st->col_int(0);
  st->reset();
  CJ_TRY(tx->commit());
  return id;
}

Result<std::optional<KvSnapshot>> KvSnapshots::find(const std::string& model_hash, const std::string& prefix_hash) {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM kv_snapshots WHERE model_hash = ?1 AND prefix_hash = ?2");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, model_hash).bind(2, prefix_hash);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return std::optional<KvSnapshot>();
  KvSnapshot s = row(*st);
  st->reset();
  if (!db_.read_only()) {
    CJ_TRY(touch(s.id));
    s.last_used = now_ms();
  }
  return std::optional<KvSnapshot>(std::move(s));
}

Status KvSnapshots::touch(int64_t id) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  // The one touched is the most recently used, also when another was put or touched in the same millisecond.
  auto st = db_.prepare(
      "UPDATE kv_snapshots SET last_used = max(?2, (SELECT max(last_used) FROM kv_snapshots) + 1) WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).bind(2, now_ms()).run());
  if (db_.changes() == 0) return make_error("no KV snapshot with id " + std::to_string(id));
  return tx->commit();
}

Result<std::vector<KvSnapshot>> KvSnapshots::list_lru() {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM kv_snapshots ORDER BY last_used, id");
  if (!st.ok()) return Error{st.error()};
  std::vector<KvSnapshot> out;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    out.push_back(row(*st));
  }
  return out;
}

Result<int64_t> KvSnapshots::total_bytes() { return db_.query_int("SELECT coalesce(sum(bytes), 0) FROM kv_snapshots"); }

Status KvSnapshots::remove(int64_t id) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("DELETE FROM kv_snapshots WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).run());
  if (db_.changes() == 0) return make_error("no KV snapshot with id " + std::to_string(id));
  return tx->commit();
}

}  // namespace cj::storage
