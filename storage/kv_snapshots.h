// Metadata of KV-cache snapshots saved to disk by the engine (the files themselves live next to the project):
// which model (model_hash) and which token prefix (prefix_hash) a snapshot holds, its size and when it was
// last used, so that the cache can be found again and evicted least-recently-used first.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

struct KvSnapshot {
  int64_t id = 0;
  std::optional<int64_t> book_id;
  std::string model_hash;
  std::string prefix_hash;
  int64_t token_count = 0;
  std::string file;
  int64_t bytes = 0;
  int64_t created_at = 0;
  int64_t last_used = 0;  // ms since epoch
};

class KvSnapshots {
 public:
  explicit KvSnapshots(Database& db) : db_(db) {}

  // Records a snapshot (replacing the record with the same model and prefix hash); returns its id.
  Result<int64_t> put(const KvSnapshot& s);
  // The snapshot for (model, prefix), if recorded; marks it used now.
  Result<std::optional<KvSnapshot>> find(const std::string& model_hash, const std::string& prefix_hash);
  Status touch(int64_t id);
  // All snapshots, least recently used first (eviction order).
  Result<std::vector<KvSnapshot>> list_lru();
  Result<int64_t> total_bytes();
  Status remove(int64_t id);

 private:
  Database& db_;
};

}  // namespace cj::storage
