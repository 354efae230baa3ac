#include "storage/summaries.h"

#include "storage/transaction.h"

namespace cj::storage {
namespace {
constexpr const char* kCols =
    "id, book_id, level, first_chapter, last_chapter, part, text, token_count, source_hash, method, created_at";

SummaryNode row(const Statement& s) {
  return {s.col_int(0), s.col_int(1), static_cast<int>(s.col_int(2)), s.col_int(3), s.col_int(4), s.col_int(5),
          s.col_text(6), s.col_int(7), s.col_text(8), s.col_text(9), s.col_int(10)};
}

Result<std::vector<SummaryNode>> rows(Statement& st) {
  std::vector<SummaryNode> out;
  while (true) {
    auto r = st.step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    out.push_back(row(st));
  }
  return out;
}
}  // namespace

Result<int64_t> Summaries::put(const SummaryNode& n) {
  if (n.first_chapter > n.last_chapter) return make_error("a summary's chapter range is inverted");
  if (n.method.empty()) return make_error("a summary needs its method (extractive, abstractive:<model>)");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare(
      "INSERT INTO summary_nodes(book_id, level, first_chapter, last_chapter, part, text, token_count, source_hash,"
      " method, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
      " ON CONFLICT(book_id, level, first_chapter, last_chapter, part, method) DO UPDATE SET"
      " text = excluded.text, token_count = excluded.token_count, source_hash = excluded.source_hash,"
      " created_at = excluded.created_at RETURNING id");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, n.book_id).bind(2, static_cast<int64_t>(n.level)).bind(3, n.first_chapter).bind(4, n.last_chapter);
  st->bind(5, n.part).bind(6, n.text).bind(7, n.token_count).bind(8, n.source_hash).bind(9, n.method).bind(10, now_ms());
  auto r = st->step();
  if (!r.ok()) return make_error("cannot store summary: " + r.error());
  const int64_t id = st->col_int(0);
  st->reset();
  CJ_TRY(tx->commit());
  return id;
}

Result<SummaryNode> Summaries::get(int64_t id) {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM summary_nodes WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return make_error("no summary with id " + std::to_string(id));
  return row(*st);
}

Result<std::optional<SummaryNode>> Summaries::find(int64_t book_id, int level, int64_t first, int64_t last,
                                                   int64_t part, const std::string& method) {
  auto st = db_.prepare(std::string("SELECT ") + kCols +
                        " FROM summary_nodes WHERE book_id = ?1 AND level = ?2 AND first_chapter = ?3 AND"
                        " last_chapter = ?4 AND part = ?5 AND (?6 = '' OR method = ?6) ORDER BY created_at DESC LIMIT 1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, static_cast<int64_t>(level)).bind(3, first).bind(4, last).bind(5, part).bind(6, method);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return std::optional<SummaryNode>();
  return std::optional<SummaryNode>(row(*st));
}

Result<std::vector<SummaryNode>> Summaries::list(int64_t book_id, int level) {
  auto st = db_.prepare(std::string("SELECT ") + kCols +
                        " FROM summary_nodes WHERE book_id = ?1 AND (?2 < 0 OR level = ?2)"
                        " ORDER BY level, first_chapter, part, id");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, static_cast<int64_t>(level));
  return rows(*st);
}

Result<std::vector<SummaryNode>> Summaries::covering(int64_t book_id, int64_t ordinal) {
  auto st = db_.prepare(std::string("SELECT ") + kCols +
                        " FROM summary_nodes WHERE book_id = ?1 AND first_chapter <= ?2 AND last_chapter >= ?2"
                        " ORDER BY level, first_chapter, part, id");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, ordinal);
  return rows(*st);
}

Status Summaries::remove(int64_t id) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("DELETE FROM summary_nodes WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).run());
  if (db_.changes() == 0) return make_error("no summary with id " + std::to_string(id));
  return tx->commit();
}

}  // namespace cj::storage
