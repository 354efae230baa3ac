#include "engine/generate.h"

#include <chrono>

namespace cj {

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

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
  const std::vector<std::string>& stops_;
  std::string pending_;
};
}  // namespace

std::vector<TokenId> tokenize_prompt(const Tokenizer& tok, const std::string& text, bool chat) {
  std::vector<TokenId> ids;
  if (tok.add_bos() && tok.bos() >= 0) ids.push_back(tok.bos());
  std::vector<TokenId> body;
  if (chat) body = tok.encode(format_chatml({{"user", text}}, true), true);
  else if (!text.empty()) body = tok.encode(text, false);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

Result<GenerateStats> generate(Sequence& be, const Tokenizer& tok, const std::vector<TokenId>& prompt,
                               const GenerateParams& p, const std::function<void(std::string_view)>& on_text,
                               const std::atomic<bool>* cancel) {
  if (prompt.empty()) return make_error("the prompt is empty (not even a BOS token)");
  const int n_vocab = be.model().config().n_vocab;
  GenerateStats st;
  st.prompt_tokens = int(prompt.size());
  std::vector<float> logits(static_cast<size_t>(n_vocab), 0.0f);
  std::vector<TokenId> history(prompt);
  history.reserve(prompt.size() + size_t(std::max(0, p.n_predict)) + 1);
  st.tokens.reserve(size_t(std::max(0, p.n_predict)));
  Sampler sampler(p.sampling, n_vocab);
  StreamDecoder dec(tok);
  StopFilter filter(p.stop);
  const bool strip_after_bos = tok.spec().add_space_prefix;

  const auto t0 = Clock::now();
  if (be.n_past() + int(prompt.size()) > be.n_ctx())
    return make_error("the prompt (" + std::to_string(prompt.size()) + " tokens) does not fit the context of " +
                      std::to_string(be.n_ctx()) + " tokens (raise --ctx)");
  CJ_TRY(be.eval(prompt.data(), int(prompt.size()), logits.data(), 1));
  st.prefill_ms = ms_since(t0);
  st.stop_reason = "length";
  TokenId prev = prompt.back();
  int n_decoded = 0;
  for (int i = 0; i < p.n_predict; ++i) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      st.stop_reason = "cancelled";
      break;
    }
    TokenId t = sampler.sample(logits.data(), history.data(), int(history.size()));
    if (i == 0) st.ttft_ms = ms_since(t0);
    if (p.stop_on_eog && (tok.is_eog(t) || (t == tok.bos() && t >= 0))) {
      st.stop_reason = "eog";
      break;
    }
    st.tokens.push_back(t);
    history.push_back(t);
    st.gen_tokens++;
    std::string piece = dec.push(t);
    if (strip_after_bos && prev == tok.bos() && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    prev = t;
    if (filter.push(piece, on_text)) {
      st.stop_reason = "stop_string";
      break;
    }
    if (i + 1 == p.n_predict) break;  // no forward pass for a token nobody samples after
    if (be.n_past() + 1 > be.n_ctx()) {
      st.stop_reason = "context_full";
      break;
    }
    const auto td = Clock::now();
    CJ_TRY(be.eval(&t, 1, logits.data(), 1));
    st.decode_ms += ms_since(td);
    ++n_decoded;
  }
  if (st.stop_reason != "stop_string") {
    std::string rest = dec.flush();
    filter.push(rest, on_text);
    filter.flush(on_text);
  }
  st.prefill_tok_s = st.prefill_ms > 0 ? st.prompt_tokens / (st.prefill_ms / 1000.0) : 0;
  st.decode_tok_s = st.decode_ms > 0 ? n_decoded / (st.decode_ms / 1000.0) : 0;
  return st;
}

}  // namespace cj
