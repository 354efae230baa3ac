// Persistent jobs (summarize, check, draft...): kind, JSON params, status, progress 0..1, a message, a JSON
// result and a JSON checkpoint to resume from. The studio's job queue runs them; this is only their record.
// Status moves queued -> running -> done | failed | cancelled (or paused -> queued). After a crash,
// requeue_interrupted() puts jobs left "running" back in the queue so they resume from their checkpoint.
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
};

class Jobs {
 public:
  explicit Jobs(Database& db) : db_(db) {}

  Result<int64_t> create(const std::string& kind, const std::string& params_json = "{}",
                         std::optional<int64_t> book_id = std::nullopt);
  Result<Job> get(int64_t id);
  // Jobs with the given status (all if empty), oldest first.
  Result<std::vector<Job>> list(const std::string& status = "");
  // Atomically takes the oldest queued job (of `kind`, or any) and marks it running.
  Result<std::optional<Job>> claim_next(const std::string& kind = "");
  Status set_progress(int64_t id, double progress, const std::string& message,
                      std::optional<std::string> checkpoint_json = std::nullopt);
  // Final states: done (with result), failed (message says why), cancelled.
  Status finish(int64_t id, const std::string& status, const std::string& message = "",
                std::optional<std::string> result_json = std::nullopt);
  Status set_status(int64_t id, const std::string& status);  // e.g. paused, queued
  // running -> queued for every job (call once at start-up); returns how many.
  Result<int64_t> requeue_interrupted();
  Status remove(int64_t id);

 private:
  Database& db_;
};

}  // namespace cj::storage
