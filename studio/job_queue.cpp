#include "studio/job_queue.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/base/utf8.h"

namespace cj::studio {

std::string job_kind(const WorkflowParams& p) { return "workflow:" + p.kind; }

namespace {
constexpr const char* kPrefix = "workflow:";
bool is_workflow(const std::string& kind) { return kind.rfind(kPrefix, 0) == 0; }
}  // namespace

namespace {

// Renews the job's lease every Jobs::kHeartbeatMs on a connection of its own (a long prefill sends no checkpoints),
// and stops the run when another runner has taken the job over (our lease went stale, e.g. the process was
// suspended). A ":memory:" database has no other connection and no other process: no heartbeat.
class LeaseKeeper {
 public:
  LeaseKeeper(const std::string& db_path, int64_t job_id, std::string owner, std::atomic<bool>& stop,
              std::atomic<int>& why)
      : stop_(stop), why_(why) {
    if (db_path.empty() || db_path == ":memory:") return;
    th_ = std::thread([this, db_path, job_id, owner = std::move(owner)] {
      auto db = storage::Database::open(db_path, {.create = false});
      if (!db.ok()) return;
      storage::Jobs jobs(**db);
      std::unique_lock<std::mutex> lk(mu_);
      while (!cv_.wait_for(lk, std::chrono::milliseconds(storage::Jobs::kHeartbeatMs), [&] { return quit_; })) {
        auto ours = jobs.heartbeat(job_id, owner);
        if (ours.ok() && !*ours) {  // a busy database is not a lost lease: try again next time
          lost_.store(true);
          why_.store(int(StopRequest::kLost));
          stop_.store(true);
          return;
        }
      }
    });
  }
  ~LeaseKeeper() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    if (th_.joinable()) th_.join();
  }
  bool lost() const { return lost_.load(); }

 private:
  std::atomic<bool>& stop_;
  std::atomic<int>& why_;
  std::atomic<bool> lost_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool quit_ = false;
  std::thread th_;
};

}  // namespace

RunOutcome run_job(storage::Database& db, Generator& engine, const storage::Job& job, std::atomic<bool>& stop,
                   std::atomic<int>& why, int checkpoint_every,
                   const std::function<void(std::string_view, const WorkflowProgress&)>& on_progress) {
  storage::Jobs jobs(db);
  RunOutcome out;
  const std::string owner = job.lease_owner;
  if (job.status != "running" || owner.empty()) {
    out.status = "failed";
    out.message = "job " + std::to_string(job.id) + " was not claimed (Jobs::claim) before it was run";
    return out;
  }
  // Every write of the runner goes through its lease: a runner that lost the job writes nothing more.
  auto lost = [&] {
    out.status = "taken";
    out.message = "another runner took job " + std::to_string(job.id) + " over (this runner's lease had gone stale)";
    return out;
  };
  auto fail = [&](const std::string& msg) {
    out.status = "failed";
    out.message = msg;
    if (auto r = jobs.release(job.id, owner, "failed", msg); r.ok() && !*r) return lost();
    return out;
  };
  nlohmann::json pj = nlohmann::json::parse(job.params, nullptr, false);
  if (pj.is_discarded()) return fail("the job's parameters are not valid JSON");
  auto params = params_from_json(pj);
  if (!params.ok()) return fail(params.error());
  std::string resume_text;
  if (job.checkpoint) {
    nlohmann::json cj = nlohmann::json::parse(*job.checkpoint, nullptr, false);
    if (cj.is_object() && cj.contains("text") && cj["text"].is_string()) resume_text = cj["text"].get<std::string>();
  }

  LeaseKeeper keeper(db.path(), job.id, owner, stop, why);
  double last_fraction = job.progress;
  WorkflowHooks hooks;
  hooks.stop = &stop;
  hooks.checkpoint_every = checkpoint_every;
  hooks.on_text = on_progress;
  // The prompt's KV is kept beside the project while the job is unfinished, so resuming it (after a stop, a crash
  // or a restart) does not prefill the book context again.
  const std::string kv_file = db.path().empty() || db.path() == ":memory:"
                                  ? std::string()
                                  : db.path() + ".kv/job-" + std::to_string(job.id) + ".kv";
  hooks.kv_session = kv_file;
  hooks.on_checkpoint = [&](const std::string& text, const WorkflowProgress& pr) {
    nlohmann::json c = {{"text", text}, {"chars", pr.chars}};
    std::string msg = std::to_string(pr.chars) + " 字";
    if (params->kind == "draft") msg += " / " + std::to_string(params->target_chars) + " 字";
    last_fraction = pr.fraction;
    if (auto r = jobs.checkpoint(job.id, owner, pr.fraction, msg, c.dump()); r.ok() && !*r) {
      why.store(int(StopRequest::kLost));
      stop.store(true);
      return;
    }
    // Another process (changjuan-cli jobs cancel/pause) may have changed the row.
    if (auto row = jobs.get(job.id); row.ok() && row->status != "running" && !stop.load()) {
      if (row->status == "cancelled") why.store(int(StopRequest::kCancel));
      else if (row->status == "paused") why.store(int(StopRequest::kPause));
      else why.store(int(StopRequest::kShutdown));
      stop.store(true);
    }
  };
  auto r = run_workflow(db, engine, *params, resume_text, hooks);
  if (keeper.lost() || StopRequest(why.load()) == StopRequest::kLost) return lost();
  if (!r.ok()) return fail(r.error());
  out.result = r.value();
  if (r->completed) {
    nlohmann::json res = {{"chapter_id", r->chapter_id}, {"revision_id", r->revision_id}, {"chars", r->chars},
                          {"gen_tokens", r->gen_tokens},  {"reused_tokens", r->reused_tokens},
                          {"prompt_tokens", r->prompt_tokens},
                          {"stop_reason", r->stop_reason}};
    out.status = "done";
    out.message = "revision " + std::to_string(r->revision_id) + ", " + std::to_string(r->chars) + " 字 (not yet accepted)";
    (void)jobs.release(job.id, owner, "done", out.message, res.dump());
    if (!kv_file.empty()) {
      std::error_code ec;
      std::filesystem::remove(kv_file, ec);
    }
    return out;
  }
  // Stopped: the checkpoint holds the text; the request decides the state.
  switch (StopRequest(why.load())) {
    case StopRequest::kCancel:
      out.status = "cancelled";
      out.message = "cancelled after " + std::to_string(r->chars) + " 字 (the text is kept in the job; resume to continue)";
      break;
    case StopRequest::kPause:
      out.status = "paused";
      out.message = "paused after " + std::to_string(r->chars) + " 字";
      break;
    default:
      out.status = "queued";
      out.message = "interrupted after " + std::to_string(r->chars) + " 字; continues on the next run";
      break;
  }
  (void)jobs.checkpoint(job.id, owner, last_fraction, out.message);
  if (auto rel = jobs.release(job.id, owner, out.status, out.message); rel.ok() && !*rel) return lost();
  return out;
}

