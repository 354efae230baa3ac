// Persistent jobs (summarize, check, draft...): kind, JSON params, status, progress 0..1, a message, a JSON
// result and a JSON checkpoint to resume from. The studio's job runner runs them; this is their record.
// Status moves queued -> running -> done | failed | cancelled (or paused -> queued).
//
// Leases: a runner (the GUI's queue or a CLI command, in any process) takes a job with claim()/claim_next(),
// which marks it running under its lease (owner = host:pid:nonce, pid, host) and the time of its heartbeat; while
// it runs, heartbeat() renews that time. Another runner may take a running job only when its lease is stale —
// the owner's process is gone (same host) or its heartbeat is older than the staleness limit — so a CLI `draft`
// never steals the GUI's running job and two processes never generate the same chapter. The runner's own writes
// (checkpoint, release) apply only while it still holds the lease; a runner that finds its lease taken stops.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

struct Job {
  int64_t id = 0;
  std::optional<int64_t> book_id;
  std::string kind;
  std::string params = "{}";       // JSON
  std::string status = "queued";   // queued, running, paused, done, failed, cancelled
  double progress = 0;             // 0..1
  std::string message;
  std::optional<std::string> result;      // JSON
  std::optional<std::string> checkpoint;  // JSON
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::string lease_owner;         // who claimed it last ("" never claimed)
  int64_t lease_pid = 0;
  std::string lease_host;
  int64_t heartbeat_at = 0;        // ms; renewed while it runs
};

// Who runs a job: this thread of this process (host:pid:nonce; each thread, and a forked child, gets its own).
struct JobLease {
  std::string owner;
  int64_t pid = 0;
  std::string host;
};
const JobLease& this_process_lease();

class Jobs {
 public:
  static constexpr int64_t kStaleAfterMs = 30000;  // a heartbeat older than this is a dead runner's
  static constexpr int64_t kHeartbeatMs = 5000;    // how often a runner renews its lease

  explicit Jobs(Database& db) : db_(db) {}

  Result<int64_t> create(const std::string& kind, const std::string& params_json = "{}",
                         std::optional<int64_t> book_id = std::nullopt);
  Result<Job> get(int64_t id);
  // Jobs with the given status (all if empty), oldest first.
  Result<std::vector<Job>> list(const std::string& status = "");

  // Atomically takes the oldest job (of `kind`, or any) that is queued or running under a stale lease, and marks
  // it running under `lease`.
  Result<std::optional<Job>> claim_next(const std::string& kind = "", const JobLease& lease = this_process_lease(),
                                        int64_t stale_after_ms = kStaleAfterMs);
  // Takes job `id` (queued, or running under a stale lease). A live runner's job is an error naming it.
  Result<Job> claim(int64_t id, const JobLease& lease = this_process_lease(), int64_t stale_after_ms = kStaleAfterMs);
  // A running job whose runner is gone: its process died (this host) or its heartbeat is older than the limit.
  static bool lease_is_stale(const Job& j, int64_t now_ms, int64_t stale_after_ms = kStaleAfterMs);
  // Who holds a running job, for messages: "process 123 on host (heartbeat 2 s ago)".
  static std::string lease_holder(const Job& j, int64_t now_ms);

  // The runner's writes: only while `owner` holds the lease (false: another runner took the job over).
  Result<bool> heartbeat(int64_t id, const std::string& owner);
  Result<bool> checkpoint(int64_t id, const std::string& owner, double progress, const std::string& message,
                          std::optional<std::string> checkpoint_json = std::nullopt);
  // Final or interim state from the runner: done/failed/cancelled (with result) or queued/paused.
  Result<bool> release(int64_t id, const std::string& owner, const std::string& status, const std::string& message,
                       std::optional<std::string> result_json = std::nullopt);

  // Controllers (any process: jobs cancel, pause, resume, the GUI's buttons):
  Status set_progress(int64_t id, double progress, const std::string& message,
                      std::optional<std::string> checkpoint_json = std::nullopt);
  // Final states: done (with result), failed (message says why), cancelled.
  Status finish(int64_t id, const std::string& status, const std::string& message = "",
                std::optional<std::string> result_json = std::nullopt);
  Status set_status(int64_t id, const std::string& status);  // e.g. paused, queued (not running: claim())
  // running -> queued for every job whose lease is stale (crashed runners); returns how many. Jobs of live
  // runners are left alone.
  Result<int64_t> requeue_stale(int64_t stale_after_ms = kStaleAfterMs);
  Status remove(int64_t id);

 private:
  Result<std::optional<Job>> claim_where(const std::string& where, int64_t id, const std::string& kind,
                                         const JobLease& lease, int64_t stale_after_ms);
  Database& db_;
};

}  // namespace cj::storage
