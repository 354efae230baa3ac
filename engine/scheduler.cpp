#include "engine/scheduler.h"

#include <algorithm>
#include <filesystem>

#include "engine/kv/kv_session.h"

namespace cj {

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
}  // namespace

// ---- RequestStream ----------------------------------------------------------------------------------------------

bool RequestStream::next(Piece* out, std::chrono::milliseconds timeout) {
  {
    std::unique_lock<std::mutex> lk(mu_);
    ++in_next_;
    cv_.wait_for(lk, timeout, [&] { return !pieces_.empty() || open_ == 0; });
    --in_next_;
    if (pieces_.empty()) return false;
    *out = std::move(pieces_.front());
    pieces_.pop_front();
    --unread_[size_t(out->choice)];
  }
  if (wake_) {  // the scheduler may be waiting for this reader
    { std::lock_guard<std::mutex> lk(wake_->mu); }
    wake_->cv.notify_all();
  }
  return true;
}

bool RequestStream::reader_waiting() const {
  std::lock_guard<std::mutex> lk(mu_);
  return in_next_ > 0;
}

bool RequestStream::done() const {
  std::lock_guard<std::mutex> lk(mu_);
  return open_ == 0 && pieces_.empty();
}

void RequestStream::wait() const {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return open_ == 0; });
}

std::string RequestStream::error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return error_;
}

std::vector<ChoiceResult> RequestStream::results() const {
  std::lock_guard<std::mutex> lk(mu_);
  return results_;
}

void RequestStream::push(int choice, std::string_view text) {
  if (text.empty()) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    pieces_.push_back({choice, std::string(text)});
    ++unread_[size_t(choice)];
  }
  cv_.notify_all();
}

int RequestStream::unread(int choice) const {
  std::lock_guard<std::mutex> lk(mu_);
  return unread_[size_t(choice)];
}

void RequestStream::end_choice(int choice, ChoiceResult r, const std::string& error) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    results_[size_t(choice)] = std::move(r);
    if (!error.empty() && error_.empty()) error_ = error;
    --open_;
  }
  cv_.notify_all();
}

// ---- Scheduler --------------------------------------------------------------------------------------------------

// One choice of a request: its generation state and, while it runs, its sequence. The sequence must hold the
// generation's history (prompt + generated tokens); what it lacks is evaluated, the last token with logits.
struct Scheduler::Job {
  std::shared_ptr<RequestStream> out;
  int choice = 0;
  const std::atomic<bool>* cancel = nullptr;
  int max_unread = 0;
  std::string load_session, save_session;
  uint64_t tokenizer_hash = 0;
  Generation gen;
  std::unique_ptr<Sequence> seq;
  std::vector<uint64_t> block_keys;  // prefix-chain keys of the prompt's full blocks
  ChoiceResult res;
  int save_at = -1;         // tokens in the KV cache when the session file is written
  bool admitted_once = false;
  bool prompt_done = false;  // the prompt has been evaluated once (later steps are decode)
  double prefill_ms = 0;
  Job(std::shared_ptr<RequestStream> o, int c, Generation g) : out(std::move(o)), choice(c), gen(std::move(g)) {}
  int need() const { return int(gen.history().size()) - seq->n_past(); }
};

