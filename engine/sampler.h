// Token sampling: repetition / presence / frequency penalties, then greedy (temperature <= 0) or top-k → top-p →
// min-p → temperature → a seeded draw. Buffers are allocated once; sample() allocates nothing.
#pragma once
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace cj {

struct SamplerParams {
  float temperature = 0.8f;   // <= 0: greedy (argmax, first index on ties)
  int top_k = 40;             // <= 0: off
  float top_p = 0.95f;        // >= 1: off
  float min_p = 0.05f;        // <= 0: off (relative to the most likely token)
  float repeat_penalty = 1.0f;     // 1: off; logits of recent tokens: > 0 divided, < 0 multiplied
  int repeat_last_n = 64;          // window for all penalties
  float presence_penalty = 0.0f;   // subtracted once from each recent token's logit
  float frequency_penalty = 0.0f;  // subtracted per occurrence
  uint64_t seed = 0;
};

class Sampler {
 public:
  Sampler(const SamplerParams& p, int n_vocab);
  // Picks the next token. logits [n_vocab] is modified (penalties); history = tokens so far (prompt + output).
  TokenId sample(float* logits, const TokenId* history, int n_history);
  const SamplerParams& params() const { return p_; }

 private:
  void apply_penalties(float* logits, const TokenId* history, int n_history);
  SamplerParams p_;
  int n_vocab_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, TokenId>> cand_;  // [n_vocab]
  std::vector<int32_t> counts_;                  // [n_vocab] occurrences in the penalty window
};

}  // namespace cj
