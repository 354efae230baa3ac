#include "studio/job_queue.h"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/base/utf8.h"

namespace cj::studio {

std::string job_kind(const WorkflowParams& p) { return "workflow:" + p.kind; }

JobFigures job_figures(const storage::Job& j) {
  JobFigures f;
  auto pj = nlohmann::json::parse(j.params, nullptr, false);
  if (pj.is_object()) {
    f.chapter = pj.value("ordinal", int64_t{-1});
    if (pj.value("kind", std::string()) == "draft") f.target = pj.value("target_chars", int64_t{0});
    if (auto it = pj.find("seed"); it != pj.end() && it->is_number_integer()) f.seed = it->get<uint64_t>();
  }
  if (j.checkpoint) {
    auto c = nlohmann::json::parse(*j.checkpoint, nullptr, false);
    if (c.is_object()) f.chars = c.value("chars", int64_t{0});
  }
  if (j.result) {
    auto r = nlohmann::json::parse(*j.result, nullptr, false);
    if (r.is_object()) {
      f.chars = r.value("chars", f.chars);
      f.revision_id = r.value("revision_id", int64_t{0});
      f.gen_tokens = r.value("gen_tokens", 0);
      f.prompt_tokens = r.value("prompt_tokens", 0);
      f.reused_tokens = r.value("reused_tokens", 0);
      if (auto it = r.find("seed"); it != r.end() && it->is_number_integer()) f.seed = it->get<uint64_t>();
    }
  }
  return f;
}

const char* job_status_label(const std::string& s) {
  if (s == "queued") return "排队中";
  if (s == "running") return "生成中";
  if (s == "paused") return "已暂停";
  if (s == "done") return "已完成";
  if (s == "failed") return "失败";
  if (s == "cancelled") return "已停止";
  return s.c_str();
}

const char* job_kind_label(const std::string& k) {
  if (k == "workflow:continue") return "续写";
  if (k == "workflow:draft") return "起草";
  if (k == "workflow:rewrite") return "改写";
  if (k == "workflow:expand") return "扩写";
  if (k == "workflow:condense") return "精简";
  return k.c_str();
}

namespace {
std::string zi_text(int64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out + " 字";
}
bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
}  // namespace

std::string job_outcome(const std::string& status, const JobFigures& f, const std::string& message) {
  const std::string of_target = f.target > 0 ? " / " + zi_text(f.target) : "";
  if (status == "done")
    return f.revision_id ? "写了 " + zi_text(f.chars) + "，存为修订 id " + std::to_string(f.revision_id) + "（接受之前不改正文）"
                         : "完成";
  if (status == "cancelled")
    return f.chars > 0 ? "已停止，写了 " + zi_text(f.chars) + of_target + "；文字留在任务里，继续时接着写" : "已停止，还没写";
  if (status == "paused") return "已暂停，写了 " + zi_text(f.chars) + of_target;
  if (status == "running") return "正在写，已写 " + zi_text(f.chars) + of_target;
  if (status == "queued")
    return f.chars > 0 ? "中断时写了 " + zi_text(f.chars) + of_target + "，排队后接着写" : "排队等待";
  if (status == "failed") return "失败：" + job_failure_reason(message);
  return message;
}

std::string job_failure_reason(const std::string& e) {
  if (e.empty()) return "原因不明";
  if (has(e, "is too small for this request") || has(e, "but the context holds") || has(e, "does not fit the context"))
    return "上下文窗口放不下这个请求：在“模型与设置”里调大上下文，或写短一些";
  if (has(e, "the selection is outside") || has(e, "the selection is empty"))
    return "选中的文字已不在本章（正文改过了）：重新选中再试";
  if (has(e, "has no chapter")) return "这一章已经不在书里了";
  if (has(e, "no model file") || has(e, "does not exist or is not a file")) return "找不到模型文件：在“模型与设置”里重新选";
  if (has(e, "HTTP ")) return "服务器返回错误（" + e + "）";
  if (has(e, "connect") || has(e, "Couldn't") || has(e, "timed out") || has(e, "idle"))
    return "连不上服务器或服务器没有回应（" + e + "）";
  if (has(e, "not valid JSON") || has(e, "workflow") || has(e, "max_tokens") || has(e, "target length"))
    return "任务的参数有误（" + e + "）";
  if (has(e, "database is locked") || has(e, "SQLITE_BUSY")) return "书稿文件正被别的程序占用，稍后再试";
  return "出错了（" + e + "）";
}

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
    out.message = msg;  // the error as it is (the CLI prints it); surfaces say job_failure_reason(msg)
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
    std::string msg = "已写 " + std::to_string(pr.chars) + " 字";
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
                          {"seed", r->seed},           {"ending", r->ending},
                          {"gen_tokens", r->gen_tokens},  {"reused_tokens", r->reused_tokens},
                          {"prompt_tokens", r->prompt_tokens},
                          {"stop_reason", r->stop_reason}};
    out.status = "done";
    out.message = "写了 " + std::to_string(r->chars) + " 字，存为修订 id " + std::to_string(r->revision_id) + "（尚未接受）";
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
      out.message = "写了 " + std::to_string(r->chars) + " 字后停止；文字留在任务里，继续时接着写";
      break;
    case StopRequest::kPause:
      out.status = "paused";
      out.message = "写了 " + std::to_string(r->chars) + " 字后暂停";
      break;
    default:
      out.status = "queued";
      out.message = "写了 " + std::to_string(r->chars) + " 字时中断；下次运行接着写";
      break;
  }
  (void)jobs.checkpoint(job.id, owner, last_fraction, out.message);
  if (auto rel = jobs.release(job.id, owner, out.status, out.message); rel.ok() && !*rel) return lost();
  return out;
}

