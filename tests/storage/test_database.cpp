#include <gtest/gtest.h>
#include <sqlite3.h>

#include "storage/books.h"
#include "storage/database.h"
#include "storage/importer.h"
#include "storage/search_index.h"
#include "storage/transaction.h"
#include "storage_test_util.h"

using namespace cj;
using namespace cj::storage;
using cj::storage::testing::TempDir;

namespace {

std::unique_ptr<Database> open_ok(const std::string& path, OpenOptions o = {}) {
  auto db = Database::open(path, o);
  EXPECT_TRUE(db.ok()) << db.error();
  return db.ok() ? std::move(*db) : nullptr;
}

int64_t book_count(Database& db) { return *db.query_int("SELECT count(*) FROM books"); }

}  // namespace

TEST(Database, CreatesSchemaWithWalAndForeignKeys) {
  TempDir dir;
  auto db = open_ok(dir.file("p.db"));
  ASSERT_TRUE(db);
  EXPECT_EQ(*db->query_int("PRAGMA user_version"), Database::latest_schema_version());
  EXPECT_EQ(*db->query_text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(*db->query_int("PRAGMA foreign_keys"), 1);
  // Reopening applies nothing twice.
  db.reset();
  db = open_ok(dir.file("p.db"));
  ASSERT_TRUE(db);
  EXPECT_EQ(db->schema_version(), Database::latest_schema_version());
}

TEST(Database, MissingFileWithoutCreateIsAnError) {
  TempDir dir;
  auto db = Database::open(dir.file("none.db"), {.create = false});
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().find("no such database"), std::string::npos) << db.error();
}

TEST(Database, NewerSchemaIsRefused) {
  TempDir dir;
  {
    auto db = open_ok(dir.file("p.db"));
    ASSERT_OK(db->exec("PRAGMA user_version = 999"));
  }
  auto db = Database::open(dir.file("p.db"));
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().find("newer Changjuan"), std::string::npos) << db.error();
}

TEST(Database, NotADatabaseSaysSo) {
  TempDir dir;
  ASSERT_OK(write_file_atomic(dir.file("x.db"), std::string(4096, 'x')));
  auto db = Database::open(dir.file("x.db"));
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().find("not a Changjuan database"), std::string::npos) << db.error();
}

TEST(Database, TransactionRollsBackUnlessCommitted) {
  auto db = open_ok(":memory:");
  ASSERT_TRUE(db);
  Books books(*db);
  {
    auto tx = Transaction::begin(*db);
    ASSERT_OK(tx);
    ASSERT_OK(books.create({.title = "a"}));
    // no commit
  }
  EXPECT_EQ(book_count(*db), 0);
  {
    auto tx = Transaction::begin(*db);
    ASSERT_OK(tx);
    ASSERT_OK(books.create({.title = "b"}));
    {
      auto inner = Transaction::begin(*db);  // a savepoint
      ASSERT_OK(inner);
      ASSERT_OK(books.create({.title = "c"}));
    }  // inner rolled back alone
    ASSERT_OK(tx->commit());
  }
  auto all = books.list();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].title, "b");
  EXPECT_FALSE(db->in_transaction());
}

TEST(Database, ForeignKeysCascade) {
  auto db = open_ok(":memory:");
  ASSERT_TRUE(db);
  auto r = import_bytes(*db, "第一回 甲\n正文一\n第二回 乙\n正文二\n", "t.txt");
  ASSERT_OK(r);
  EXPECT_EQ(*db->query_int("SELECT count(*) FROM chapter_revisions"), 2);
  ASSERT_OK(Books(*db).remove(r->book_id));
  EXPECT_EQ(*db->query_int("SELECT count(*) FROM chapters"), 0);
  EXPECT_EQ(*db->query_int("SELECT count(*) FROM chapter_revisions"), 0);
  // A chapter for a book that does not exist is refused.
  EXPECT_FALSE(db->exec("INSERT INTO chapters(book_id, ordinal, body, chars, updated_at) VALUES (42, 1, 'x', 1, 0)").ok());
}

TEST(Database, ReadOnlyOpenGivesReadOnlyErrors) {
  TempDir dir;
  {
    auto db = open_ok(dir.file("p.db"));
    ASSERT_TRUE(db);
    ASSERT_OK(import_bytes(*db, "第一回 甲\n正文\n", "t.txt"));
  }
  auto ro = open_ok(dir.file("p.db"), {.read_only = true});
  ASSERT_TRUE(ro);
  EXPECT_EQ(book_count(*ro), 1);  // reading works
  auto r = import_bytes(*ro, "第一回 乙\n别的正文\n", "u.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("read-only"), std::string::npos) << r.error();
  auto b = Books(*ro).create({.title = "x"});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find("read-only"), std::string::npos) << b.error();
}

TEST(Database, FullDiskGivesDiskFullErrorAndKeepsOldState) {
  TempDir dir;
  auto db = open_ok(dir.file("p.db"));
  ASSERT_TRUE(db);
  ASSERT_OK(import_bytes(*db, "第一回 甲\n正文\n", "t.txt"));
  const int64_t pages = *db->query_int("PRAGMA page_count");
  // Simulate a full disk: the file may not grow past a few pages more than it has.
  ASSERT_OK(db->exec("PRAGMA max_page_count = " + std::to_string(pages + 2)));
  std::string big;
  for (int i = 0; i < 3000; ++i) big += "第" + std::to_string(i + 1) + "回 标题\n" + std::string(300, 'x') + "正文\n";
  auto r = import_bytes(*db, big, "big.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("disk is full"), std::string::npos) << r.error();
  EXPECT_EQ(book_count(*db), 1);
  EXPECT_EQ(*db->query_text("PRAGMA integrity_check"), "ok");
}

TEST(Database, LockedDatabaseSaysSo) {
  TempDir dir;
  auto a = open_ok(dir.file("p.db"));
  auto b = open_ok(dir.file("p.db"));
  ASSERT_TRUE(a && b);
  sqlite3_busy_timeout(b->handle(), 50);
  auto tx = Transaction::begin(*a);
  ASSERT_OK(tx);
  auto r = Books(*b).create({.title = "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("locked"), std::string::npos) << r.error();
}

TEST(Database, IcuChangeRebuildsTheSearchIndexOnOpen) {
  TempDir dir;
  int64_t book = 0;
  {
    auto db = open_ok(dir.file("p.db"));
    ASSERT_TRUE(db);
    auto r = import_bytes(*db, "第一回 甲\n贾母笑道。\n", "t.txt");
    ASSERT_OK(r);
    book = r->book_id;
    // Pretend the index was built by another ICU, and damage it the way a different dictionary would.
    ASSERT_OK(db->exec("UPDATE meta SET value = '0.0' WHERE key = 'index_icu_version';"
                       "DELETE FROM chapter_fts_data WHERE id > 10"));
    EXPECT_FALSE(SearchIndex(*db).check().ok());
  }
  auto db = open_ok(dir.file("p.db"));
  ASSERT_TRUE(db);
  EXPECT_OK(SearchIndex(*db).check());
  EXPECT_NE(*db->query_text("SELECT value FROM meta WHERE key = 'index_icu_version'"), "0.0");
  auto hits = SearchIndex(*db).search(book, "贾母");
  ASSERT_OK(hits);
  EXPECT_EQ(hits->size(), 1u);
}
