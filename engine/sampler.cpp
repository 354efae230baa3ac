#include "engine/sampler.h"

#include <algorithm>
#include <cmath>

namespace cj {

Sampler::Sampler(const SamplerParams& p, int n_vocab)
    : p_(p), n_vocab_(n_vocab), rng_(p.seed), cand_(size_t(n_vocab)), counts_(size_t(n_vocab), 0) {}

void Sampler::apply_penalties(float* logits, const TokenId* history, int n_history) {
  const bool any = p_.repeat_penalty != 1.0f || p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f;
  if (!any || p_.repeat_last_n == 0 || n_history == 0) return;
  const int n = p_.repeat_last_n < 0 ? n_history : std::min(n_history, p_.repeat_last_n);
  const TokenId* h = history + (n_history - n);
  for (int i = 0; i < n; ++i)
    if (h[i] >= 0 && h[i] < n_vocab_) counts_[h[i]]++;
  for (int i = 0; i < n; ++i) {
    TokenId t = h[i];
    if (t < 0 || t >= n_vocab_ || counts_[t] == 0) continue;
    float& l = logits[t];
    if (p_.repeat_penalty != 1.0f) l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
    l -= float(counts_[t]) * p_.frequency_penalty + p_.presence_penalty;
    counts_[t] = 0;  // each distinct token once; also resets the counts for the next call
  }
}

TokenId Sampler::sample(float* logits, const TokenId* history, int n_history) {
  apply_penalties(logits, history, n_history);
  if (p_.temperature <= 0) {
    int best = 0;
    for (int i = 1; i < n_vocab_; ++i)
      if (logits[i] > logits[best]) best = i;
    return best;
  }
  int n = n_vocab_;
  for (int i = 0; i < n; ++i) cand_[i] = {logits[i], i};
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  if (p_.top_k > 0 && p_.top_k < n) {
    std::partial_sort(cand_.begin(), cand_.begin() + p_.top_k, cand_.begin() + n, by_logit);
    n = p_.top_k;
  } else {
    std::sort(cand_.begin(), cand_.begin() + n, by_logit);
  }
  // Softmax at temperature 1 for top-p / min-p (as llama.cpp's chain applies them before the temperature).
  const float mx = cand_[0].first;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += std::exp(double(cand_[i].first - mx));
  if (p_.top_p < 1.0f) {
    double cum = 0;
    int keep = n;
    for (int i = 0; i < n; ++i) {
      cum += std::exp(double(cand_[i].first - mx)) / sum;
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = std::max(1, keep);
  }
  if (p_.min_p > 0.0f) {
    const float thresh = mx + std::log(p_.min_p);  // p_i >= min_p * p_max  <=>  logit_i >= logit_max + ln(min_p)
    int keep = 1;
    while (keep < n && cand_[keep].first >= thresh) ++keep;
    n = keep;
  }
  double total = 0;
  for (int i = 0; i < n; ++i) total += std::exp(double(cand_[i].first - mx) / p_.temperature);
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng_), acc = 0;
  for (int i = 0; i < n; ++i) {
    acc += std::exp(double(cand_[i].first - mx) / p_.temperature);
    if (r < acc) return cand_[i].second;
  }
  return cand_[n - 1].second;
}

}  // namespace cj
