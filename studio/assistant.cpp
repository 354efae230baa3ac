#include "studio/assistant.h"

#include <chrono>
#include <filesystem>

#include "engine/tokenizer/tokenizer_load.h"
#include "memory/bundled_tokenizer.h"
#include "memory/context_builder.h"
#include "memory/prompts.h"
#include "studio/check/checker.h"

namespace cj::studio {
namespace {

// The generator the jobs run on, seen through a wrapper that keeps the last prompt it was given.
class RecordingGenerator final : public Generator {
 public:
  RecordingGenerator(Generator& inner, std::mutex& mu, std::string& last) : inner_(inner), mu_(mu), last_(last) {}
  Result<std::string> generate(const SessionRequest& req, const std::function<bool(std::string_view)>& on_text,
                               std::atomic<bool>* stop, SessionStats* stats) override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      last_ = req.prompt;
    }
    return inner_.generate(req, on_text, stop, stats);
  }
  int count_tokens(const std::string& text) const override { return inner_.count_tokens(text); }
  int n_ctx() const override { return inner_.n_ctx(); }
  int max_parallel() const override { return inner_.max_parallel(); }  // the queue runs this many jobs at once
  bool has_chat_tokens() const override { return inner_.has_chat_tokens(); }
  std::string name() const override { return inner_.name(); }
  const Tokenizer* own_tokenizer() const override { return inner_.own_tokenizer(); }

 private:
  Generator& inner_;
  std::mutex& mu_;
  std::string& last_;
};

}  // namespace

Assistant::Assistant(std::string db_path, int64_t book_id) : db_path_(std::move(db_path)), book_id_(book_id) {
  figures_.message = "未设置模型：在“模型与设置”里选一个 GGUF 模型文件";
  ctx_thread_ = std::thread([this] { context_worker(); });
  check_thread_ = std::thread([this] { check_worker(); });
}

Assistant::~Assistant() {
  quit_ = true;
  {
    std::lock_guard<std::mutex> lk(mu_);  // a worker between its check of quit_ and its wait gets the notify
  }
  ctx_cv_.notify_all();
  check_cv_.notify_all();
  if (load_thread_.joinable()) load_thread_.join();
  if (ctx_thread_.joinable()) ctx_thread_.join();
  if (check_thread_.joinable()) check_thread_.join();
  if (queue_) queue_->shutdown();  // the running job stops at the next token and stays queued
}

void Assistant::unload() {
  if (load_thread_.joinable()) load_thread_.join();
  std::unique_ptr<JobQueue> q;
  std::unique_ptr<Generator> rec, gen;
  {
    std::lock_guard<std::mutex> lk(mu_);
    q = std::move(queue_);
    rec = std::move(recorder_);
    gen = std::move(generator_);
    engine_ = nullptr;
    figures_ = EngineFigures{};
    figures_.message = "未设置模型：在“模型与设置”里选一个 GGUF 模型文件";
  }
  if (q) q->shutdown();  // the running job stops at the next token and stays queued
}

void Assistant::load(const Settings& machine) {
  unload();
  const bool remote = machine.backend == "remote";
  {
    std::lock_guard<std::mutex> lk(mu_);
    settings_ = machine;  // until the worker applies the book's overrides
  }
  if (machine.model_path.empty() && !remote) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    figures_.state = EngineFigures::kLoading;
    figures_.model_path = remote ? machine.remote_url : machine.model_path;
    figures_.model_name = remote ? machine.remote_model : std::filesystem::path(machine.model_path).filename().string();
    figures_.message = remote ? "正在连接服务器…" : "正在加载模型…";
  }
  load_thread_ = std::thread([this, machine] { load_worker(machine); });
}