Scheduler::Scheduler(Engine& engine, const Tokenizer& tok, const SchedulerOptions& o)
    : engine_(engine), tok_(tok), o_(o) {
  if (o_.step_tokens <= 0 || o_.step_tokens > engine.options().n_batch) o_.step_tokens = engine.options().n_batch;
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
  quit_.store(true);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<RequestStream> Scheduler::submit(GenRequest r) {
  auto out = std::make_shared<RequestStream>();
  const int n = std::max(1, r.n);
  out->results_.resize(size_t(n));
  out->unread_.assign(size_t(n), 0);
  out->open_ = n;
  out->wake_ = wake_;
  const int V = engine_.recipe().n_vocab;
  // The prompt's block keys, as the prefix cache computes them.
  std::vector<uint64_t> keys;
  uint64_t h = engine_.model_id();
  for (size_t b = 0; (b + 1) * KVLayout::kBlockTokens <= r.prompt.size(); ++b) {
    h = kv_block_hash(h, engine_.model_id(), r.prompt.data() + b * KVLayout::kBlockTokens, KVLayout::kBlockTokens);
    keys.push_back(h);
  }
  std::vector<std::unique_ptr<Job>> jobs;
  for (int c = 0; c < n; ++c) {
    GenerateParams p = r.params;
    p.sampling.seed += uint64_t(c);
    auto j = std::make_unique<Job>(out, c, Generation(tok_, r.prompt, p, V));
    j->cancel = r.cancel;
    j->max_unread = r.max_unread;
    j->tokenizer_hash = r.tokenizer_hash;
    j->block_keys = keys;
    if (c == 0) {
      j->load_session = r.load_session;
      j->save_session = r.save_session;
    }
    jobs.push_back(std::move(j));
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& j : jobs) waiting_.push_back(std::move(j));
    ++stats_.requests;
  }
  cv_.notify_all();
  return out;
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stats_;
}

void Scheduler::run() {
  std::vector<std::unique_ptr<Job>> active;
  const int V = engine_.recipe().n_vocab;
  auto emit_for = [](Job& j) { return [&j](std::string_view t) { j.out->push(j.choice, t); }; };
  auto finish = [&](Job& j, const std::string& reason, const std::string& error) {
    j.gen.finish(reason, emit_for(j));
    j.res.stats = j.gen.stats();
    if (j.seq && error.empty() && j.seq->n_past() > 0) idle_.push_back(std::move(j.seq));
    j.seq.reset();
    j.out->end_choice(j.choice, std::move(j.res), error);
    hold_ = false;  // its blocks are free
  };
  while (true) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return quit_.load() || !active.empty() || !waiting_.empty(); });
      if (quit_.load()) break;
      // Cancelled requests that have not started.
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        Job& j = **it;
        if (j.out->cancelled() || (j.cancel && j.cancel->load())) {
          lk.unlock();
          finish(j, "cancelled", "");
          lk.lock();
          it = waiting_.erase(it);
        } else {
          ++it;
        }
      }
    }
    // Cancelled running requests leave the batch.
    for (auto it = active.begin(); it != active.end();) {
      Job& j = **it;
      if (j.out->cancelled() || (j.cancel && j.cancel->load())) {
        finish(j, "cancelled", "");
        it = active.erase(it);
      } else {
        ++it;
      }
    }
    // Admission: waiting requests join while sequences are free.
    while (!hold_ && int(active.size()) < engine_.options().max_sequences) {
      std::unique_ptr<Job> j;
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (waiting_.empty()) break;
        j = std::move(waiting_.front());
        waiting_.pop_front();
      }
      const std::vector<TokenId>& hist = j->gen.history();
      if (hist.empty() || int(hist.size()) > engine_.options().n_ctx) {
        finish(*j, "error", hist.empty() ? "the prompt is empty (not even a BOS token)"
                                         : "the prompt (" + std::to_string(hist.size()) +
                                               " tokens) does not fit the context of " +
                                               std::to_string(engine_.options().n_ctx) + " tokens (raise --ctx)");
        continue;
      }
      // The idle sequence sharing the longest prefix with the history, else a new one (dropping an idle one when
      // every slot is taken).
      size_t best = idle_.size();
      int best_common = 0;
      for (size_t i = 0; i < idle_.size(); ++i) {
        const KVCache& kv = idle_[i]->kv_cache();
        int c = 0;
        while (c < kv.n_tokens() && c < int(hist.size()) && kv.tokens()[c] == hist[size_t(c)]) ++c;
        if (c > best_common) {
          best_common = c;
          best = i;
        }
      }
      if (best == idle_.size() && engine_.live_sequences() >= engine_.options().max_sequences && !idle_.empty()) best = 0;
      if (best < idle_.size()) {
        j->seq = std::move(idle_[best]);
        idle_.erase(idle_.begin() + long(best));
      } else {
        auto s = engine_.new_sequence();
        if (!s.ok()) {
          finish(*j, "error", s.error());
          continue;
        }
        j->seq = std::move(s.value());
      }
      if (!j->admitted_once && !j->load_session.empty() && std::filesystem::exists(j->load_session) &&
          best_common == 0) {
        j->seq->truncate(0);
        Status ls = load_kv_session(j->load_session, j->seq->kv_cache(), j->tokenizer_hash);
        if (ls.ok()) j->res.session_loaded_tokens = j->seq->n_past();
        else j->res.session_note = ls.error();
        if (!ls.ok()) j->seq->truncate(0);
      }
      const int reused = j->seq->reuse_prefix(hist.data(), int(hist.size()));
      if (!j->admitted_once) {
        j->res.admitted_step = stats_.steps;  // this thread is the only writer of stats_
        j->res.reused_tokens = reused;
        const int prompt_n = j->res.stats.prompt_tokens = j->gen.stats().prompt_tokens;
        if (!j->save_session.empty() && prompt_n - 1 - reused > KVLayout::kBlockTokens) j->save_at = prompt_n - 1;
      }
      j->admitted_once = true;
      active.push_back(std::move(j));
    }
    if (active.empty()) continue;
    step(active);
    // Finished requests leave.
    for (auto it = active.begin(); it != active.end();) {
      if ((*it)->gen.finished()) {
        finish(**it, (*it)->gen.stats().stop_reason, "");
        it = active.erase(it);
      } else {
        ++it;
      }
    }
    std::lock_guard<std::mutex> lk(mu_);
    stats_.running = int(active.size());
    stats_.waiting = int(waiting_.size());
  }
  for (auto& j : active) finish(*j, "cancelled", "");
  idle_.clear();
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& j : waiting_) finish(*j, "cancelled", "");
  waiting_.clear();
  (void)V;
}

