#include "engine/perplexity.h"

#include <algorithm>
#include <cmath>

namespace cj {

Result<PerplexityResult> perplexity(Sequence& be, const std::vector<TokenId>& tokens, int n_ctx, bool add_bos,
                                    TokenId bos, int max_chunks, const std::function<void(int, double)>& progress) {
  if (n_ctx < 4) return make_error("perplexity: the context must be at least 4 tokens");
  if (n_ctx > be.n_ctx()) return make_error("perplexity: the backend's context is smaller than the chunk size");
  if (int64_t(tokens.size()) < 2 * int64_t(n_ctx))
    return make_error("you need at least " + std::to_string(2 * int64_t(n_ctx)) + " tokens for a context of " +
                      std::to_string(n_ctx) + "; the text has " + std::to_string(tokens.size()));
  PerplexityResult r;
  r.n_chunks = int(tokens.size() / size_t(n_ctx));
  if (max_chunks >= 0) r.n_chunks = std::min(r.n_chunks, max_chunks);
  const int n_vocab = be.model().config().n_vocab;
  const int first = n_ctx / 2;
  const int n_out = n_ctx - first;  // logits of positions first .. n_ctx-1 (the last is not scored)
  std::vector<float> logits(size_t(n_out) * size_t(n_vocab));
  std::vector<TokenId> chunk(static_cast<size_t>(n_ctx));
  double nll = 0, nll2 = 0;
  for (int i = 0; i < r.n_chunks; ++i) {
    const size_t start = size_t(i) * size_t(n_ctx);
    std::copy(tokens.begin() + long(start), tokens.begin() + long(start) + n_ctx, chunk.begin());
    if (add_bos) chunk[0] = bos;
    be.truncate(0);
    CJ_TRY(be.eval(chunk.data(), n_ctx, logits.data(), n_out));
    for (int j = 0; j < n_ctx - 1 - first; ++j) {
      const float* row = logits.data() + size_t(j) * n_vocab;
      const TokenId target = tokens[start + size_t(first + j + 1)];
      float mx = row[0];
      for (int v = 1; v < n_vocab; ++v) mx = std::max(mx, row[v]);
      double sum = 0;
      for (int v = 0; v < n_vocab; ++v) sum += std::exp(double(row[v]) - mx);
      const double lp = double(row[target]) - mx - std::log(sum);
      nll -= lp;
      nll2 += lp * lp;
      ++r.scored;
    }
    if (progress) progress(i + 1, std::exp(nll / double(r.scored)));
  }
  const double mean = nll / double(r.scored);
  const double var = nll2 / double(r.scored) - mean * mean;
  r.ppl = std::exp(mean);
  r.ppl_err = var > 0 && r.scored > 1 ? std::sqrt(var / double(r.scored - 1)) * r.ppl : 0;
  return r;
}

}  // namespace cj
