// A process killed at any moment during import, save or an index rebuild leaves the project consistent, holding the old or the
// new state: a child imports and saves in a loop and is SIGKILLed at random moments; the parent then checks.
#include <gtest/gtest.h>
#include <signal.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "storage/importer.h"
#include "storage/search_index.h"
#include "storage_test_util.h"

using namespace cj;
using namespace cj::storage;
using namespace cj::storage::testing;

namespace {

// The child reports each committed step (import, rebuild, save) with one byte on `progress`, so that the parent
// can aim its kills at every phase whatever the machine's load.
[[noreturn]] void child_loop(const std::string& db_path, const std::string& text, unsigned seed, int progress) {
  auto db = Database::open(db_path);
  if (!db.ok()) _exit(3);
  std::mt19937 rng(seed);
  auto report = [&] {
    if (write(progress, "x", 1) != 1) _exit(9);
  };
  for (int round = 0;; ++round) {
    auto r = import_bytes(**db, text, "sample.txt", {.replace = true});
    if (!r.ok()) _exit(4);
    report();
    // A lexicon change and the index rebuild it asks for (one transaction) can be killed too.
    if (!Entities(**db).add(r->book_id, "character", "贾母", {"老祖宗"}).ok()) _exit(7);
    if (!SearchIndex(**db).rebuild().ok()) _exit(8);
    report();
    Chapters ch(**db);
    for (int k = 0; k < 5; ++k) {
      auto c = ch.get_by_ordinal(r->book_id, 1 + static_cast<int64_t>(rng() % 20));
      if (!c.ok()) _exit(5);
      if (!ch.save(c->id, c->body + "\n修改" + std::to_string(round) + "-" + std::to_string(k)).ok()) _exit(6);
      report();
    }
  }
}

// Waits for n progress bytes (false on timeout or EOF).
bool wait_progress(int fd, int n) {
  for (int got = 0; got < n;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 120000) <= 0) return false;
    char buf[1];
    if (read(fd, buf, 1) != 1) return false;
    ++got;
  }
  return true;
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
  double step_ms = 50;  // measured time between two progress reports (adapts to the machine's load)
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
    // Let the child complete 0-3 steps (at least one in round 0, so there is a book to check), then kill it at a
    // random moment within the next step.
    const int steps = round == 0 ? 1 : static_cast<int>(rng() % 4);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(wait_progress(fds[0], steps)) << "the child made no progress";
    if (steps > 0)
      step_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / steps;
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(step_ms * 1000 * (rng() % 1000) / 1000)));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
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