JobQueue::JobQueue(std::string db_path, Generator* engine, int checkpoint_every)
    : db_path_(std::move(db_path)), engine_(engine), checkpoint_every_(checkpoint_every) {}

JobQueue::~JobQueue() { shutdown(); }

Status JobQueue::start() {
  if (started_) return Status();
  auto db = storage::Database::open(db_path_, {.create = false});
  if (!db.ok()) return make_error(db.error());
  control_db_ = std::move(db.value());
  auto n = storage::Jobs(*control_db_).requeue_stale();  // crashed runners' jobs; a live runner's stay its own
  if (!n.ok()) return make_error(n.error());
  quit_ = false;
  started_ = true;
  refresh();
  thread_ = std::thread([this] { worker(); });
  return Status();
}

void JobQueue::shutdown() {
  if (!started_) return;
  quit_ = true;
  why_.store(int(StopRequest::kShutdown));
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  started_ = false;
  refresh();
}

Result<int64_t> JobQueue::submit(const WorkflowParams& p) {
  auto v = params_from_json(to_json(p));
  if (!v.ok()) return make_error(v.error());
  Result<int64_t> id = make_error("the job queue is not started");
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    if (!control_db_) return id;
    id = storage::Jobs(*control_db_).create(job_kind(p), to_json(p).dump(), p.book_id);
  }
  refresh();
  cv_.notify_all();
  return id;
}

Status JobQueue::cancel(int64_t id) {
  if (running_id_.load() == id) {
    why_.store(int(StopRequest::kCancel));
    stop_ = true;
    return Status();
  }
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    if (!control_db_) return make_error("the job queue is not started");
    storage::Jobs jobs(*control_db_);
    auto j = jobs.get(id);
    if (!j.ok()) return make_error(j.error());
    if (j->status == "done" || j->status == "failed" || j->status == "cancelled")
      return make_error("job " + std::to_string(id) + " is already " + j->status);
    CJ_TRY(jobs.finish(id, "cancelled", "cancelled before it ran to the end"));
  }
  refresh();
  return Status();
}

Status JobQueue::pause(int64_t id) {
  if (running_id_.load() == id) {
    why_.store(int(StopRequest::kPause));
    stop_ = true;
    return Status();
  }
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    if (!control_db_) return make_error("the job queue is not started");
    storage::Jobs jobs(*control_db_);
    auto j = jobs.get(id);
    if (!j.ok()) return make_error(j.error());
    if (j->status != "queued") return make_error("job " + std::to_string(id) + " is " + j->status + ", not queued");
    CJ_TRY(jobs.set_status(id, "paused"));
  }
  refresh();
  return Status();
}

