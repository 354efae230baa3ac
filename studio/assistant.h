// The writing assistant as the GUI uses it: one local model loaded on a worker thread (never the caller's), the
// job queue that runs workflows on it, engine figures for a status panel, and the context inspector (memory's
// context builder run on a worker). Every call returns at once; the GUI polls status(), snapshot() and
// context() each frame, which copy small structs under a short lock.
//
// Layering: the GUI calls this; this calls the engine session, the job queue and memory.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/result.h"
#include "studio/job_queue.h"
#include "studio/settings.h"

namespace cj::studio {

struct EngineFigures {
  enum State { kNoModel, kLoading, kReady, kFailed };
  State state = kNoModel;
  std::string message;        // kNoModel: how to set one; kFailed: why; kReady: "loaded in N s"
  std::string model_name, model_path, arch, backend;
  int threads = 0, n_ctx = 0, n_layers = 0, n_embd = 0, n_heads = 0, n_kv_heads = 0, n_vocab = 0;
  int64_t model_bytes = 0;    // the GGUF file (mapped, not copied)
  size_t kv_bytes_per_token = 0;
  int kv_tokens = 0;          // tokens in the KV cache now
  int last_prompt_tokens = 0, last_reused_tokens = 0;  // latest request: prompt, of which reused from the cache
  double load_s = 0;
  int context_budget = 0;     // tokens of book context per request (settings)
};

// One section of an inspected context: its share of the budget and what it holds.
struct ContextSectionView {
  std::string kind;           // instructions, synopsis, ..., current_text (memory/context_builder.h)
  int64_t tokens = 0;
  std::vector<int64_t> chapters;
  std::string reason;         // why it was included (and how it was cut)
  std::string text;           // the section's text (heading included)
};

struct ContextView {
  enum State { kNone, kBuilding, kReady, kFailed };
  State state = kNone;
  std::string message;        // kFailed: why
  int64_t chapter = 0;        // ordinal it was built for
  int64_t tokens = 0, budget = 0;
  std::vector<ContextSectionView> sections;
  std::vector<std::string> degradations;
  double build_ms = 0;
  uint64_t version = 0;       // increases with each change (a request, a result)
};

// The last consistency check run through the assistant.
struct CheckView {
  enum State { kNone, kRunning, kDone, kFailed };
  State state = kNone;
  std::string message;  // kDone: what was checked and found, in Chinese; kFailed: why
  double ms = 0;
  uint64_t version = 0;  // increases with each result
};

// Splits a context text into its sections (each is heading + body + blank line, in the order of
// `sections`); the instructions section has no heading. Exposed for the tests.
std::vector<std::string> split_context_sections(const std::string& text, const std::vector<std::string>& kinds);

class Assistant {
 public:
  Assistant(std::string db_path, int64_t book_id);
  ~Assistant();
  Assistant(const Assistant&) = delete;
  Assistant& operator=(const Assistant&) = delete;

  // Loads settings.model_path (the book's overrides applied) on a worker thread and starts the job queue; with
  // backend "remote", connects to settings.remote_url instead and the server runs the jobs. An empty model path
  // (and no remote backend) leaves the assistant without a model (status says how to set one).
  void load(const Settings& machine_settings);
  EngineFigures status() const;
  bool ready() const { return status().state == EngineFigures::kReady; }

  // Submits a workflow for this book (book_id, context budget and prompt style filled in from the settings).
  Result<int64_t> submit(WorkflowParams p);
  Status cancel(int64_t id);
  Status pause(int64_t id);
  Status resume(int64_t id);
  // The queue's jobs (empty until a model is loaded).
  QueueSnapshot snapshot() const;

  // Builds the context for chapter `ordinal` on a worker (memory's builder, measured with the model's tokenizer
  // when one is loaded, else the bundled Qwen3 one). A newer request replaces a pending one.
  void inspect_context(int64_t ordinal, int64_t budget);
  ContextView context() const;
  // context().version without copying the view (its sections hold whole chapters): callers copy on a change.
  uint64_t context_version() const;

  // Runs the deterministic consistency checks (studio/check) on a worker: the chapters changed since the last
  // check, or all of them with `force`; the findings land in the project. A request while one runs runs after it.
  void run_check(bool force);
  CheckView check() const;

 private:
  void load_worker(Settings machine);
  void context_worker();
  void check_worker();

  std::string db_path_;
  int64_t book_id_;
  Settings settings_;  // effective (after load)

  mutable std::mutex mu_;  // guards figures_, ctx_, ctx_request_*, check_*
  EngineFigures figures_;
  ContextView ctx_;
  int64_t ctx_req_chapter_ = 0, ctx_req_budget_ = 0;
  bool ctx_pending_ = false;
  std::condition_variable ctx_cv_;
  CheckView check_;
  bool check_pending_ = false, check_force_ = false;
  std::condition_variable check_cv_;

  std::unique_ptr<Generator> generator_;  // what the jobs run on: the local engine or a remote server
  EngineSession* engine_ = nullptr;       // generator_ when it is the local engine (its KV figures)
  std::unique_ptr<JobQueue> queue_;
  std::atomic<bool> quit_{false};
  std::thread load_thread_, ctx_thread_, check_thread_;
};

}  // namespace cj::studio
