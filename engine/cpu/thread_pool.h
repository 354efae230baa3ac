// A fixed pool of worker threads for splitting kernels (matvec/matmul rows, attention heads) across cores.
// The calling thread participates. Wait policy, adaptive: while the calling thread is not preempted, workers spin
// briefly after each job and the caller at the join (decode issues a job every few tens of microseconds and the
// wake-up latency of a sleeping thread would dominate small matrices), then sleep on a futex; once the caller has
// been preempted involuntarily (checked every 64 jobs: the machine has more runnable threads than cores) everyone
// sleeps at once instead, as spinning would only spend the time slices the pool's own threads need.
// CJ_POOL_SPIN=0|1 fixes the policy (A/B measurements).
// run() never allocates; it is not re-entrant (one job at a time, from one caller thread at a time).
#pragma once
#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace cj {

class ThreadPool {
 public:
  // n_threads: total, including the calling thread (1 = no workers; everything runs on the caller).
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  // Whether waits spin before sleeping now (see above).
  bool spinning() const { return spin_.load(std::memory_order_relaxed); }

  // Runs fn(ctx, task) for every task in [0, n_tasks) across the pool; the caller participates; returns when
  // all tasks are done. Tasks are handed out dynamically (an atomic counter), so uneven tasks balance.
  void run(int n_tasks, void (*fn)(void* ctx, int task), void* ctx);

  // f(int task) for task in [0, n_tasks).
  template <class F>
  void parallel_for(int n_tasks, F&& f) {
    using Fn = std::remove_reference_t<F>;
    run(n_tasks, [](void* c, int task) { (*static_cast<Fn*>(c))(task); },
        const_cast<void*>(static_cast<const void*>(&f)));
  }

 private:
  void worker_loop(int index);
  void work_on_job(uint32_t generation);

  int n_threads_;
  std::vector<std::thread> workers_;
  // The current job. Written by run() before generation_ is bumped (release), read by workers after they see
  // the new generation (acquire).
  // fn_/ctx_ are stable while any task of the current job is claimed but not done.
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  // (generation << 32) | n_tasks of the current job, and (generation << 32) | next unclaimed task. A thread
  // claims tasks only for the generation it woke for, so a late worker can never run a task of a newer job
  // with stale parameters.
  alignas(64) std::atomic<uint64_t> job_{0};
  alignas(64) std::atomic<uint64_t> next_task_{0};
  alignas(64) std::atomic<int> tasks_done_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> waiting_caller_{false};
  std::atomic<bool> stop_{false};
  // Wait policy: spin_ is set by the caller thread in run() and read by everyone.
  std::atomic<bool> spin_{true};
  int force_spin_ = -1;  // CJ_POOL_SPIN: -1 adaptive, 0 never, 1 always
  uint32_t runs_ = 0;
  long last_nivcsw_ = 0;
};

}  // namespace cj
