#include "storage/transaction.h"

#include <atomic>

#include "storage/database.h"

namespace cj::storage {

Result<Transaction> Transaction::begin(Database& db) {
  if (!db.in_transaction()) {
    if (auto s = db.exec("BEGIN IMMEDIATE"); !s.ok()) return Error{s.error()};
    return Transaction(&db, "");
  }
  static std::atomic<uint64_t> counter{0};
  std::string name = "cj_sp_" + std::to_string(++counter);
  if (auto s = db.exec("SAVEPOINT " + name); !s.ok()) return Error{s.error()};
  return Transaction(&db, std::move(name));
}

Transaction::Transaction(Transaction&& o) noexcept : db_(o.db_), savepoint_(std::move(o.savepoint_)) { o.db_ = nullptr; }

Transaction::~Transaction() { rollback(); }

Status Transaction::commit() {
  CJ_ASSERT_MSG(db_, "commit() on a finished transaction");
  Status s = db_->exec(savepoint_.empty() ? "COMMIT" : "RELEASE " + savepoint_);
  if (!s.ok()) {
    rollback();
    return s;
  }
  db_ = nullptr;
  return s;
}

void Transaction::rollback() {
  if (!db_) return;
  if (savepoint_.empty()) {
    if (db_->in_transaction()) (void)db_->exec("ROLLBACK");
  } else {
    (void)db_->exec("ROLLBACK TO " + savepoint_);
    (void)db_->exec("RELEASE " + savepoint_);
  }
  db_ = nullptr;
}

}  // namespace cj::storage
