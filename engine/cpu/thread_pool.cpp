#include "engine/cpu/thread_pool.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define CJ_PAUSE() _mm_pause()
#else
#define CJ_PAUSE() ((void)0)
#endif

#include <climits>
#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace cj {

namespace {
// Plain futexes (std::atomic::wait in libstdc++ 12 can miss a wake-up when notify races with the waiter count).
template <class T>
void futex_wait(std::atomic<T>* a, T expected) {
  static_assert(sizeof(T) == 4);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(a), FUTEX_WAIT_PRIVATE, static_cast<uint32_t>(expected), nullptr,
          nullptr, 0);
}
template <class T>
void futex_wake_all(std::atomic<T>* a) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(a), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

// How long an idle worker spins before sleeping when the pool spins. A decode step issues a new job every few tens
// of microseconds while it runs, so a short spin keeps workers hot through one token without burning a core between
// tokens.
constexpr auto kSpinTime = std::chrono::microseconds(200);
constexpr int kCallerSpins = 20000;
// Runs with workers between two looks at the caller's involuntary context switches.
constexpr uint32_t kCheckEvery = 64;

// CJ_POOL_SPIN=0 / 1 fixes the wait policy (for A/B measurements); unset: adaptive.
int spin_override() {
  const char* e = std::getenv("CJ_POOL_SPIN");
  if (!e || !*e) return -1;
  return std::strcmp(e, "0") == 0 ? 0 : 1;
}

long involuntary_switches() {
  rusage u;
  if (getrusage(RUSAGE_THREAD, &u) != 0) return 0;
  return u.ru_nivcsw;
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  force_spin_ = spin_override();
  if (force_spin_ >= 0) spin_.store(force_spin_ == 1, std::memory_order_relaxed);
  last_nivcsw_ = involuntary_switches();
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(&generation_);
  for (auto& t : workers_) t.join();
}

void ThreadPool::work_on_job(uint32_t generation) {
  const uint64_t job = job_.load(std::memory_order_acquire);
  if (static_cast<uint32_t>(job >> 32) != generation) return;
  const uint32_t n = static_cast<uint32_t>(job);
  int done = 0;
  uint64_t v = next_task_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<uint32_t>(v >> 32) != generation || static_cast<uint32_t>(v) >= n) break;
    if (!next_task_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    fn_(ctx_, static_cast<int>(static_cast<uint32_t>(v)));
    ++done;
    v = next_task_.load(std::memory_order_acquire);
  }
  if (done > 0 && tasks_done_.fetch_add(done, std::memory_order_acq_rel) + done == static_cast<int>(n)) {
    if (waiting_caller_.load(std::memory_order_seq_cst)) futex_wake_all(&tasks_done_);
  }
}

void ThreadPool::worker_loop(int /*index*/) {
  uint32_t seen = 0;  // the generation at construction: a worker that starts late still sees every later job
  for (;;) {
    // Spin for a while (when the pool spins), then sleep until the generation changes.
    uint32_t g = generation_.load(std::memory_order_acquire);
    if (g == seen && spin_.load(std::memory_order_relaxed)) {
      const auto until = std::chrono::steady_clock::now() + kSpinTime;
      int spins = 0;
      while ((g = generation_.load(std::memory_order_acquire)) == seen) {
        CJ_PAUSE();
        if (++spins == 64) {
          spins = 0;
          if (std::chrono::steady_clock::now() > until) break;
        }
      }
    }
    if (g == seen) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      futex_wait(&generation_, seen);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    work_on_job(g);
  }
}

void ThreadPool::run(int n_tasks, void (*fn)(void* ctx, int task), void* ctx) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (int t = 0; t < n_tasks; ++t) fn(ctx, t);
    return;
  }
  if (force_spin_ < 0 && ++runs_ % kCheckEvery == 0) {
    // Preempted since the last look: the machine has more runnable threads than cores. Spinning then only burns the
    // time slice the other threads (ours included) need, and a late worker's claimed task holds the caller anyway:
    // sleep at once (wake-ups are cheap next to time slices). Not preempted: spin, wake-ups are the cost.
    const long now = involuntary_switches();
    spin_.store(now == last_nivcsw_, std::memory_order_relaxed);
    last_nivcsw_ = now;
  }
  const int caller_spins = spin_.load(std::memory_order_relaxed) ? kCallerSpins : 0;
  fn_ = fn;
  ctx_ = ctx;
  const uint32_t g = generation_.load(std::memory_order_relaxed) + 1;
  tasks_done_.store(0, std::memory_order_relaxed);
  next_task_.store(static_cast<uint64_t>(g) << 32, std::memory_order_release);
  job_.store((static_cast<uint64_t>(g) << 32) | static_cast<uint32_t>(n_tasks), std::memory_order_release);
  generation_.store(g, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) futex_wake_all(&generation_);
  work_on_job(g);
  // Wait for the tasks other threads took. Spin first (they are usually nearly done), then sleep.
  int spins = 0;
  for (;;) {
    const int d = tasks_done_.load(std::memory_order_acquire);
    if (d == n_tasks) break;
    if (++spins < caller_spins) {
      CJ_PAUSE();
    } else {
      waiting_caller_.store(true, std::memory_order_seq_cst);
      if (tasks_done_.load(std::memory_order_seq_cst) != n_tasks) futex_wait(&tasks_done_, d);
      waiting_caller_.store(false, std::memory_order_relaxed);
    }
  }
}

}  // namespace cj
