#include "engine/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <chrono>
#include <vector>

namespace cj {
namespace {

TEST(ThreadPool, RunsEveryTaskExactlyOnce) {
  for (int threads = 1; threads <= 4; ++threads) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int n_tasks : {0, 1, 2, 3, 7, 64, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n_tasks));
      pool.parallel_for(n_tasks, [&](int t) { hits[static_cast<size_t>(t)].fetch_add(1); });
      for (int t = 0; t < n_tasks; ++t) EXPECT_EQ(hits[static_cast<size_t>(t)].load(), 1) << threads << " " << t;
    }
  }
}

TEST(ThreadPool, ManySmallJobsBackToBack) {
  // Stresses the hand-over between jobs: a worker late for job k must never run a task of job k+1 with job k's
  // parameters.
  ThreadPool pool(3);
  std::vector<long> sums(4, 0);
  long expected = 0;
  for (int job = 0; job < 20000; ++job) {
    const int n = 1 + job % 4;
    std::atomic<long> sum{0};
    pool.parallel_for(n, [&](int t) { sum.fetch_add(job * 10 + t); });
    long want = 0;
    for (int t = 0; t < n; ++t) want += job * 10 + t;
    ASSERT_EQ(sum.load(), want) << "job " << job;
    expected += want;
  }
  EXPECT_GT(expected, 0);
}

TEST(ThreadPool, UsesWorkerThreads) {
  ThreadPool pool(2);
  // Each task waits (up to 5 s) until both tasks have started: both see the other only if a worker really runs
  // a task concurrently with the caller.
  std::atomic<int> arrived{0}, met{0};
  pool.parallel_for(2, [&](int) {
    arrived.fetch_add(1);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (arrived.load() < 2 && std::chrono::steady_clock::now() < until) {
    }
    if (arrived.load() == 2) met.fetch_add(1);
  });
  EXPECT_EQ(met.load(), 2);
}

TEST(ThreadPool, RunWithFunctionPointer) {
  ThreadPool pool(2);
  std::vector<int> out(100, 0);
  pool.run(100, [](void* c, int t) { (*static_cast<std::vector<int>*>(c))[static_cast<size_t>(t)] = t * t; }, &out);
  for (int t = 0; t < 100; ++t) EXPECT_EQ(out[static_cast<size_t>(t)], t * t);
}

// A caller that shares its core with a busy thread is preempted involuntarily: the pool must stop spinning (a
// spinning wait would only burn the slices its own threads need), and keep its results right.
TEST(ThreadPool, SleepsInsteadOfSpinningWhenPreempted) {
  if (std::getenv("CJ_POOL_SPIN")) GTEST_SKIP() << "CJ_POOL_SPIN fixes the policy";
  cpu_set_t old_set;
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(old_set), &old_set), 0);
  int cpu = -1;
  for (int c = 0; c < CPU_SETSIZE && cpu < 0; ++c)
    if (CPU_ISSET(c, &old_set)) cpu = c;
  ASSERT_GE(cpu, 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  ThreadPool pool(2);
  ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
  std::atomic<bool> stop{false};
  std::thread hog([&] {
    pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  bool passive = false;
  long sum = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int job = 0; !passive && std::chrono::steady_clock::now() < until; ++job) {
    std::atomic<long> s{0};
    pool.parallel_for(4, [&](int t) { s.fetch_add(t + 1); });
    ASSERT_EQ(s.load(), 10);
    sum += s.load();
    if (job % 64 == 63) passive = !pool.spinning();
  }
  stop.store(true);
  hog.join();
  pthread_setaffinity_np(pthread_self(), sizeof(old_set), &old_set);
  EXPECT_TRUE(passive) << "the pool still spins after 20 s of sharing its core";
  EXPECT_GT(sum, 0);
}

}  // namespace
}  // namespace cj
