#include "storage/jobs.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "storage/transaction.h"

namespace cj::storage {
namespace {
constexpr const char* kCols =
    "id, book_id, kind, params, status, progress, message, result, checkpoint, created_at, updated_at, lease_owner, "
    "lease_pid, lease_host, heartbeat_at";

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
  j.lease_owner = s.col_text(11);
  j.lease_pid = s.col_int(12);
  j.lease_host = s.col_text(13);
  j.heartbeat_at = s.col_int(14);
  return j;
}

bool valid_status(const std::string& s) {
  return s == "queued" || s == "running" || s == "paused" || s == "done" || s == "failed" || s == "cancelled";
}

Status changed_one(Database& db, int64_t id) {
  if (db.changes() == 0) return make_error("no job with id " + std::to_string(id));
  return Status::Ok();
}

bool pid_alive(int64_t pid) { return pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM); }

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}
}  // namespace

const JobLease& this_process_lease() {
  // One per thread (two runners in one process are told apart), recomputed in a forked child, which must not pass
  // for its parent.
  static thread_local pid_t for_pid = 0;
  static thread_local JobLease lease;
  if (for_pid != ::getpid()) {
    for_pid = ::getpid();
    std::random_device rd;
    char nonce[16];
    std::snprintf(nonce, sizeof nonce, "%08x", unsigned(rd()));
    lease.host = host_name();
    lease.pid = for_pid;
    lease.owner = lease.host + ":" + std::to_string(for_pid) + ":" + nonce;
  }
  return lease;
}

bool Jobs::lease_is_stale(const Job& j, int64_t now, int64_t stale_after_ms) {
  if (j.status != "running") return false;
  if (j.lease_owner.empty()) return true;  // left running by a runner from before leases, or by hand
  if (j.lease_host == this_process_lease().host && !pid_alive(j.lease_pid)) return true;
  return now - j.heartbeat_at > stale_after_ms;
}

std::string Jobs::lease_holder(const Job& j, int64_t now) {
  return "process " + std::to_string(j.lease_pid) + " on " + j.lease_host + " (heartbeat " +
         std::to_string(std::max<int64_t>(0, now - j.heartbeat_at) / 1000) + " s ago)";
}

Result<int64_t> Jobs::create(const std::string& kind, const std::string& params, std::optional<int64_t> book_id) {
  if (kind.empty()) return make_error("a job needs a kind");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("INSERT INTO jobs(book_id, kind, params, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, kind).bind(3, params).bind(4, now_ms());
  if (auto s = st->run(); !s.ok()) return make_error("cannot create job: " + s.error());
  const int64_t id = db_.last_insert_id();
  CJ_TRY(tx->commit());
  return id;
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

Result<std::optional<Job>> Jobs::claim_where(const std::string& where, int64_t id, const std::string& kind,
                                             const JobLease& lease, int64_t stale_after_ms) {
  // The write lock first, then the look: no other runner can claim between the two.
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  std::vector<Job> candidates;
  {
    auto st = db_.prepare(std::string("SELECT ") + kCols + " FROM jobs WHERE " + where + " ORDER BY id");
    if (!st.ok()) return Error{st.error()};
    st->bind(1, id).bind(2, kind);
    while (true) {
      auto r = st->step();
      if (!r.ok()) return Error{r.error()};
      if (!*r) break;
      candidates.push_back(row(*st));
    }
  }
  const int64_t now = now_ms();
  for (Job& j : candidates) {
    if (j.status == "running" && !lease_is_stale(j, now, stale_after_ms)) {
      if (id > 0) return make_error("job " + std::to_string(j.id) + " is running in " + lease_holder(j, now));
      continue;
    }
    if (j.status != "queued" && j.status != "running") {
      if (id > 0) return make_error("job " + std::to_string(j.id) + " is " + j.status + ", not queued");
      continue;
    }
    auto up = db_.prepare(
        "UPDATE jobs SET status = 'running', lease_owner = ?2, lease_pid = ?3, lease_host = ?4, heartbeat_at = ?5,"
        " updated_at = ?5 WHERE id = ?1");
    if (!up.ok()) return Error{up.error()};
    CJ_TRY(up->bind(1, j.id).bind(2, lease.owner).bind(3, lease.pid).bind(4, lease.host).bind(5, now).run());
    CJ_TRY(tx->commit());
    j.status = "running";
    j.lease_owner = lease.owner;
    j.lease_pid = lease.pid;
    j.lease_host = lease.host;
    j.heartbeat_at = now;
    j.updated_at = now;
    return std::optional<Job>(std::move(j));
  }
  if (id > 0 && candidates.empty()) return make_error("no job with id " + std::to_string(id));
  return std::optional<Job>();
}

Result<std::optional<Job>> Jobs::claim_next(const std::string& kind, const JobLease& lease, int64_t stale_after_ms) {
  return claim_where("?1 = ?1 AND status IN ('queued', 'running') AND (?2 = '' OR kind = ?2)", 0, kind, lease,
                     stale_after_ms);
}

Result<Job> Jobs::claim(int64_t id, const JobLease& lease, int64_t stale_after_ms) {
  auto r = claim_where("id = ?1 AND ?2 = ?2", id, "", lease, stale_after_ms);
  if (!r.ok()) return Error{r.error()};
  if (!r->has_value()) return make_error("job " + std::to_string(id) + " cannot be claimed");
  return std::move(**r);
}

Result<bool> Jobs::heartbeat(int64_t id, const std::string& owner) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("UPDATE jobs SET heartbeat_at = ?3 WHERE id = ?1 AND lease_owner = ?2");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).bind(2, owner).bind(3, now_ms()).run());
  const bool ours = db_.changes() > 0;
  CJ_TRY(tx->commit());
  return ours;
}

