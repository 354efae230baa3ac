// The job queue: workflow jobs persisted in storage's jobs table, run on a Generator (the local engine or a remote
// server) by worker threads, several at once (max_running; on the local engine they are sequences decoded in one
// batch), with progress (fraction, tokens, ETA), cancel and pause/resume per job. Short requests at the caret
// (continue, rewrite, expand, condense: the assistant's) are taken before queued drafts, and drafts never take the
// last worker, so an assistant request starts at once while batch drafts run.
//
// Durability: while a job runs, the text generated so far is checkpointed into its row every
// `checkpoint_every` pieces (checkpoint JSON {"text": ..., "tokens": n}). After a crash or a closed app,
// start() requeues jobs left "running" whose lease is stale (their runner's process is gone); a job running in
// another live process (a CLI `draft`) stays that process's. Running one again continues from the checkpointed
// text (the prompt is the context + that text, so the chapter goes on where it stopped). Nothing is written to a
// chapter until a workflow completes, and then only as a new revision that is not current.
//
// Control from another process works too: a job whose row is set to paused/cancelled (changjuan-cli jobs
// cancel) stops at its next checkpoint.
//
// The UI reads snapshot() (copied under a short lock); it never touches the worker's state directly.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"
#include "storage/jobs.h"
#include "studio/generator.h"
#include "studio/workflows.h"

namespace cj::studio {

struct JobView {
  int64_t id = 0;
  std::optional<int64_t> book_id;
  std::string kind;             // "workflow:draft", ...
  std::string status;           // queued, running, paused, done, failed, cancelled
  std::string message;
  double fraction = 0;          // 0..1
  int tokens = 0;               // generated in the current run
  int64_t chars = 0;            // generated so far including resumed text
  double tok_s = 0;             // current run
  double eta_s = -1;            // seconds left (-1 unknown)
  int64_t revision_id = 0;      // done: the proposal (a revision that is not current yet)
  int prompt_tokens = 0;        // done: the prompt, of which reused_tokens came from the KV cache
  int reused_tokens = 0;
  int64_t target = 0;           // draft: the target in 字
  int64_t chapter = -1;         // chapter ordinal
  std::optional<uint64_t> seed;
  std::string live_text;        // running in this queue: its text so far (tail, for a preview)
};

struct QueueSnapshot {
  std::vector<JobView> jobs;    // oldest first, finished ones included
  std::vector<int64_t> running; // jobs this queue runs now, in the order they started (empty when idle)
  uint64_t version = 0;         // increases on every change
  bool is_running(int64_t id) const;
  const JobView* find(int64_t id) const;  // null when the job is not in the list
};

// A short request at the caret (continue, rewrite, expand, condense), as opposed to a long batch job (draft).
bool is_interactive_job(const std::string& kind);

// Job kinds for workflows are "workflow:<kind>"; params are to_json(WorkflowParams).
std::string job_kind(const WorkflowParams& p);

// A job's figures as every surface shows them, read from its row whatever started it (the GUI's queue, the
// CLI's draft/continue/rewrite, another process): 字 written (the result when done, else the checkpoint), the
// draft's target, the revision it made, its seed, the chapter.
struct JobFigures {
  int64_t chars = 0;          // 字 written so far (or in the end)
  int64_t target = 0;         // draft: the target in 字 (0 for the other kinds)
  int64_t revision_id = 0;    // done: the proposal
  int64_t chapter = -1;       // chapter ordinal (-1: unknown)
  int gen_tokens = 0, prompt_tokens = 0, reused_tokens = 0;  // done
  std::optional<uint64_t> seed;
};
JobFigures job_figures(const storage::Job& j);
// The writer's words: a job's kind (续写, 起草, …), its status (排队中, 生成中, …), and what came of it (a line:
// "写了 3,012 字，存为修订 #58（接受之前不改正文）", "失败：上下文窗口放不下…").
const char* job_kind_label(const std::string& kind);
const char* job_status_label(const std::string& status);
std::string job_outcome(const std::string& status, const JobFigures& f, const std::string& message = "");
// A failure's reason in Chinese (the engine's and storage's errors are English): the known causes said with
// what to do, anything else kept as it is after a Chinese lead.
std::string job_failure_reason(const std::string& error);

struct RunOutcome {
  std::string status;           // done, failed, cancelled, paused, queued (stopped by shutdown), taken
  WorkflowResult result;
  std::string message;
};

enum class StopRequest { kNone = 0, kCancel = 1, kPause = 2, kShutdown = 3, kLost = 4 /* lease taken over */ };

// The one job runner of the GUI's queue and the CLI: runs a job claimed under this process's lease
// (storage::Jobs::claim/claim_next) to its end on this thread — checkpoints, the lease's heartbeat on a thread of
// its own, the final status in the row, every write only while the lease is still ours. `stop` is polled every
// token; `why` says what the stop means (cancel → cancelled, pause → paused, shutdown → queued again, lost →
// "taken": another runner took the job over and this one wrote nothing more). on_progress (may be empty) sees
// every piece.
RunOutcome run_job(storage::Database& db, Generator& engine, const storage::Job& job, std::atomic<bool>& stop,
                   std::atomic<int>& why, int checkpoint_every,
                   const std::function<void(std::string_view, const WorkflowProgress&)>& on_progress = {});

class JobQueue {
 public:
  // The queue opens its own connections to db_path (one per worker, one for control calls). max_running: jobs run
  // at once (0: the generator's max_parallel(), i.e. the sequences the local engine decodes together).
  JobQueue(std::string db_path, Generator* engine, int checkpoint_every = 32, int max_running = 0);
  ~JobQueue();

