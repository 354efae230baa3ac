#include "engine/generate.h"

#include <chrono>

namespace cj {

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

// Holds back the tail of the output that could still become a stop string.
class StopFilter {
 public:
  explicit StopFilter(const std::vector<std::string>& stops) : stops_(stops) {
    size_t mx = 0;
    for (auto& s : stops_) mx = std::max(mx, s.size());
    pending_.reserve(mx * 4 + 64);
  }
  // Adds text; emits what is final. Returns true when a stop string completed (output ends before it).
  bool push(std::string_view text, const std::function<void(std::string_view)>& emit) {
    pending_.append(text);
    for (const auto& s : stops_) {
      if (s.empty()) continue;
      size_t at = pending_.find(s);
      if (at != std::string::npos) {
        if (at && emit) emit(std::string_view(pending_).substr(0, at));
        pending_.clear();
        return true;
      }
    }
    // Keep the longest suffix that is a proper prefix of some stop string.
    size_t keep = 0;
    for (const auto& s : stops_)
      for (size_t k = std::min(s.size() - (s.empty() ? 0 : 1), pending_.size()); k > keep; --k)
        if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) {
          keep = k;
          break;
        }
    // Never split a UTF-8 character: move the cut back to a character boundary.
    size_t cut = pending_.size() - keep;
    while (cut > 0 && cut < pending_.size() && (uint8_t(pending_[cut]) & 0xC0) == 0x80) --cut;
    if (cut && emit) emit(std::string_view(pending_).substr(0, cut));
    pending_.erase(0, cut);
    return false;
  }
  void flush(const std::function<void(std::string_view)>& emit) {
    if (!pending_.empty() && emit) emit(pending_);
    pending_.clear();
  }

 private:
  const std::vector<std::string> stops_;
  std::string pending_;
};

std::vector<TokenId> tokenize_prompt(const Tokenizer& tok, const std::string& text, bool chat) {
  std::vector<TokenId> ids;
  if (tok.add_bos() && tok.bos() >= 0) ids.push_back(tok.bos());
  std::vector<TokenId> body;
  if (chat) body = tok.encode(format_chatml({{"user", text}}, true), true);
  else if (!text.empty()) body = tok.encode(text, false);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

Generation::Generation(const Tokenizer& tok, const std::vector<TokenId>& prompt, const GenerateParams& p, int n_vocab)
    : tok_(tok), p_(p), history_(prompt), sampler_(p.sampling, n_vocab), dec_(tok),
      filter_(std::make_unique<StopFilter>(p.stop)), t0_(Clock::now()) {
  st_.prompt_tokens = int(prompt.size());
  history_.reserve(prompt.size() + size_t(std::max(0, p.n_predict)) + 1);
  st_.tokens.reserve(size_t(std::max(0, p.n_predict)));
  prev_ = prompt.empty() ? -1 : prompt.back();
  strip_after_bos_ = tok.spec().add_space_prefix;
  st_.stop_reason = "length";
}
Generation::~Generation() = default;
Generation::Generation(Generation&&) noexcept = default;

GenerateStats& Generation::stats() {
  st_.prefill_tok_s = st_.prefill_ms > 0 ? st_.prompt_tokens / (st_.prefill_ms / 1000.0) : 0;
  st_.decode_tok_s = st_.decode_ms > 0 ? n_decoded_ / (st_.decode_ms / 1000.0) : 0;
  return st_;
}

void Generation::finish_(const std::string& reason, const std::function<void(std::string_view)>& emit) {
  finished_ = true;
  st_.stop_reason = reason;
  if (reason != "stop_string") {
    std::string rest = dec_.flush();
    filter_->push(rest, emit);
    filter_->flush(emit);
  }
}

void Generation::finish(const std::string& reason, const std::function<void(std::string_view)>& emit) {
  if (!finished_) finish_(reason, emit);
}

TokenId Generation::step(float* logits, const std::function<void(std::string_view)>& emit) {
  if (finished_) return -1;
  if (i_ >= p_.n_predict) {
    finish_("length", emit);
    return -1;
  }
  const TokenId t = sampler_.sample(logits, history_.data(), int(history_.size()));
  if (i_ == 0) st_.ttft_ms = ms_since(t0_);
  ++i_;
  if (p_.stop_on_eog && (tok_.is_eog(t) || (t == tok_.bos() && t >= 0))) {
    finish_("eog", emit);
    return -1;
  }
  st_.tokens.push_back(t);
  history_.push_back(t);
  st_.gen_tokens++;
  std::string piece = dec_.push(t);
  if (strip_after_bos_ && prev_ == tok_.bos() && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
  prev_ = t;
  if (filter_->push(piece, emit)) {
    finish_("stop_string", emit);
    return -1;
  }
  if (i_ == p_.n_predict) {  // no forward pass for a token nobody samples after
    finish_("length", emit);
    return -1;
  }
  return t;
}

Result<GenerateStats> generate(Sequence& be, const Tokenizer& tok, const std::vector<TokenId>& prompt,
                               const GenerateParams& p, const std::function<void(std::string_view)>& on_text,
                               const std::atomic<bool>* cancel) {
  if (prompt.empty()) return make_error("the prompt is empty (not even a BOS token)");
  const int n_vocab = be.model().config().n_vocab;
  std::vector<float> logits(static_cast<size_t>(n_vocab), 0.0f);
  if (be.n_past() + int(prompt.size()) > be.n_ctx())
    return make_error("the prompt (" + std::to_string(prompt.size()) + " tokens) does not fit the context of " +
                      std::to_string(be.n_ctx()) + " tokens (raise --ctx)");
  Generation g(tok, prompt, p, n_vocab);
  const auto t0 = Clock::now();
  CJ_TRY(be.eval(prompt.data(), int(prompt.size()), logits.data(), 1));
  g.add_prefill_ms(ms_since(t0));
  for (;;) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      g.finish("cancelled", on_text);
      break;
    }
    const TokenId t = g.step(logits.data(), on_text);
    if (t < 0) break;
    if (be.n_past() + 1 > be.n_ctx()) {
      g.finish("context_full", on_text);
      break;
    }
    const auto td = Clock::now();
    CJ_TRY(be.eval(&t, 1, logits.data(), 1));
    g.add_decode(ms_since(td), 1);
  }
  return g.stats();
}

}  // namespace cj