Result<bool> Jobs::checkpoint(int64_t id, const std::string& owner, double progress, const std::string& message,
                              std::optional<std::string> checkpoint) {
  if (!(progress >= 0 && progress <= 1)) return make_error("job progress must be between 0 and 1");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare(
      "UPDATE jobs SET progress = ?3, message = ?4, checkpoint = coalesce(?5, checkpoint), updated_at = ?6,"
      " heartbeat_at = ?6 WHERE id = ?1 AND lease_owner = ?2");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id).bind(2, owner).bind(3, progress).bind(4, message);
  if (checkpoint) st->bind(5, *checkpoint);
  else st->bind_null(5);
  CJ_TRY(st->bind(6, now_ms()).run());
  const bool ours = db_.changes() > 0;
  CJ_TRY(tx->commit());
  return ours;
}

Result<bool> Jobs::release(int64_t id, const std::string& owner, const std::string& status, const std::string& message,
                           std::optional<std::string> result) {
  if (status != "done" && status != "failed" && status != "cancelled" && status != "queued" && status != "paused")
    return make_error("a runner leaves a job done, failed, cancelled, queued or paused, not '" + status + "'");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare(
      "UPDATE jobs SET status = ?3, message = ?4, result = coalesce(?5, result),"
      " progress = CASE WHEN ?3 = 'done' THEN 1 ELSE progress END, updated_at = ?6 WHERE id = ?1 AND lease_owner = ?2");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id).bind(2, owner).bind(3, status).bind(4, message);
  if (result) st->bind(5, *result);
  else st->bind_null(5);
  CJ_TRY(st->bind(6, now_ms()).run());
  const bool ours = db_.changes() > 0;
  CJ_TRY(tx->commit());
  return ours;
}

Status Jobs::set_progress(int64_t id, double progress, const std::string& message, std::optional<std::string> checkpoint) {
  if (!(progress >= 0 && progress <= 1)) return make_error("job progress must be between 0 and 1");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare(
      "UPDATE jobs SET progress = ?2, message = ?3, checkpoint = coalesce(?4, checkpoint), updated_at = ?5 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id).bind(2, progress).bind(3, message);
  if (checkpoint) st->bind(4, *checkpoint);
  else st->bind_null(4);
  CJ_TRY(st->bind(5, now_ms()).run());
  CJ_TRY(changed_one(db_, id));
  return tx->commit();
}

Status Jobs::finish(int64_t id, const std::string& status, const std::string& message, std::optional<std::string> result) {
  if (status != "done" && status != "failed" && status != "cancelled")
    return make_error("a job finishes as done, failed or cancelled, not '" + status + "'");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare(
      "UPDATE jobs SET status = ?2, message = ?3, result = ?4, progress = CASE WHEN ?2 = 'done' THEN 1 ELSE progress END,"
      " updated_at = ?5 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id).bind(2, status).bind(3, message);
  if (result) st->bind(4, *result);
  else st->bind_null(4);
  CJ_TRY(st->bind(5, now_ms()).run());
  CJ_TRY(changed_one(db_, id));
  return tx->commit();
}

Status Jobs::set_status(int64_t id, const std::string& status) {
  if (!valid_status(status)) return make_error("unknown job status '" + status + "'");
  if (status == "running") return make_error("a job becomes running only by being claimed (Jobs::claim)");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("UPDATE jobs SET status = ?2, updated_at = ?3 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).bind(2, status).bind(3, now_ms()).run());
  CJ_TRY(changed_one(db_, id));
  return tx->commit();
}

Result<int64_t> Jobs::requeue_stale(int64_t stale_after_ms) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto running = list("running");
  if (!running.ok()) return Error{running.error()};
  const int64_t now = now_ms();
  int64_t n = 0;
  for (const Job& j : *running) {
    if (!lease_is_stale(j, now, stale_after_ms)) continue;
    auto st = db_.prepare("UPDATE jobs SET status = 'queued', updated_at = ?2 WHERE id = ?1 AND status = 'running'");
    if (!st.ok()) return Error{st.error()};
    CJ_TRY(st->bind(1, j.id).bind(2, now).run());
    n += db_.changes();
  }
  CJ_TRY(tx->commit());
  return n;
}

Status Jobs::remove(int64_t id) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("DELETE FROM jobs WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).run());
  CJ_TRY(changed_one(db_, id));
  return tx->commit();
}

}  // namespace cj::storage
