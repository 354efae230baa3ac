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

const char* heading_of(const std::string& kind) {
  namespace p = memory::prompts;
  if (kind == "synopsis") return p::kSynopsisHeading;
  if (kind == "arc_summaries") return p::kArcsHeading;
  if (kind == "chapter_summaries") return p::kChaptersHeading;
  if (kind == "entity_sheets") return p::kEntitiesHeading;
  if (kind == "passages") return p::kPassagesHeading;
  if (kind == "verbatim") return p::kVerbatimHeading;
  if (kind == "outline") return p::kOutlineHeading;
  if (kind == "current_text") return p::kCurrentHeading;
  return nullptr;  // instructions
}

}  // namespace

std::vector<std::string> split_context_sections(const std::string& text, const std::vector<std::string>& kinds) {
  // Start of each section: the instructions at 0, every other one at its heading (searched in order).
  std::vector<size_t> starts;
  size_t from = 0;
  for (const auto& k : kinds) {
    const char* h = heading_of(k);
    size_t at = from;
    if (h && *h) {
      at = text.find(h, from);
      if (at == std::string::npos) at = from;  // not found: an empty slice rather than a wrong one
    }
    starts.push_back(at);
    from = at + (h ? std::char_traits<char>::length(h) : 0);
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t end = i + 1 < starts.size() ? starts[i + 1] : text.size();
    std::string s = end > starts[i] ? text.substr(starts[i], end - starts[i]) : std::string();
    while (!s.empty() && (s.back() == '\n')) s.pop_back();
    out.push_back(std::move(s));
  }
  return out;
}

Assistant::Assistant(std::string db_path, int64_t book_id) : db_path_(std::move(db_path)), book_id_(book_id) {
  figures_.message = "未设置模型：启动时加 --model 模型.gguf，或在设置文件 settings.json 中写 model_path";
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

void Assistant::load(const Settings& machine) {
  if (load_thread_.joinable()) return;  // one model per assistant
  const bool remote = machine.backend == "remote";
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
  auto q = std::make_unique<JobQueue>(db_path_, gen.get());
  if (Status st = q->start(); !st.ok()) return fail(st.error());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::lock_guard<std::mutex> lk(mu_);
  settings_ = s;
  EngineFigures& f = figures_;
  f.state = EngineFigures::kReady;
  f.model_name = gen->name();
  f.n_ctx = gen->n_ctx();
  f.load_s = secs;
  f.context_budget = s.context_budget > 0 ? s.context_budget : s.ctx / 4;
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
    // Keys and values of every layer for one token, at the cache's element size.
    const size_t elem = s.kv_type == "f32" ? 4 : 2;
    f.kv_bytes_per_token = static_cast<size_t>(c.n_layers) * static_cast<size_t>(c.kv_dim() + c.v_dim()) * elem;
  }
  generator_ = std::move(gen);
  engine_ = local;
  queue_ = std::move(q);
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
  p.book_id = book_id_;
  if (p.context_tokens == 0) p.context_tokens = figures_.context_budget;
  p.prompt_style = settings_.prompt_style;
  p.temperature = settings_.temperature;
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

void Assistant::inspect_context(int64_t ordinal, int64_t budget) {
  std::lock_guard<std::mutex> lk(mu_);
  ctx_req_chapter_ = ordinal;
  ctx_req_budget_ = budget;
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
    int64_t chapter = 0, budget = 0;
    std::string model_path;
    {
      std::unique_lock<std::mutex> lk(mu_);
      ctx_cv_.wait(lk, [&] { return quit_.load() || ctx_pending_; });
      if (quit_) return;
      ctx_pending_ = false;
      chapter = ctx_req_chapter_;
      budget = ctx_req_budget_;
      // (a remote server's tokenizer is not here: the bundled one measures then)
      if (figures_.state == EngineFigures::kReady && figures_.backend != "remote") model_path = figures_.model_path;
    }
    const auto t0 = std::chrono::steady_clock::now();
    ContextView v;
    v.chapter = chapter;
    auto done = [&] {
      v.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::lock_guard<std::mutex> lk(mu_);
      v.version = ctx_.version + 1;
      if (ctx_pending_) v.state = ContextView::kBuilding;  // a newer request is on its way
      ctx_ = std::move(v);
    };
    // The model's own tokenizer measures the budget when a model is loaded (a separate instance: this thread
    // must not share one with the generating worker); otherwise the bundled Qwen3 tokenizer.
    std::string want = model_path;
    if (want.empty()) {
      auto p = memory::bundled_tokenizer_path();
      if (!p.ok()) {
        v.state = ContextView::kFailed;
        v.message = p.error();
        done();
        continue;
      }
      want = *p;
    }
    if (!tok || tok_path != want) {
      auto t = load_tokenizer(want);
      if (!t.ok()) {
        v.state = ContextView::kFailed;
        v.message = t.error();
        done();
        continue;
      }
      tok = std::move(*t);
      tok_path = want;
    }
    if (!db) {
      auto d = storage::Database::open(db_path_, {.create = false, .read_only = true});
      if (!d.ok()) {
        v.state = ContextView::kFailed;
        v.message = d.error();
        done();
        continue;
      }
      db = std::move(*d);
    }
    memory::ContextRequest rq;
    rq.book_id = book_id_;
    rq.chapter = chapter;
    rq.task = memory::prompts::Task::kContinue;
    rq.budget = budget;
    auto c = memory::build_context(*db, *tok, rq);
    if (!c.ok()) {
      v.state = ContextView::kFailed;
      v.message = c.error();
      done();
      continue;
    }
    std::vector<std::string> kinds;
    for (const auto& s : c->sections) kinds.push_back(s.kind);
    auto texts = split_context_sections(c->text, kinds);
    for (size_t i = 0; i < c->sections.size(); ++i) {
      const auto& s = c->sections[i];
      v.sections.push_back({s.kind, s.tokens, s.chapters, s.reason, texts[i]});
    }
    v.tokens = c->tokens;
    v.budget = c->budget;
    v.degradations = c->degradations;
    v.state = ContextView::kReady;
    done();
  }
}

}  // namespace cj::studio