bool QueueSnapshot::is_running(int64_t id) const {
  return std::find(running.begin(), running.end(), id) != running.end();
}

const JobView* QueueSnapshot::find(int64_t id) const {
  for (const JobView& v : jobs)
    if (v.id == id) return &v;
  return nullptr;
}

bool is_interactive_job(const std::string& kind) {
  return kind == "workflow:continue" || kind == "workflow:rewrite" || kind == "workflow:expand" ||
         kind == "workflow:condense";
}

JobQueue::JobQueue(std::string db_path, Generator* engine, int checkpoint_every, int max_running)
    : db_path_(std::move(db_path)),
      engine_(engine),
      checkpoint_every_(checkpoint_every),
      max_running_(std::clamp(max_running > 0 ? max_running : (engine ? engine->max_parallel() : 1), 1, 64)) {}

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
  for (int i = 0; i < max_running_; ++i) threads_.emplace_back([this] { worker(); });
  return Status();
}

void JobQueue::shutdown() {
  if (!started_) return;
  quit_ = true;
  {
    std::lock_guard<std::mutex> lk(run_mu_);
    for (Run* r : runs_) {
      r->why.store(int(StopRequest::kShutdown));
      r->stop.store(true);
    }
  }
  cv_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  started_ = false;
  refresh();
}

Result<int64_t> JobQueue::submit(const WorkflowParams& params) {
  // The seed is drawn now and kept in the job, so that a resumed job samples as it began and the revision says
  // which seed made it; each request gets a fresh one, so trying again gives another text.
  WorkflowParams p = params;
  if (!p.seed) p.seed = fresh_seed();
  auto v = params_from_json(to_json(p));
  if (!v.ok()) return make_error(v.error());
  Result<int64_t> id = make_error("the job queue is not started");
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    if (!control_db_) return id;
    id = storage::Jobs(*control_db_).create(job_kind(p), to_json(p).dump(), p.book_id);
  }
  refresh();
  wake_workers();
  return id;
}

bool JobQueue::stop_running(int64_t id, StopRequest why) {
  std::lock_guard<std::mutex> lk(run_mu_);
  for (Run* r : runs_) {
    if (r->id != id) continue;
    r->why.store(int(why));
    r->stop.store(true);
    return true;
  }
  return false;
}

Status JobQueue::cancel(int64_t id) {
  if (stop_running(id, StopRequest::kCancel)) return Status();
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    if (!control_db_) return make_error("the job queue is not started");
    storage::Jobs jobs(*control_db_);
    auto j = jobs.get(id);
    if (!j.ok()) return make_error(j.error());
    if (j->status == "done" || j->status == "failed" || j->status == "cancelled")
      return make_error("job " + std::to_string(id) + " is already " + j->status);
    CJ_TRY(jobs.finish(id, "cancelled", "运行完之前取消"));
  }
  refresh();
  return Status();
}

Status JobQueue::pause(int64_t id) {
  if (stop_running(id, StopRequest::kPause)) return Status();
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
  wake_workers();
  return Status();
}