void Assistant::load_worker(Settings machine) {
  const auto t0 = std::chrono::steady_clock::now();
  auto fail = [&](const std::string& why) {
    std::lock_guard<std::mutex> lk(mu_);
    figures_.state = EngineFigures::kFailed;
    figures_.message = why;
  };
  Settings s = machine;
  {
    auto db = storage::Database::open(db_path_, {.create = false});
    if (!db.ok()) return fail(db.error());
    auto eff = effective_settings(machine, **db, book_id_);
    if (!eff.ok()) return fail(eff.error());
    s = *eff;
  }
  const bool remote = s.backend == "remote";
  if (!remote && s.backend != "cpu" && s.backend != "cuda")
    return fail("后端 “" + s.backend + "” 在应用里不能用；在设置中把 backend 设为 cpu、cuda 或 remote");
  // The jobs run on the local engine, or on an OpenAI-compatible server (vLLM, SGLang, llama-server,
  // changjuan-cli serve).
  std::unique_ptr<Generator> gen;
  EngineSession* local = nullptr;
  if (remote) {
    auto g = open_generator(s);
    if (!g.ok()) return fail("无法连接 " + s.remote_url + "：" + g.error());
    gen = std::move(*g);
  } else {
    auto es = EngineSession::open(engine_settings(s));
    if (!es.ok()) return fail(es.error());
    local = es->get();
    gen = std::move(*es);
  }
  auto rec = std::make_unique<RecordingGenerator>(*gen, prompt_mu_, last_prompt_);
  auto q = std::make_unique<JobQueue>(db_path_, rec.get());
  if (Status st = q->start(); !st.ok()) return fail(st.error());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::lock_guard<std::mutex> lk(mu_);
  settings_ = s;
  EngineFigures& f = figures_;
  f.state = EngineFigures::kReady;
  f.model_name = gen->name();
  f.n_ctx = gen->n_ctx();
  f.load_s = secs;
  f.parallel = q->max_running();
  f.context_budget = s.context_budget;
  char msg[96];
  std::snprintf(msg, sizeof msg, remote ? "已连接服务器（%.2f 秒）" : "已加载（%.2f 秒）", secs);
  f.message = msg;
  if (remote) {
    f.backend = "remote";
    f.model_path = s.remote_url;
  } else {
    const ModelConfig& c = local->model().config();
    f.arch = arch_name(c.arch);
    f.backend = local->backend_name();
    f.threads = s.threads;
    f.n_layers = c.n_layers;
    f.n_embd = c.n_embd;
    f.n_heads = c.n_heads;
    f.n_kv_heads = c.n_kv_heads;
    f.n_vocab = c.n_vocab;
    std::error_code ec;
    f.model_bytes = static_cast<int64_t>(std::filesystem::file_size(s.model_path, ec));
    // Keys and values of every layer for one token, in the cache's storage type; the pool's tiers.
    const ModelInfo& mi = local->model_info();
    f.kv_bytes_per_token = mi.kv_bytes_per_token(local->settings().kv_type);
    f.n_ctx_train = mi.n_ctx_train;
    f.quant = mi.quant;
    f.ctx_automatic = s.ctx == 0;
    f.kv_type = kv_type_name(local->settings().kv_type);
    const KVPoolStats ks = local->kv_stats();
    f.kv_host_budget = int64_t(ks.host_budget);
    f.kv_disk_budget = int64_t(ks.disk_budget);
    f.kv_disk_dir = s.kv_disk_dir;
  }
  generator_ = std::move(gen);
  recorder_ = std::move(rec);
  engine_ = local;
  queue_ = std::move(q);
}

std::string Assistant::last_prompt() const {
  std::lock_guard<std::mutex> lk(prompt_mu_);
  return last_prompt_;
}

void Assistant::prepare_locked(WorkflowParams& p) const {
  p.book_id = book_id_;
  if (p.context_tokens == 0) p.context_tokens = settings_.context_budget;
  p.prompt_style = settings_.prompt_style;
  p.temperature = settings_.temperature;
}

EngineFigures Assistant::status() const {
  std::lock_guard<std::mutex> lk(mu_);
  EngineFigures f = figures_;
  if (engine_) {
    f.kv_tokens = engine_->kv_tokens();
    f.last_prompt_tokens = engine_->last_prompt_tokens();
    f.last_reused_tokens = engine_->last_reused_tokens();
  }
  return f;
}

Result<int64_t> Assistant::submit(WorkflowParams p) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!queue_) return make_error(figures_.state == EngineFigures::kLoading ? "the model is still loading" : figures_.message);
  prepare_locked(p);
  return queue_->submit(p);
}

Status Assistant::cancel(int64_t id) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!queue_) return make_error("no model is loaded");
  return queue_->cancel(id);
}
Status Assistant::pause(int64_t id) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!queue_) return make_error("no model is loaded");
  return queue_->pause(id);
}
Status Assistant::resume(int64_t id) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!queue_) return make_error("no model is loaded");
  return queue_->resume(id);
}

QueueSnapshot Assistant::snapshot() const {
  JobQueue* q = nullptr;
  {
    std::lock_guard<std::mutex> lk(mu_);
    q = queue_.get();
  }
  return q ? q->snapshot() : QueueSnapshot{};  // the queue lives until the assistant is destroyed
}

void Assistant::inspect_context(const ContextQuery& q) {
  std::lock_guard<std::mutex> lk(mu_);
  ctx_req_ = q;
  ctx_pending_ = true;
  ctx_.state = ContextView::kBuilding;
  ++ctx_.version;
  ctx_cv_.notify_all();
}

uint64_t Assistant::context_version() const {
  std::lock_guard<std::mutex> lk(mu_);
  return ctx_.version;
}

void Assistant::run_check(bool force) {
  std::lock_guard<std::mutex> lk(mu_);
  check_pending_ = true;
  check_force_ = check_force_ || force;
  check_.state = CheckView::kRunning;
  check_cv_.notify_all();
}

CheckView Assistant::check() const {
  std::lock_guard<std::mutex> lk(mu_);
  return check_;
}

