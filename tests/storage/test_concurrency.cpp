// Several processes writing one project at once (issue 20, items 11 and 12).
//   Writers: one process imports books in a loop (long write transactions) while three others add facts, aliases,
//   revisions, findings, summaries and jobs. Every write path takes the write lock first (BEGIN IMMEDIATE), so
//   each waits for the lock (the busy timeout) instead of failing — `fact add` used to keep its entity check's
//   read transaction open and failed at once with "database is locked" when the INSERT upgraded it.
//   Leases: a job claimed by a live process is not claimed, requeued or stolen by another; once that process is
//   killed, or stops renewing its heartbeat, its job is taken over — and the old owner's writes no longer land.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "storage/facts.h"
#include "storage/findings.h"
#include "storage/importer.h"
#include "storage/jobs.h"
#include "storage/summaries.h"
#include "storage_test_util.h"

using namespace cj;
using namespace cj::storage;
using namespace cj::storage::testing;

namespace {

// A book of `chapters` chapters of generated text (about 3 KB each).
std::string generated_book(int chapters, int salt) {
  std::string t = "《并发之书" + std::to_string(salt) + "》\n\n";
  for (int c = 1; c <= chapters; ++c) {
    t += "第" + std::to_string(c) + "章 第" + std::to_string(c) + "回\n";
    for (int p = 0; p < 30; ++p) t += "林黛玉进了荣国府，见过了贾母，又见了众姊妹。" + std::to_string(salt + p) + "\n";
  }
  return t;
}

// The writes of one process; returns how many failed (and prints the first failure).
int writer(const std::string& path, int64_t book, int64_t entity, int64_t chapter, int rounds, int who) {
  auto db = Database::open(path);
  if (!db.ok()) return 1000;
  int failed = 0;
  auto check = [&](const auto& r, const char* what) {
    if (r.ok()) return;
    if (failed++ == 0) std::fprintf(stderr, "writer %d: %s: %s\n", who, what, r.error().c_str());
  };
  Facts facts(**db);
  Entities ents(**db);
  Chapters ch(**db);
  Findings fs(**db);
  Summaries sums(**db);
  Jobs jobs(**db);
  for (int i = 0; i < rounds; ++i) {
    Fact f;
    f.book_id = book;
    f.entity_id = entity;
    f.predicate = "状态";
    f.value = "第" + std::to_string(who) + "-" + std::to_string(i);
    check(facts.add(f), "fact add");
    check(ents.add_alias(entity, "别名" + std::to_string(who) + "-" + std::to_string(i)), "alias add");
    check(ch.add_revision(chapter, "修订" + std::to_string(i), RevisionSource::kAi), "revision");
    check(fs.add({.book_id = book, .chapter = 1, .span_begin = 0, .span_end = 1, .kind = "k", .message = "m"}), "finding");
    check(sums.put({.book_id = book, .level = 1, .first_chapter = who, .last_chapter = who, .part = i,
                    .text = "摘要", .method = "extractive"}),
          "summary");
    auto j = jobs.create("check");
    check(j, "job create");
    if (j.ok()) check(jobs.set_progress(*j, 0.5, "half"), "job progress");
  }
  return failed;
}

}  // namespace

TEST(MultiProcessWriters, EveryWriteWaitsForTheLockInsteadOfFailing) {
  TempDir dir;
  const std::string path = dir.file("p.cjdb");
  int64_t book = 0, entity = 0, chapter = 0;
  {
    auto db = Database::open(path);
    ASSERT_OK(db);
    auto r = import_bytes(**db, generated_book(3, 0), "seed.txt");
    ASSERT_OK(r);
    book = r->book_id;
    auto e = Entities(**db).add(book, "character", "林黛玉");
    ASSERT_OK(e);
    entity = *e;
    chapter = Chapters(**db).get_by_ordinal(book, 1)->id;
  }
  constexpr int kWriters = 3, kRounds = 25;
  std::vector<pid_t> kids;
  // The importer: long write transactions, back to back.
  pid_t importer = fork();
  ASSERT_GE(importer, 0);
  if (importer == 0) {
    auto db = Database::open(path);
    if (!db.ok()) _exit(100);
    int failed = 0;
    for (int i = 1; i <= 6; ++i)
      if (!import_bytes(**db, generated_book(40, i * 1000), "book" + std::to_string(i) + ".txt").ok()) ++failed;
    _exit(failed);
  }
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(std::min(writer(path, book, entity, chapter, kRounds, w + 1), 99));
    kids.push_back(pid);
  }
  int status = 0;
  waitpid(importer, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "importer: " << status;
  for (pid_t pid : kids) {
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "writes failed in a writer process (see stderr)";
  }
  auto db = Database::open(path);
  ASSERT_OK(db);
  EXPECT_EQ(*(*db)->query_int("SELECT count(*) FROM facts"), kWriters * kRounds);
  EXPECT_EQ(*(*db)->query_int("SELECT count(*) FROM entity_aliases"), kWriters * kRounds);
  EXPECT_EQ(*(*db)->query_int("SELECT count(*) FROM jobs WHERE progress = 0.5"), kWriters * kRounds);
  EXPECT_EQ(*(*db)->query_int("SELECT count(*) FROM books"), 7);
  EXPECT_EQ(*(*db)->query_int("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'", 1), 0);
}