void Scheduler::wait_for_readers(const std::vector<std::unique_ptr<Job>>& active) {
  if (o_.reader_wait_ms <= 0) return;
  // A decode-ready sequence whose reader has not taken its last piece but is inside next(): woken, about to.
  auto late = [&] {
    for (const auto& jp : active) {
      const Job& j = *jp;
      if (j.max_unread <= 0 || j.need() != 1 || j.gen.finished()) continue;
      if (j.out->unread(j.choice) >= j.max_unread && j.out->reader_waiting() && !j.out->cancelled() &&
          !(j.cancel && j.cancel->load()))
        return true;
    }
    return false;
  };
  std::unique_lock<std::mutex> lk(wake_->mu);
  if (!late()) return;
  const auto t0 = Clock::now();
  wake_->cv.wait_for(lk, std::chrono::milliseconds(o_.reader_wait_ms), [&] { return !late(); });
  lk.unlock();
  std::lock_guard<std::mutex> g(mu_);
  stats_.reader_wait_ms += ms_since(t0);
}

void Scheduler::step(std::vector<std::unique_ptr<Job>>& active) {
  const int V = engine_.recipe().n_vocab;
  const int n_ctx = engine_.options().n_ctx;
  if (logits_.size() < size_t(engine_.options().max_sequences) * V)
    logits_.resize(size_t(engine_.options().max_sequences) * V);
  std::vector<SeqTokens>& e = entries_;
  std::vector<Job*>& who = who_;
  e.clear();
  who.clear();
  wait_for_readers(active);
  const auto t_step = Clock::now();
  int budget = o_.step_tokens, row = 0;
  int64_t sat_out = 0, decode_rows = 0;
  auto emit_for = [](Job& j) { return [&j](std::string_view t) { j.out->push(j.choice, t); }; };
  // Decode steps first: one token each.
  for (auto& jp : active) {
    Job& j = *jp;
    if (j.need() != 1 || budget == 0) continue;
    if (j.max_unread > 0 && j.out->unread(j.choice) >= j.max_unread) {  // its reader is behind
      ++sat_out;
      continue;
    }
    if (j.seq->n_past() + 1 > n_ctx) {
      j.gen.finish("context_full", emit_for(j));
      continue;
    }
    e.push_back({j.seq.get(), j.gen.history().data() + j.seq->n_past(), 1, 1, logits_.data() + size_t(row++) * V});
    who.push_back(&j);
    --budget;
    ++decode_rows;
  }
  // Then prefill chunks, oldest request first. A block another sequence is computing is waited for, then attached
  // from the prefix cache.
  claimed_.clear();
  for (auto& jp : active) {
    Job& j = *jp;
    if (budget == 0) break;
    if (j.need() <= 1) continue;
    const std::vector<TokenId>& hist = j.gen.history();
    j.seq->reuse_prefix(hist.data(), int(hist.size()));  // blocks published since the last step
    const int past = j.seq->n_past();
    const size_t b = size_t(past / KVLayout::kBlockTokens);
    if (b < j.block_keys.size()) {
      const uint64_t key = j.block_keys[b];
      if (std::find(claimed_.begin(), claimed_.end(), key) != claimed_.end()) continue;
      claimed_.push_back(key);
    }
    int cnt = std::min(j.need(), budget);
    if (j.save_at > past) cnt = std::min(cnt, j.save_at - past);
    const bool last = cnt == j.need();
    e.push_back({j.seq.get(), hist.data() + past, cnt, last ? 1 : 0, last ? logits_.data() + size_t(row++) * V : nullptr});
    who.push_back(&j);
    budget -= cnt;
  }
  if (e.empty()) {  // every running request waits for its reader: do not spin
    {
      std::lock_guard<std::mutex> lk(mu_);
      stats_.sat_out += sat_out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return;
  }
  const auto t0 = Clock::now();
  Status st = engine_.eval(e.data(), int(e.size()));
  const double ms = ms_since(t0);
  if (!st.ok()) {
    bool kv_full = false;
    for (const SeqTokens& s : e) kv_full = kv_full || s.kv_full;
    if (kv_full && !idle_.empty()) {  // idle sequences' blocks go first
      idle_.erase(idle_.begin());
      return;
    }
    if (kv_full && active.size() > 1) {
      // Preempt the most recently admitted sequence: it is recomputed when there is room again.
      std::unique_ptr<Job> victim = std::move(active.back());
      active.pop_back();
      victim->seq.reset();
      ++victim->res.preempted;
      hold_ = true;
      std::lock_guard<std::mutex> lk(mu_);
      ++stats_.preemptions;
      waiting_.push_front(std::move(victim));
      return;
    }
    for (Job* j : who) {
      j->gen.finish("error", emit_for(*j));
      j->res.stats = j->gen.stats();
      j->seq.reset();
      j->out->end_choice(j->choice, std::move(j->res), st.error());
    }
    active.erase(std::remove_if(active.begin(), active.end(), [](const std::unique_ptr<Job>& j) { return !j->seq; }),
                 active.end());
    hold_ = false;
    return;
  }
  int64_t n_tok = 0, n_gen = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    Job& j = *who[i];
    n_tok += e[i].n;
    if (!j.prompt_done) j.prefill_ms += ms;
    if (j.save_at > 0 && j.seq->n_past() == j.save_at) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(j.save_session).parent_path(), ec);
      Status ss = save_kv_session(j.save_session, j.seq->kv_cache(), j.tokenizer_hash);
      if (ss.ok()) j.res.session_saved = true;
      else j.res.session_note = ss.error();
      j.save_at = -1;
    }
    if (!e[i].logits) continue;
    if (!j.prompt_done) {
      j.prompt_done = true;
      j.res.first_token_step = stats_.steps + 1;  // this step, counted below
      j.gen.add_prefill_ms(j.prefill_ms);
    } else {
      j.gen.add_decode(ms, 1);
    }
    if (j.gen.step(e[i].logits, emit_for(j)) >= 0) ++n_gen;
  }
  std::lock_guard<std::mutex> lk(mu_);
  ++stats_.steps;
  stats_.tokens += n_tok;
  stats_.generated += n_gen;
  stats_.decode_rows += decode_rows;
  stats_.sat_out += sat_out;
  stats_.eval_ms += ms;
  stats_.busy_ms += ms_since(t_step);
  if (n_tok == decode_rows) {
    ++stats_.decode_steps;
    stats_.decode_step_rows += decode_rows;
    stats_.decode_step_ms += ms;
  }
}

}  // namespace cj
