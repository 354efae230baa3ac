// A process killed at any moment during import or save leaves the project consistent, holding the old or the
// new state: a child imports and saves in a loop and is SIGKILLed at random moments; the parent then checks.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/importer.h"
#include "storage/search_index.h"
#include "storage_test_util.h"

using namespace cj;
using namespace cj::storage;
using namespace cj::storage::testing;

namespace {

// Writes one byte to `ready_fd` after each completed import, so the parent can kill it mid-work on a loaded machine.
[[noreturn]] void child_loop(const std::string& db_path, const std::string& text, unsigned seed, int ready_fd) {
  auto db = Database::open(db_path);
  if (!db.ok()) _exit(3);
  std::mt19937 rng(seed);
  for (int round = 0;; ++round) {
    auto r = import_bytes(**db, text, "sample.txt", {.replace = true});
    if (!r.ok()) _exit(4);
    if (write(ready_fd, "x", 1) != 1) _exit(7);
    Chapters ch(**db);
    for (int k = 0; k < 5; ++k) {
      auto c = ch.get_by_ordinal(r->book_id, 1 + static_cast<int64_t>(rng() % 20));
      if (!c.ok()) _exit(5);
      if (!ch.save(c->id, c->body + "\n修改" + std::to_string(round) + "-" + std::to_string(k)).ok()) _exit(6);
    }
  }
}

}  // namespace

TEST(Crash, KilledImportOrSaveLeavesOldOrNewState) {
  TempDir dir;
  const std::string path = dir.file("p.db");
  const std::string text = slurp(sample_path("hongloumeng-1-20.txt"));
  {
    auto db = Database::open(path);  // create the schema before the first child runs
    ASSERT_OK(db);
  }
  std::mt19937 rng(2024);
  int saw_book = 0;
  for (int round = 0; round < 10; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      child_loop(path, text, 1000 + round, fds[1]);
    }
    close(fds[1]);
    // Odd rounds wait until the child has completed one import (however slow the machine), so that later kills
    // hit re-imports and saves of an existing book; even rounds may kill the very first import.
    if (round % 2 == 1) {
      char c;
      ASSERT_EQ(read(fds[0], &c, 1), 1) << "the child died before completing an import";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 400));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself with exit code " << WEXITSTATUS(status);

    auto db = Database::open(path);
    ASSERT_OK(db);
    EXPECT_EQ(*(*db)->query_text("PRAGMA integrity_check"), "ok");
    EXPECT_FALSE((*db)->query_text("PRAGMA foreign_key_check").ok());  // no row = no violation
    ASSERT_OK(SearchIndex(**db).check());
    auto books = Books(**db).list();
    ASSERT_OK(books);
    ASSERT_LE(books->size(), 1u);  // replace is atomic: never two, never half of one
    for (const auto& b : *books) {
      ++saw_book;
      auto list = Chapters(**db).list(b.id);
      ASSERT_OK(list);
      ASSERT_EQ(list->size(), 20u) << "a half-imported book";
      for (const auto& info : *list) {
        auto c = Chapters(**db).get(info.id);
        auto rev = Chapters(**db).revision(info.revision_id);
        ASSERT_OK(rev);
        EXPECT_EQ(c->body, rev->body) << "chapter text and its current revision disagree";
      }
    }
  }
  EXPECT_GT(saw_book, 0) << "the child never got a book in: the test killed it too early to test anything";
}