void Assistant::check_worker() {
  std::unique_ptr<storage::Database> db;
  for (;;) {
    bool force = false;
    {
      std::unique_lock<std::mutex> lk(mu_);
      check_cv_.wait(lk, [&] { return quit_.load() || check_pending_; });
      if (quit_) return;
      check_pending_ = false;
      force = check_force_;
      check_force_ = false;
    }
    const auto t0 = std::chrono::steady_clock::now();
    CheckView v;
    if (!db) {
      auto d = storage::Database::open(db_path_, {.create = false});
      if (d.ok()) db = std::move(*d);
      else v.message = d.error();
    }
    if (db) {
      check::CheckOptions opts;
      opts.force = force;
      auto r = check::check_book(*db, book_id_, opts);
      if (r.ok()) {
        v.state = CheckView::kDone;
        v.message = "检查了 " + std::to_string(r->chapters_checked) + " 章";
        if (r->chapters_fresh) v.message += "（" + std::to_string(r->chapters_fresh) + " 章未改动，跳过）";
        v.message += "：新发现 " + std::to_string(r->added) + " 条，仍在 " + std::to_string(r->kept) + " 条，已修正 " +
                     std::to_string(r->fixed) + " 条";
        if (r->suppressed) v.message += "，已忽略的 " + std::to_string(r->suppressed) + " 条不再列出";
      } else {
        v.message = r.error();
      }
    }
    if (v.state != CheckView::kDone) v.state = CheckView::kFailed;
    v.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::lock_guard<std::mutex> lk(mu_);
    v.version = check_.version + 1;
    if (check_pending_) v.state = CheckView::kRunning;  // another request is on its way
    check_ = std::move(v);
  }
}

ContextView Assistant::context() const {
  std::lock_guard<std::mutex> lk(mu_);
  return ctx_;
}

void Assistant::context_worker() {
  std::unique_ptr<Tokenizer> tok;
  std::string tok_path;
  std::unique_ptr<storage::Database> db;
  for (;;) {
    ContextQuery q;
    std::string model_path, model_name;
    int n_ctx = 0;
    WorkflowParams p;
    {
      std::unique_lock<std::mutex> lk(mu_);
      ctx_cv_.wait(lk, [&] { return quit_.load() || ctx_pending_; });
      if (quit_) return;
      ctx_pending_ = false;
      q = ctx_req_;
      // The window and tokenizer of the loaded model (a server's tokenizer is not here: the bundled one, as the
      // workflow does); without a model the settings' window (else 8192) and the bundled tokenizer.
      const bool ready = figures_.state == EngineFigures::kReady;
      if (ready && figures_.backend != "remote") model_path = figures_.model_path;
      n_ctx = ready ? figures_.n_ctx : settings_.ctx > 0 ? settings_.ctx : 8192;
      model_name = ready ? figures_.model_name : "";
      p.kind = q.kind;
      p.ordinal = q.ordinal;
      p.cursor = q.cursor;
      p.max_tokens = q.max_tokens;
      prepare_locked(p);
    }
    const auto t0 = std::chrono::steady_clock::now();
    ContextView v;
    v.query = q;
    auto done = [&] {
      v.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::lock_guard<std::mutex> lk(mu_);
      v.version = ctx_.version + 1;
      if (ctx_pending_) v.state = ContextView::kBuilding;  // a newer request is on its way
      ctx_ = std::move(v);
    };
    auto failed = [&](const std::string& why) {
      v.state = ContextView::kFailed;
      v.message = why;
      done();
    };
    // A separate tokenizer instance: this thread must not share one with the generating worker.
    std::string want = model_path;
    if (want.empty()) {
      auto path = memory::bundled_tokenizer_path();
      if (!path.ok()) {
        failed(path.error());
        continue;
      }
      want = *path;
    }
    if (!tok || tok_path != want) {
      auto t = load_tokenizer(want);
      if (!t.ok()) {
        failed(t.error());
        continue;
      }
      tok = std::move(*t);
      tok_path = want;
    }
    if (!db) {
      auto d = storage::Database::open(db_path_, {.create = false, .read_only = true});
      if (!d.ok()) {
        failed(d.error());
        continue;
      }
      db = std::move(*d);
    }
    PromptTarget target;
    target.tokenizer = tok.get();
    target.n_ctx = n_ctx;
    target.model = model_name;
    auto plan = compose_prompt(*db, p, target);
    if (!plan.ok()) {
      failed(plan.error());
      continue;
    }
    v.prompt = std::move(plan->prompt);
    v.sections = std::move(plan->sections);
    v.manifest = std::move(plan->manifest);
    v.degradations = std::move(plan->degradations);
    v.n_ctx = plan->n_ctx;
    v.tokens = plan->prompt_tokens;
    v.basis = model_path.empty() ? (model_name.empty() ? "未加载模型：按 " + std::to_string(n_ctx) + " 令牌的窗口和 Qwen3 分词器估算"
                                                       : "服务器的窗口；令牌按 Qwen3 分词器估算")
                                 : "按已加载的模型计算";
    v.state = ContextView::kReady;
    done();
  }
}

}  // namespace cj::studio
