#include "storage/database.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unicode/uversion.h>

#include <chrono>

#include "engine/base/text.h"

#include "storage/fts_snippet.h"
#include "storage/fts_tokenizer.h"
#include "storage/schema.h"
#include "storage/search_index.h"
#include "storage/sqlite_error.h"
#include "storage/transaction.h"

namespace cj::storage {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
std::string icu_version_string() {
  UVersionInfo v;
  u_getVersion(v);
  char buf[U_MAX_VERSION_STRING_LENGTH];
  u_versionToString(v, buf);
  // The index depends on ICU's dictionary and on our own tokenizer: either changing rebuilds it.
  return std::string(buf) + "/cj" + std::to_string(kTokenizerVersion);
}
// cj_zishu(text): 字数 as every surface counts it (engine/base/text.h).
void zishu_fn(sqlite3_context* ctx, int, sqlite3_value** v) {
  const char* t = reinterpret_cast<const char*>(sqlite3_value_text(v[0]));
  const int n = sqlite3_value_bytes(v[0]);
  sqlite3_result_int64(ctx, t ? static_cast<sqlite3_int64>(text::zishu(std::string_view(t, static_cast<size_t>(n)))) : 0);
}
}  // namespace

int Database::latest_schema_version() { return static_cast<int>(schema_migrations().size()); }

Result<std::unique_ptr<Database>> Database::open(const std::string& path, OpenOptions opts) {
  std::unique_ptr<Database> d(new Database());
  d->path_ = path;
  d->read_only_ = opts.read_only;
  d->tok_ = std::make_unique<SearchTokenizerState>();
  const bool memory = path == ":memory:" || path.empty();
  if (!memory && (!opts.create || opts.read_only)) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return make_error("cannot open " + path + ": no such database file");
  }
  int flags = opts.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | (opts.create ? SQLITE_OPEN_CREATE : 0));
  flags |= SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(memory ? ":memory:" : path.c_str(), &d->db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = describe_sqlite(d->db_, rc, "cannot open " + path);
    if (d->db_) sqlite3_close(d->db_);
    d->db_ = nullptr;
    return make_error(std::move(msg));
  }
  // A file the OS will not let us write (read-only medium or permissions) opens read-only: say so on writes.
  if (!memory && sqlite3_db_readonly(d->db_, "main") == 1) {
    d->read_only_ = true;
    opts.read_only = true;
  }
  if (auto s = d->configure(opts); !s.ok()) return make_error("cannot open " + path + ": " + s.error());
  if (auto s = d->migrate(); !s.ok()) return make_error(s.error());
  return d;
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Status Database::configure(const OpenOptions& opts) {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
  CJ_TRY(register_search_tokenizer(db_, tok_.get()));
  CJ_TRY(register_snippet_function(db_));
  if (sqlite3_create_function_v2(db_, "cj_zishu", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, zishu_fn, nullptr,
                                 nullptr, nullptr) != SQLITE_OK)
    return make_error("cannot register cj_zishu");
  CJ_TRY(exec("PRAGMA foreign_keys = ON"));
  // Reading the schema here turns "not a database" into an error at open time.
  auto v = query_int("PRAGMA user_version");
  if (!v.ok()) return Error{v.error()};
  if (opts.check && path_ != ":memory:" && !path_.empty()) {
    // Pages, cells and indexes: a file altered or truncated outside SQLite opens without complaint otherwise.
    auto q = query_text("PRAGMA quick_check(1)");
    if (!q.ok()) return make_error("the file is damaged (" + q.error() + "); restore it from a backup");
    if (*q != "ok")
      return make_error("the file is damaged (SQLite's check: " + q->substr(0, 200) + "); restore it from a backup");
  }
  if (!opts.read_only) {
    auto mode = query_text("PRAGMA journal_mode = WAL");
    if (!mode.ok()) return Error{mode.error()};
    CJ_TRY(exec("PRAGMA synchronous = NORMAL"));
  }
  return Status::Ok();
}

Status Database::migrate() {
  const auto& migrations = schema_migrations();
  const int latest = static_cast<int>(migrations.size());
  auto cur = query_int("PRAGMA user_version");
  if (!cur.ok()) return Error{cur.error()};
  if (*cur > latest) {
    return make_error(path_ + " was written by a newer Changjuan (schema version " + std::to_string(*cur) +
                      ", this build knows up to " + std::to_string(latest) + "); update Changjuan");
  }
  if (*cur < latest) {
    if (read_only_)
      return make_error(path_ + " needs a schema upgrade (version " + std::to_string(*cur) + " to " +
                        std::to_string(latest) + ") but was opened read-only; open it once read-write");
    auto tx = Transaction::begin(*this);
    if (!tx.ok()) return make_error("cannot upgrade " + path_ + ": " + tx.error());
    // Re-read under the write lock: another process may have migrated meanwhile.
    auto v = query_int("PRAGMA user_version");
    if (!v.ok()) return Error{v.error()};
    for (int i = static_cast<int>(*v); i < latest; ++i) {
      if (auto s = exec(migrations[static_cast<size_t>(i)]); !s.ok())
        return make_error("cannot upgrade " + path_ + " to schema version " + std::to_string(i + 1) + ": " + s.error());
    }
    CJ_TRY(exec("PRAGMA user_version = " + std::to_string(latest)));
    CJ_TRY(exec("INSERT OR REPLACE INTO meta(key, value) VALUES ('index_icu_version', '" + icu_version_string() + "')"));
    if (auto s = tx->commit(); !s.ok()) return make_error("cannot upgrade " + path_ + ": " + s.error());
  }
  schema_version_ = latest;
  if (!read_only_) {
    // ICU's dictionary decides word tokens; after an ICU upgrade the index is rebuilt so that deletes
    // re-tokenize exactly as inserts did.
    auto icu = query_text("SELECT value FROM meta WHERE key = 'index_icu_version'");
    if (!icu.ok() || *icu != icu_version_string()) {
      SearchIndex idx(*this);
      CJ_TRY(idx.rebuild());
      CJ_TRY(exec("INSERT OR REPLACE INTO meta(key, value) VALUES ('index_icu_version', '" + icu_version_string() + "')"));
    }
  }
  return Status::Ok();
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return make_error(describe(rc, "database error"));
  return Statement(db_, stmt);
}

Status Database::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) return make_error(describe(rc, "database error"));
  return Status::Ok();
}

Result<int64_t> Database::query_int(std::string_view sql, int64_t def) {
  auto st = prepare(sql);
  if (!st.ok()) return Error{st.error()};
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  return *r ? st->col_int(0) : def;
}

Result<std::string> Database::query_text(std::string_view sql) {
  auto st = prepare(sql);
  if (!st.ok()) return Error{st.error()};
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return make_error("no row for: " + std::string(sql));
  return st->col_text(0);
}

int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }
bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

std::string Database::describe(int rc, std::string_view what) const { return describe_sqlite(db_, rc, what); }

Status Database::sync_search_lexicon() {
  auto v = query_int("SELECT value FROM meta WHERE key = 'index_lexicon_version'", 0);
  if (!v.ok()) return Error{v.error()};
  if (*v == tok_->version) return Status::Ok();
  auto st = prepare("SELECT word FROM search_lexicon");
  if (!st.ok()) return Error{st.error()};
  tok_->lexicon = Lexicon();
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    tok_->lexicon.add(st->col_view(0));
  }
  tok_->version = *v;
  return Status::Ok();
}

}  // namespace cj::storage