  // Requeues interrupted jobs and starts the workers.
  Status start();
  // Stops the workers: running jobs are stopped at the next token, checkpointed and left queued (they resume on
  // the next start). Idempotent.
  void shutdown();

  Result<int64_t> submit(const WorkflowParams& p);
  Status cancel(int64_t id);    // queued/paused → cancelled; running → stops within one token, cancelled
  Status pause(int64_t id);     // queued → paused; running → stops, checkpointed, paused
  Status resume(int64_t id);    // paused/cancelled/failed → queued (continues from its checkpoint)

  QueueSnapshot snapshot() const;
  // Blocks until no job is queued or running, or the timeout passes; true when idle.
  bool wait_idle(std::chrono::milliseconds timeout);
  int max_running() const { return max_running_; }

 private:
  struct Run {  // a job a worker runs now
    int64_t id = 0;
    bool interactive = false;
    std::atomic<bool> stop{false};
    std::atomic<int> why{0};  // StopRequest
  };
  void worker();
  // Claims the next job for a worker (under claim_mu_): interactive kinds first, oldest first; a draft only while
  // another worker stays free for the assistant (max_running > 1).
  std::optional<storage::Job> claim_next(storage::Jobs& jobs, Run& run);
  bool stop_running(int64_t id, StopRequest why);  // false when this queue does not run the job
  void wake_workers();  // idle workers look for a job again at once
  void refresh();

  std::string db_path_;
  Generator* engine_;
  int checkpoint_every_;
  int max_running_;
  std::unique_ptr<storage::Database> control_db_;
  std::mutex control_mu_;       // guards control_db_

  std::vector<std::thread> threads_;
  std::atomic<bool> quit_{false};
  std::mutex claim_mu_;         // one worker picks and claims at a time
  std::mutex run_mu_;           // guards runs_
  std::vector<Run*> runs_;      // the running jobs, in the order they started

  mutable std::mutex mu_;       // guards snap_ and wake-ups
  std::condition_variable cv_;
  QueueSnapshot snap_;
  uint64_t wakes_ = 0;          // bumped by submit, resume and a job's end; idle workers wait for a change
  bool started_ = false;
};

}  // namespace cj::studio
