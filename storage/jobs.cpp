#include "storage/jobs.h"

#include "storage/transaction.h"

namespace cj::storage {
namespace {
constexpr const char* kCols =
    "id, book_id, kind, params, status, progress, message, result, checkpoint, created_at, updated_at";

Job row(const Statement& s) {
  Job j;
  j.id = s.col_int(0);
  j.book_id = s.col_opt_int(1);
  j.kind = s.col_text(2);
  j.params = s.col_text(3);
  j.status = s.col_text(4);
  j.progress = s.col_double(5);
  j.message = s.col_text(6);
  if (!s.col_null(7)) j.result = s.col_text(7);
  if (!s.col_null(8)) j.checkpoint = s.col_text(8);
  j.created_at = s.col_int(9);
  j.updated_at = s.col_int(10);
  return j;
}

bool valid_status(const std::string& s) {
  return s == "queued" || s == "running" || s == "paused" || s == "done" || s == "failed" || s == "cancelled";
}

Status changed_one(Database& db, int64_t id) {
  if (db.changes() == 0) return make_error("no job with id " + std::to_string(id));
  return Status::Ok();
}
}  // namespace

Result<int64_t> Jobs::create(const std::string& kind, const std::string& params, std::optional<int64_t> book_id) {
  if (kind.empty()) return make_error("a job needs a kind");
  auto st = db_.prepare("INSERT INTO jobs(book_id, kind, params, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, kind).bind(3, params).bind(4, now_ms());
  if (auto s = st->run(); !s.ok()) return make_error("cannot create job: " + s.error());
  return db_.last_insert_id();
}

Result<Job> Jobs::get(int64_t id) {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM jobs WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return make_error("no job with id " + std::to_string(id));
  return row(*st);
}

Result<std::vector<Job>> Jobs::list(const std::string& status) {
  auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM jobs WHERE ?1 = '' OR status = ?1 ORDER BY id");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, status);
  std::vector<Job> out;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    out.push_back(row(*st));
  }
  return out;
}

Result<std::optional<Job>> Jobs::claim_next(const std::string& kind) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("SELECT id FROM jobs WHERE status = 'queued' AND (?1 = '' OR kind = ?1) ORDER BY id LIMIT 1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, kind);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return std::optional<Job>();
  const int64_t id = st->col_int(0);
  st->reset();
  CJ_TRY(set_status(id, "running"));
  auto j = get(id);
  if (!j.ok()) return Error{j.error()};
  CJ_TRY(tx->commit());
  return std::optional<Job>(std::move(*j));
}

Status Jobs::set_progress(int64_t id, double progress, const std::string& message, std::optional<std::string> checkpoint) {
  if (!(progress >= 0 && progress <= 1)) return make_error("job progress must be between 0 and 1");
  auto st = db_.prepare(
      "UPDATE jobs SET progress = ?2, message = ?3, checkpoint = coalesce(?4, checkpoint), updated_at = ?5 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id).bind(2, progress).bind(3, message);
  if (checkpoint) st->bind(4, *checkpoint);
  else st->bind_null(4);
  CJ_TRY(st->bind(5, now_ms()).run());
  return changed_one(db_, id);
}

Status Jobs::finish(int64_t id, const std::string& status, const std::string& message, std::optional<std::string> result) {
  if (status != "done" && status != "failed" && status != "cancelled")
    return make_error("a job finishes as done, failed or cancelled, not '" + status + "'");
  auto st = db_.prepare(
      "UPDATE jobs SET status = ?2, message = ?3, result = ?4, progress = CASE WHEN ?2 = 'done' THEN 1 ELSE progress END,"
      " updated_at = ?5 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id).bind(2, status).bind(3, message);
  if (result) st->bind(4, *result);
  else st->bind_null(4);
  CJ_TRY(st->bind(5, now_ms()).run());
  return changed_one(db_, id);
}

Status Jobs::set_status(int64_t id, const std::string& status) {
  if (!valid_status(status)) return make_error("unknown job status '" + status + "'");
  auto st = db_.prepare("UPDATE jobs SET status = ?2, updated_at = ?3 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).bind(2, status).bind(3, now_ms()).run());
  return changed_one(db_, id);
}

Result<int64_t> Jobs::requeue_interrupted() {
  auto st = db_.prepare("UPDATE jobs SET status = 'queued', updated_at = ?1 WHERE status = 'running'");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, now_ms()).run());
  return static_cast<int64_t>(db_.changes());
}

Status Jobs::remove(int64_t id) {
  auto st = db_.prepare("DELETE FROM jobs WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).run());
  return changed_one(db_, id);
}

}  // namespace cj::storage
