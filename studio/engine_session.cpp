#include "studio/engine_session.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "engine/kv_session.h"

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
  auto be = make_cpu_backend(*es->model_, backend_options(es->settings_, es->settings_.ctx));
  if (!be.ok()) return make_error(be.error());
  es->be_ = std::move(be.value());
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
  std::atomic<bool> local_stop{false};
  std::atomic<bool>* flag = stop ? stop : &local_stop;
  std::vector<TokenId> prompt = tokenize(req);
  if (prompt.empty()) prompt.push_back(tok_->bos() >= 0 ? tok_->bos() : 0);
  const int n_ctx = be_->n_ctx();
  if (int(prompt.size()) >= n_ctx - 1)
    return make_error("the prompt is " + std::to_string(prompt.size()) + " tokens but the context holds " +
                         std::to_string(n_ctx) + "; lower the context budget or raise the context size");

  // Reuse the longest cached prefix: what the cache holds, then whole 256-token blocks of earlier requests from
  // the prefix cache; at least one prompt token is evaluated to get the next token's logits.
  int session_loaded = 0;
  std::string session_note;
  if (!req.kv_session.empty() && std::filesystem::exists(req.kv_session) &&
      (cached_.empty() || cached_[0] != prompt[0])) {
    Status ls = load_kv_session(req.kv_session, be_->kv_cache(), tokenizer_fingerprint(*tok_));
    if (ls.ok()) {
      session_loaded = be_->n_past();
      const TokenId* held = be_->kv_cache().tokens();
      cached_.assign(held, held + session_loaded);
    } else {
      be_->truncate(0);
      cached_.clear();
      session_note = ls.error();
    }
  }
  const size_t common = size_t(be_->reuse_prefix(prompt.data(), int(prompt.size())));
  cached_.assign(prompt.begin(), prompt.begin() + long(common));
  kv_tokens_ = int(common);
  last_prompt_ = int(prompt.size());
  last_reused_ = int(common);
  std::vector<TokenId> rest(prompt.begin() + long(common), prompt.end());
  // Prefill all but the last prompt token here when the request keeps a session file, write it, and leave the
  // last token to the generation loop (which needs its logits).
  double session_prefill_ms = 0;
  bool session_saved = false;
  if (!req.kv_session.empty() && rest.size() > size_t(KVCache::kBlockTokens)) {
    auto t0 = std::chrono::steady_clock::now();
    Status es = be_->eval(rest.data(), int(rest.size()) - 1, nullptr, 0);
    if (!es.ok()) return make_error(es.error());
    cached_.insert(cached_.end(), rest.begin(), rest.end() - 1);
    rest.erase(rest.begin(), rest.end() - 1);
    session_prefill_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(req.kv_session).parent_path(), ec);
    Status ss = save_kv_session(req.kv_session, be_->kv_cache(), tokenizer_fingerprint(*tok_));
    if (ss.ok()) session_saved = true;
    else session_note = ss.error();
  }

  GenerateParams gp;
  gp.sampling = settings_.sampling;
  if (req.temperature >= 0) gp.sampling.temperature = req.temperature;
  if (req.top_p > 0) gp.sampling.top_p = req.top_p;
  gp.sampling.seed = req.seed ? *req.seed : fresh_seed();
  gp.stop = req.stop;
  gp.n_predict = std::max(0, std::min(req.max_tokens, n_ctx - int(prompt.size()) - 1));

  std::string out;
  // on_text returning false stops this request through the same flag the engine polls; the flag is cleared
  // afterwards when it was this request (not the caller) that set it.
  bool we_set = false;
  auto st = cj::generate(*be_, *tok_, rest, gp, [&](std::string_view piece) {
    out.append(piece);
    kv_tokens_.store(be_->n_past(), std::memory_order_relaxed);
    if (on_text && !on_text(piece) && !flag->exchange(true)) we_set = true;
  }, flag);
  if (we_set) flag->store(false);
  // Whatever the outcome, the cache holds the first n_past() tokens of prompt + generated.
  std::vector<TokenId> all = prompt;
  if (st.ok()) all.insert(all.end(), st->tokens.begin(), st->tokens.end());
  int n_past = be_->n_past();
  if (n_past > int(all.size())) {  // cannot happen unless generate changes; drop the cache to stay correct
    be_->truncate(0);
    n_past = 0;
  }
  cached_.assign(all.begin(), all.begin() + n_past);
  kv_tokens_ = n_past;
  if (!st.ok()) return make_error(st.error());
  if (stats) {
    stats->prompt_tokens = int(prompt.size());
    stats->reused_tokens = int(common);
    stats->gen_tokens = st->gen_tokens;
    stats->prefill_ms = st->prefill_ms + session_prefill_ms;
    stats->session_loaded_tokens = session_loaded;
    stats->session_saved = session_saved;
    stats->session_note = session_note;
    stats->decode_ms = st->decode_ms;
    stats->decode_tok_s = st->decode_tok_s;
    stats->stop_reason = st->stop_reason;
    stats->seed = gp.sampling.seed;
    stats->tokens = st->tokens;
  }
  return out;
}

}  // namespace cj::studio