Status JobQueue::resume(int64_t id) {
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    if (!control_db_) return make_error("the job queue is not started");
    storage::Jobs jobs(*control_db_);
    auto j = jobs.get(id);
    if (!j.ok()) return make_error(j.error());
    if (j->status != "paused" && j->status != "cancelled" && j->status != "failed")
      return make_error("job " + std::to_string(id) + " is " + j->status + "; only paused, cancelled or failed jobs resume");
    CJ_TRY(jobs.set_status(id, "queued"));
  }
  refresh();
  cv_.notify_all();
  return Status();
}

void JobQueue::refresh() {
  std::vector<storage::Job> rows;
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    if (!control_db_) return;
    auto l = storage::Jobs(*control_db_).list();
    if (!l.ok()) return;
    rows = std::move(l.value());
  }
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<JobView> views;
  for (const auto& j : rows) {
    if (!is_workflow(j.kind)) continue;
    JobView v;
    // Keep the live figures of the running job.
    for (const auto& old : snap_.jobs)
      if (old.id == j.id) v = old;
    v.id = j.id;
    v.book_id = j.book_id;
    v.kind = j.kind;
    v.status = j.status;
    v.message = j.message;
    if (j.id != snap_.running_id) v.fraction = j.progress;
    if (j.result) {
      nlohmann::json r = nlohmann::json::parse(*j.result, nullptr, false);
      if (r.is_object()) {
        v.revision_id = r.value("revision_id", int64_t{0});
        v.prompt_tokens = r.value("prompt_tokens", 0);
        v.reused_tokens = r.value("reused_tokens", 0);
      }
    }
    views.push_back(std::move(v));
  }
  snap_.jobs = std::move(views);
  ++snap_.version;
}

QueueSnapshot JobQueue::snapshot() const {
  std::lock_guard<std::mutex> lk(mu_);
  return snap_;
}

bool JobQueue::wait_idle(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    bool busy = snap_.running_id != 0;
    for (const auto& j : snap_.jobs) busy = busy || j.status == "queued" || j.status == "running";
    if (!busy) return true;
    if (cv_.wait_until(lk, until) == std::cv_status::timeout) return false;
  }
}

void JobQueue::worker() {
  auto dbr = storage::Database::open(db_path_, {.create = false});
  if (!dbr.ok()) return;
  storage::Database& db = **dbr;
  storage::Jobs jobs(db);
  while (!quit_.load()) {
    // The oldest workflow job that is queued or whose runner died (other kinds belong to other runners), claimed
    // under this process's lease.
    std::optional<storage::Job> job;
    if (auto q = jobs.list(); q.ok()) {
      const int64_t now = storage::now_ms();
      for (const auto& j : *q) {
        if (!is_workflow(j.kind)) continue;
        if (j.status != "queued" && !storage::Jobs::lease_is_stale(j, now)) continue;
        auto c = jobs.claim(j.id);
        if (c.ok()) job = std::move(c.value());
        break;
      }
    }
    if (!job) {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.notify_all();  // wake wait_idle()
      cv_.wait_for(lk, std::chrono::milliseconds(300), [&] { return quit_.load(); });
      continue;
    }
    stop_ = false;
    why_ = int(StopRequest::kNone);
    if (quit_.load()) {  // shut down between claim and run
      (void)jobs.release(job->id, job->lease_owner, "queued", job->message);
      break;
    }
    running_id_ = job->id;
    {
      std::lock_guard<std::mutex> lk(mu_);
      snap_.running_id = job->id;
      snap_.live_text.clear();
    }
    refresh();
    auto t0 = std::chrono::steady_clock::now();
    double f0 = job->progress;
    auto on_progress = [&, id = job->id](std::string_view piece, const WorkflowProgress& pr) {
      double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::lock_guard<std::mutex> lk(mu_);
      snap_.live_text.append(piece);
      if (snap_.live_text.size() > 4096) snap_.live_text.erase(0, snap_.live_text.size() - 2048);
      for (auto& v : snap_.jobs) {
        if (v.id != id) continue;
        v.status = "running";
        v.tokens = pr.tokens;
        v.chars = pr.chars;
        v.fraction = pr.fraction;
        v.tok_s = el > 0 ? pr.tokens / el : 0;
        double rate = el > 0 ? (pr.fraction - f0) / el : 0;
        v.eta_s = rate > 0 ? (1 - pr.fraction) / rate : -1;
      }
      ++snap_.version;
    };
    (void)run_job(db, *engine_, *job, stop_, why_, checkpoint_every_, on_progress);
    running_id_ = 0;
    {
      std::lock_guard<std::mutex> lk(mu_);
      snap_.running_id = 0;
    }
    refresh();
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lk(mu_);
  cv_.notify_all();
}

}  // namespace cj::studio
