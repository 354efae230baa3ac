// The writing assistant as the GUI uses it: one local model loaded on a worker thread (never the caller's), the
// job queue that runs workflows on it, engine figures for a status panel, and the context inspector (the prompt
// plan, studio/prompt_plan.h, composed on a worker for the request the writer would make — exactly what the model
// receives). Every call returns at once; the GUI polls status(), snapshot() and context() each frame, which copy
// small structs under a short lock. load() again (the settings dialog) replaces the model.
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
#include "studio/prompt_plan.h"
#include "studio/settings.h"

namespace cj::studio {

struct EngineFigures {
  enum State { kNoModel, kLoading, kReady, kFailed };
  State state = kNoModel;
  std::string message;        // kNoModel: how to set one; kFailed: why; kReady: "loaded in N s"
  std::string model_name, model_path, arch, backend;
  int parallel = 0;           // jobs the queue runs at once (sequences of the engine's batch)
  int threads = 0, n_ctx = 0, n_layers = 0, n_embd = 0, n_heads = 0, n_kv_heads = 0, n_vocab = 0;
  int n_ctx_train = 0;        // the model's trained length
  bool ctx_automatic = false; // n_ctx was chosen for this machine (settings ctx 0)
  std::string quant;          // the weights' main type
  std::string kv_type;        // f16, f32, q8_0
  int64_t kv_host_budget = 0; // bytes of KV kept in RAM (the pool's host tier)
  int64_t kv_disk_budget = 0; // bytes on the disk tier (0: none)
  std::string kv_disk_dir;
  int64_t model_bytes = 0;    // the GGUF file (mapped, not copied)
  size_t kv_bytes_per_token = 0;
  int kv_tokens = 0;          // tokens in the KV cache now
  int last_prompt_tokens = 0, last_reused_tokens = 0;  // latest request: prompt, of which reused from the cache
  double load_s = 0;
  int context_budget = 0;     // settings' cap on the book context (0: the prompt plan's share)
};

// What the context panel inspects: the request the writer would make now (a 续写 at the caret).
struct ContextQuery {
  std::string kind = "continue";
  int64_t ordinal = 1;
  int64_t cursor = -1;   // code points; -1 = the end
  int max_tokens = 256;
};

struct ContextView {
  enum State { kNone, kBuilding, kReady, kFailed };
  State state = kNone;
  std::string message;        // kFailed: why
  ContextQuery query;         // what it was built for
  std::string prompt;         // what the model receives: the concatenation of the sections' texts
  std::vector<PromptSection> sections;
  std::vector<std::string> manifest;      // the window's shares in the writer's words
  std::vector<std::string> degradations;  // the context builder's steps to fit its share
  int n_ctx = 0;
  int64_t tokens = 0;         // of the whole prompt
  std::string basis;          // what measured it: the loaded model, or (no model yet) the bundled tokenizer
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

class Assistant {
 public:
  Assistant(std::string db_path, int64_t book_id);
  ~Assistant();
  Assistant(const Assistant&) = delete;
  Assistant& operator=(const Assistant&) = delete;

  // Loads settings.model_path (the book's overrides applied) on a worker thread and starts the job queue; with
  // backend "remote", connects to settings.remote_url instead and the server runs the jobs. An empty model path
  // (and no remote backend) leaves the assistant without a model (status says how to set one). Called again
  // (new settings), it stops the running job (it stays queued), drops the model and loads the new one.
  void load(const Settings& machine_settings);
  EngineFigures status() const;
  bool ready() const { return status().state == EngineFigures::kReady; }

  // Submits a workflow for this book (book_id, context budget, prompt style and temperature from the settings;
  // a fresh seed unless p has one).
  Result<int64_t> submit(WorkflowParams p);
  // The prompt of the latest request sent to the model (what the context panel must have shown).
  std::string last_prompt() const;
  Status cancel(int64_t id);
  Status pause(int64_t id);
  Status resume(int64_t id);
  // The queue's jobs (empty until a model is loaded).
  QueueSnapshot snapshot() const;

  // Composes the prompt plan for `q` on a worker, with the parameters submit() would use and the loaded model's
  // window and tokenizer (no model yet: the settings' window, else 8192, and the bundled Qwen3 tokenizer). A
  // newer request replaces a pending one.
  void inspect_context(const ContextQuery& q);
  ContextView context() const;
  // context().version without copying the view (its sections hold whole chapters): callers copy on a change.
  uint64_t context_version() const;

  // Runs the deterministic consistency checks (studio/check) on a worker: the chapters changed since the last
  // check, or all of them with `force`; the findings land in the project. A request while one runs runs after it.
  void run_check(bool force);
  CheckView check() const;

 private:
  void load_worker(Settings machine);
  void prepare_locked(WorkflowParams& p) const;  // fills what submit() fills (mu_ held)
  void unload();
  void context_worker();
  void check_worker();

  std::string db_path_;
  int64_t book_id_;
  Settings settings_;  // effective (after load)

  mutable std::mutex mu_;  // guards figures_, ctx_, ctx_request_*, check_*
  EngineFigures figures_;
  ContextView ctx_;
  ContextQuery ctx_req_;
  bool ctx_pending_ = false;
  std::condition_variable ctx_cv_;
  CheckView check_;
  bool check_pending_ = false, check_force_ = false;
  std::condition_variable check_cv_;

  std::unique_ptr<Generator> generator_;  // what the jobs run on: the local engine or a remote server
  EngineSession* engine_ = nullptr;       // generator_ when it is the local engine (its KV figures)
  std::unique_ptr<Generator> recorder_;   // generator_ seen through a wrapper that keeps the last prompt
  mutable std::mutex prompt_mu_;
  std::string last_prompt_;
  std::unique_ptr<JobQueue> queue_;
  std::atomic<bool> quit_{false};
  std::thread load_thread_, ctx_thread_, check_thread_;
};

}  // namespace cj::studio
