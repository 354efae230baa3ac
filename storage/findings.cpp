#include "storage/findings.h"

#include "storage/transaction.h"

namespace cj::storage {
namespace {
constexpr const char* kCols =
"id, book_id, chapter, span_begin, span_end, kind, message, evidence, status, job_id, created_at, updated_at, subject";

Finding row(const Statement& s) {
  Finding f{s.col_int(0), s.col_int(1), s.col_int(2), s.col_int(3), s.col_int(4), s.col_text(5),
            s.col_text(6), s.col_text(7), "", s.col_text(8), s.col_opt_int(9), s.col_int(10), s.col_int(11)};
  f.subject = s.col_text(12);
  return f;
}

bool valid_status(const std::string& s) { return s == "open" || s == "accepted" || s == "dismissed" || s == "fixed"; }
}  // namespace

Result<int64_t> Findings::add(const Finding& f) {
  if (f.kind.empty() || f.message.empty()) return make_error("a finding needs a kind and a message");
  if (f.span_begin < 0 || f.span_end < f.span_begin) return make_error("a finding's span is invalid");
  if (!valid_status(f.status)) return make_error("unknown finding status '" + f.status + "'");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare(
      "INSERT INTO findings(book_id, chapter, span_begin, span_end, kind, message, evidence, status, job_id,"
      " created_at, updated_at, subject) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, f.book_id).bind(2, f.chapter).bind(3, f.span_begin).bind(4, f.span_end).bind(5, f.kind);
  st->bind(6, f.message).bind(7, f.evidence).bind(8, f.status).bind(9, f.job_id).bind(10, now_ms()).bind(11, f.subject);
  if (auto s = st->run(); !s.ok()) return make_error("cannot store finding: " + s.error());
  const int64_t id = db_.last_insert_id();
  CJ_TRY(tx->commit());
  return id;
}

Result<Finding> Findings::get(int64_t id) {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM findings WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return make_error("no finding with id " + std::to_string(id));
  return row(*st);
}

Result<std::vector<Finding>> Findings::list(int64_t book_id, std::optional<int64_t> chapter, const std::string& status) {
  auto st = db_.prepare(std::string("SELECT ") + kCols +
                        " FROM findings WHERE book_id = ?1 AND (?2 IS NULL OR chapter = ?2) AND (?3 = '' OR status = ?3)"
                        " ORDER BY chapter, span_begin, id");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, chapter).bind(3, status);
  std::vector<Finding> out;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    out.push_back(row(*st));
  }
  return out;
}

Status Findings::set_status(int64_t id, const std::string& status) {
  if (!valid_status(status)) return make_error("unknown finding status '" + status + "' (open, accepted, dismissed, fixed)");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("UPDATE findings SET status = ?2, updated_at = ?3 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).bind(2, status).bind(3, now_ms()).run());
  if (db_.changes() == 0) return make_error("no finding with id " + std::to_string(id));
  return tx->commit();
}

Status Findings::remove(int64_t id) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("DELETE FROM findings WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).run());
  if (db_.changes() == 0) return make_error("no finding with id " + std::to_string(id));
  return tx->commit();
}

}  // namespace cj::storage
