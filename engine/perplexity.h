// Perplexity with llama.cpp's protocol (tools/perplexity): the token stream (BOS first when the vocabulary adds
// it) is cut into len / n_ctx non-overlapping chunks (at least 2 chunks' worth of tokens required); each chunk is
// evaluated from an empty cache with its first token replaced by BOS (when add_bos), and only the second half is
// scored: logits at positions n_ctx/2 .. n_ctx-2 predict the tokens n_ctx/2+1 .. n_ctx-1.
#pragma once
#include <functional>
#include <vector>

#include "engine/engine.h"

namespace cj {

struct PerplexityResult {
  double ppl = 0;
  double ppl_err = 0;     // standard error of the estimate (as llama.cpp prints after "+/-")
  int64_t scored = 0;     // tokens scored: n_chunks * (n_ctx - n_ctx/2 - 1)
  int n_chunks = 0;
};

// progress(chunk index from 1, running ppl) after each chunk. max_chunks < 0: all.
Result<PerplexityResult> perplexity(Sequence& be, const std::vector<TokenId>& tokens, int n_ctx, bool add_bos,
                                    TokenId bos, int max_chunks,
                                    const std::function<void(int, double)>& progress = nullptr);

}  // namespace cj
