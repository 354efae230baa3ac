#include "studio/engine_session.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "engine/kv/kv_session.h"

namespace cj::studio {

Result<std::unique_ptr<EngineSession>> EngineSession::open(const EngineSettings& s) {
  CJ_TRY(validate(s));
  std::unique_ptr<EngineSession> es(new EngineSession());
  es->settings_ = s;
  auto m = Model::load(s.model_path);
  if (!m.ok()) return make_error(m.error());
  es->model_ = std::move(m.value());
  es->tok_ = es->model_->tokenizer();
  if (!es->tok_)
    return make_error(s.model_path + ": the model has no usable tokenizer (" + es->model_->tokenizer_error() + ")");
  es->info_ = studio::model_info(*es->model_);
  es->settings_.ctx = resolved_context(es->info_, s, probe_machine());
  auto eng = Engine::create(*es->model_, engine_options(es->settings_, es->settings_.ctx));
  if (!eng.ok()) return make_error(eng.error());
  es->engine_ = std::move(eng.value());
  SchedulerOptions so;
  so.step_tokens = s.step_tokens;
  // The scheduler's wait for late readers (engine/scheduler.h; off by default), for A/B measurements; not a setting.
  if (const char* w = std::getenv("CJ_READER_WAIT_MS")) so.reader_wait_ms = std::atoi(w);
  es->sched_ = std::make_unique<Scheduler>(*es->engine_, *es->tok_, so);
  es->tokenizer_hash_ = tokenizer_fingerprint(*es->tok_);
  return es;
}

std::string EngineSession::name() const { return std::filesystem::path(settings_.model_path).filename().string(); }

std::vector<TokenId> EngineSession::tokenize(const std::string& prompt, int chat) const {
  return tokenize_prompt(*tok_, prompt, chat < 0 ? settings_.chat : chat > 0);
}

std::vector<TokenId> EngineSession::tokenize(const SessionRequest& req) const {
  if (req.messages.empty()) return tokenize(req.prompt, req.chat);
  // As tokenize_prompt does for one user turn: BOS when the model wants one, then the ChatML text with its
  // special tokens.
  std::vector<TokenId> ids;
  if (tok_->add_bos() && tok_->bos() >= 0) ids.push_back(tok_->bos());
  std::vector<TokenId> body = tok_->encode(format_chatml(req.messages, true), true);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

bool EngineSession::has_chat_tokens() const { return tok_->find_token("<|im_start|>").has_value(); }

int EngineSession::count_tokens(const std::string& text) const { return int(tok_->encode(text, false).size()); }

Result<std::string> EngineSession::generate(const SessionRequest& req,
                                            const std::function<bool(std::string_view)>& on_text,
                                            std::atomic<bool>* stop, SessionStats* stats) {
  std::vector<SessionStats> st;
  auto r = generate_choices(req, 1, [&](int, std::string_view piece) { return on_text ? on_text(piece) : true; }, stop,
                            &st);
  if (!r.ok()) return make_error(r.error());
  if (stats) *stats = st[0];
  return std::move((*r)[0]);
}

Result<std::vector<std::string>> EngineSession::generate_choices(
    const SessionRequest& req, int n, const std::function<bool(int, std::string_view)>& on_text,
    std::atomic<bool>* stop, std::vector<SessionStats>* stats) {
  if (n < 1 || n > 64) return make_error("choices must be between 1 and 64");
  std::vector<TokenId> prompt = tokenize(req);
  if (prompt.empty()) prompt.push_back(tok_->bos() >= 0 ? tok_->bos() : 0);
  const int n_ctx = settings_.ctx;
  if (int(prompt.size()) >= n_ctx - 1)
    return make_error("the prompt is " + std::to_string(prompt.size()) + " tokens but the context holds " +
                      std::to_string(n_ctx) + "; lower the context budget or raise the context size");
  GenRequest g;
  g.prompt = prompt;
  g.params.sampling = settings_.sampling;
  if (req.temperature >= 0) g.params.sampling.temperature = req.temperature;
  if (req.top_p > 0) g.params.sampling.top_p = req.top_p;
  g.params.sampling.seed = req.seed ? *req.seed : fresh_seed();
  g.params.stop = req.stop;
  g.params.n_predict = std::max(0, std::min(req.max_tokens, n_ctx - int(prompt.size()) - 1));
  g.n = n;
  g.cancel = stop;  // polled by the scheduler every step; outlives the request (we wait for its end below)
  g.max_unread = std::clamp(req.read_ahead, 1, 64);  // decode no further ahead of on_text (SessionRequest)
  g.load_session = req.kv_session;
  g.save_session = req.kv_session;
  g.tokenizer_hash = tokenizer_hash_;
  last_prompt_ = int(prompt.size());
  const uint64_t g_seed = g.params.sampling.seed;
  auto stream = sched_->submit(std::move(g));
  // Pieces are handed to on_text here, on the caller's thread; on_text returning false ends this request (the
  // caller's flag is left as it was).
  std::vector<std::string> out(static_cast<size_t>(n));
  std::vector<int> pieces(static_cast<size_t>(n), 0);
  // Once the caller said stop (on_text false, or its flag), pieces the scheduler produced meanwhile are dropped: the
  // text ends where the caller stopped it, as if generation had stopped at once.
  RequestStream::Piece p;
  bool cut = false;
  while (!stream->done()) {
    if (!stream->next(&p, std::chrono::milliseconds(50))) continue;
    if (cut || (stop && stop->load(std::memory_order_relaxed))) continue;
    out[size_t(p.choice)].append(p.text);
    kv_tokens_.store(int(prompt.size()) + ++pieces[size_t(p.choice)], std::memory_order_relaxed);
    if (on_text && !on_text(p.choice, p.text)) {
      cut = true;
      stream->cancel();
    }
  }
  const std::vector<ChoiceResult> res = stream->results();
  last_reused_ = res[0].reused_tokens;
  kv_tokens_ = int(prompt.size()) + res[0].stats.gen_tokens;
  if (!stream->error().empty()) return make_error(stream->error());
  if (stats) {
    stats->clear();
    for (const ChoiceResult& r : res) {
      SessionStats s;
      s.prompt_tokens = int(prompt.size());
      s.reused_tokens = r.reused_tokens;
      s.gen_tokens = r.stats.gen_tokens;
      s.prefill_ms = r.stats.prefill_ms;
      s.session_loaded_tokens = r.session_loaded_tokens;
      s.session_saved = r.session_saved;
      s.session_note = r.session_note;
      s.decode_ms = r.stats.decode_ms;
      s.decode_tok_s = r.stats.decode_tok_s;
      s.stop_reason = r.stats.stop_reason;
      s.tokens = r.stats.tokens;
      s.seed = g_seed + uint64_t(stats->size());  // choice k is sampled with seed + k
      stats->push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace cj::studio