namespace {

// A child that claims `job` under its own lease and renews it every 50 ms until killed; it reports the claim
// on `ready` (1 = claimed, 0 = refused), and exits 7 when it finds its lease taken over.
pid_t lease_holder_child(const std::string& path, int64_t job, int ready) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  auto db = Database::open(path);
  if (!db.ok()) _exit(3);
  Jobs jobs(**db);
  auto c = jobs.claim(job);
  const char byte = c.ok() ? '1' : '0';
  if (write(ready, &byte, 1) != 1 || !c.ok()) _exit(4);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto ours = jobs.heartbeat(job, c->lease_owner);
    if (ours.ok() && !*ours) {
      // Its writes do not land any more either.
      auto w = jobs.checkpoint(job, c->lease_owner, 0.9, "late write");
      _exit(w.ok() && !*w ? 7 : 8);
    }
  }
}

}  // namespace

TEST(JobLeases, ALiveRunnersJobIsNotTakenAndADeadOnesIs) {
  TempDir dir;
  const std::string path = dir.file("p.cjdb");
  auto db = Database::open(path);
  ASSERT_OK(db);
  Jobs jobs(**db);
  auto a = jobs.create("workflow:draft");
  auto b = jobs.create("workflow:draft");
  ASSERT_OK(a);
  ASSERT_OK(b);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = lease_holder_child(path, *a, fds[1]);
  ASSERT_GT(child, 0);
  char byte = 0;
  ASSERT_EQ(read(fds[0], &byte, 1), 1);
  ASSERT_EQ(byte, '1');

  // The child runs job a: this process (say, `draft` while the GUI drafts) may not requeue, claim or steal it.
  EXPECT_EQ(*jobs.requeue_stale(), 0);
  auto steal = jobs.claim(*a);
  ASSERT_FALSE(steal.ok());
  EXPECT_NE(steal.error().find("process " + std::to_string(child)), std::string::npos) << steal.error();
  auto next = jobs.claim_next("workflow:draft");
  ASSERT_OK(next);
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->id, *b);  // the next free one instead
  EXPECT_EQ(jobs.get(*a)->lease_pid, child);

  // Killed: its process is gone, so its lease is stale at once (same host), and the job is requeued.
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(*jobs.requeue_stale(), 1);
  EXPECT_EQ(jobs.get(*a)->status, "queued");
  auto taken = jobs.claim(*a);
  ASSERT_OK(taken);
  EXPECT_EQ(taken->lease_pid, ::getpid());
  close(fds[0]);
  close(fds[1]);
}

TEST(JobLeases, ARunnerThatStopsRenewingLosesItsJobAndItsWrites) {
  TempDir dir;
  const std::string path = dir.file("p.cjdb");
  auto db = Database::open(path);
  ASSERT_OK(db);
  Jobs jobs(**db);
  auto a = jobs.create("workflow:draft");
  ASSERT_OK(a);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = lease_holder_child(path, *a, fds[1]);
  char byte = 0;
  ASSERT_EQ(read(fds[0], &byte, 1), 1);
  ASSERT_EQ(byte, '1');
  // Suspended (a laptop asleep, a debugger): alive, but its heartbeat ages.
  kill(child, SIGSTOP);
  constexpr int64_t kStale = 400;
  EXPECT_FALSE(jobs.claim(*a, this_process_lease(), kStale).ok());  // fresh heartbeat: still its own
  std::this_thread::sleep_for(std::chrono::milliseconds(kStale + 200));
  auto taken = jobs.claim(*a, this_process_lease(), kStale);
  ASSERT_OK(taken);
  // Woken up, the old runner finds the lease gone on its next heartbeat and its late write refused.
  kill(child, SIGCONT);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
  auto row = jobs.get(*a);
  EXPECT_EQ(row->lease_owner, this_process_lease().owner);
  EXPECT_NE(row->message, "late write");
  close(fds[0]);
  close(fds[1]);
}
