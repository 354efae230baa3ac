// Transaction: RAII over BEGIN IMMEDIATE ... COMMIT. It rolls back unless commit() succeeded, so an early
// return or an error leaves the database as it was. Transactions nest: an inner one becomes a SAVEPOINT that
// rolls back only its own work (repositories open one around every multi-statement change, and a caller may
// wrap several repository calls in an outer one to make them atomic together).
#pragma once
#include <string>

#include "engine/base/result.h"

namespace cj::storage {

class Database;

class Transaction {
 public:
  // BEGIN IMMEDIATE (takes the write lock now, so a busy database fails here and not halfway through).
  static Result<Transaction> begin(Database& db);
  ~Transaction();
  Transaction(Transaction&& o) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;

  Status commit();
  void rollback();  // explicit early rollback; the destructor does this if commit() was not reached
  bool active() const { return db_ != nullptr; }

 private:
  Transaction(Database* db, std::string savepoint) : db_(db), savepoint_(std::move(savepoint)) {}
  Database* db_ = nullptr;
  std::string savepoint_;  // empty for the outermost transaction
};

}  // namespace cj::storage