void JobQueue::wake_workers() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    ++wakes_;
  }
  cv_.notify_all();
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
    // The figures of the row, whoever ran the job (this queue, the CLI, another process); the running job's
    // live figures (kept above) are newer.
    const JobFigures f = job_figures(j);
    v.target = f.target;
    v.chapter = f.chapter;
    v.seed = f.seed;
    v.revision_id = f.revision_id;
    v.prompt_tokens = f.prompt_tokens;
    v.reused_tokens = f.reused_tokens;
    if (!snap_.is_running(j.id)) {
      v.live_text.clear();
      v.fraction = j.progress;
      v.chars = f.chars;
      if (j.status == "done" && v.tokens == 0) v.tokens = f.gen_tokens;
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
    bool busy = !snap_.running.empty();
    for (const auto& j : snap_.jobs) busy = busy || j.status == "queued" || j.status == "running";
    if (!busy) return true;
    if (cv_.wait_until(lk, until) == std::cv_status::timeout) return false;
  }
}

std::optional<storage::Job> JobQueue::claim_next(storage::Jobs& jobs, Run& run) {
  std::lock_guard<std::mutex> claim(claim_mu_);
  auto q = jobs.list();
  if (!q.ok()) return std::nullopt;
  int long_running = 0;
  {
    std::lock_guard<std::mutex> lk(run_mu_);
    for (const Run* r : runs_) long_running += r->interactive ? 0 : 1;
  }
  // The oldest workflow job that is queued or whose runner died (other kinds belong to other runners), claimed
  // under this process's lease: interactive kinds first; a long job only while another worker stays free.
  const int64_t now = storage::now_ms();
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& j : *q) {
      if (!is_workflow(j.kind) || is_interactive_job(j.kind) != (pass == 0)) continue;
      if (j.status != "queued" && !storage::Jobs::lease_is_stale(j, now)) continue;
      if (pass == 1 && max_running_ > 1 && long_running >= max_running_ - 1) return std::nullopt;
      auto c = jobs.claim(j.id);
      if (!c.ok()) continue;  // taken meanwhile (another process), or no longer queued
      run.id = j.id;
      run.interactive = pass == 0;
      run.stop.store(false);
      run.why.store(int(StopRequest::kNone));
      std::lock_guard<std::mutex> lk(run_mu_);
      runs_.push_back(&run);
      return std::move(c.value());
    }
  }
  return std::nullopt;
}

void JobQueue::worker() {
  auto dbr = storage::Database::open(db_path_, {.create = false});
  if (!dbr.ok()) return;
  storage::Database& db = **dbr;
  storage::Jobs jobs(db);
  Run run;
  while (!quit_.load()) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lk(mu_);
      seen = wakes_;
    }
    std::optional<storage::Job> job = claim_next(jobs, run);
    if (!job) {
      // Until a job is submitted, resumed or ends here (or 300 ms pass: another process may queue one).
      std::unique_lock<std::mutex> lk(mu_);
      cv_.notify_all();  // wake wait_idle()
      cv_.wait_for(lk, std::chrono::milliseconds(300), [&] { return quit_.load() || wakes_ != seen; });
      continue;
    }
    auto leave = [&] {
      std::lock_guard<std::mutex> lk(run_mu_);
      runs_.erase(std::find(runs_.begin(), runs_.end(), &run));
    };
    if (quit_.load()) {  // shut down between claim and run
      leave();
      (void)jobs.release(job->id, job->lease_owner, "queued", job->message);
      break;
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      snap_.running.push_back(job->id);
      for (auto& v : snap_.jobs)
        if (v.id == job->id) v.live_text.clear();
    }
    refresh();
    auto t0 = std::chrono::steady_clock::now();
    double f0 = job->progress;
    auto on_progress = [&, id = job->id](std::string_view piece, const WorkflowProgress& pr) {
      double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::lock_guard<std::mutex> lk(mu_);
      for (auto& v : snap_.jobs) {
        if (v.id != id) continue;
        v.live_text.append(piece);
        if (v.live_text.size() > 4096) v.live_text.erase(0, v.live_text.size() - 2048);
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
    (void)run_job(db, *engine_, *job, run.stop, run.why, checkpoint_every_, on_progress);
    leave();
    {
      std::lock_guard<std::mutex> lk(mu_);
      snap_.running.erase(std::find(snap_.running.begin(), snap_.running.end(), job->id));
    }
    refresh();
    wake_workers();  // a worker kept for the assistant may now take a draft
  }
  std::lock_guard<std::mutex> lk(mu_);
  cv_.notify_all();
}

}  // namespace cj::studio
