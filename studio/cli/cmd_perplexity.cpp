// changjuan-cli perplexity: llama.cpp's perplexity protocol. The text is tokenized once (BOS prepended when the
// vocabulary asks for it); it is cut into non-overlapping chunks of --ctx tokens (a partial last chunk is
// dropped; at least 2 chunks' worth of tokens are required); each chunk is evaluated from an empty cache with its
// first token replaced by BOS (when the vocabulary adds BOS), and only the second half is scored: the logits at
// positions ctx/2 .. ctx-2 predict tokens ctx/2+1 .. ctx-1, i.e. ctx - ctx/2 - 1 tokens per chunk.
#include <cstdio>

#include "engine/base/file.h"
#include "engine/perplexity.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_perplexity(const Args& a) {
  auto n_ctx_r = a.get_int("ctx", 512, 1, 1 << 24);
  auto threads = a.get_int("threads", 1, 1, 256);
  auto chunks_r = a.get_int("chunks", -1, -1, 1 << 30);
  auto batch_r = a.get_int("batch", 512);
  for (const auto* r : {&n_ctx_r, &threads, &chunks_r, &batch_r})
    if (!r->ok()) return fail(r->error());
  const int n_ctx = int(*n_ctx_r);
  if (n_ctx < 4 || n_ctx > 1 << 20) return fail("--ctx must be between 4 and 1048576");
  auto text = read_file(*a.get("file"));
  if (!text.ok()) return fail(text.error());
  auto model = Model::load(*a.get("model"));
  if (!model.ok()) return fail(model.error());
  const Tokenizer* tok = (*model)->tokenizer();
  if (!tok) return fail(*a.get("model") + ": no usable tokenizer in the model (" + (*model)->tokenizer_error() + ")");
  EngineOptions bo;
  bo.n_threads = int(*threads);
  bo.n_ctx = n_ctx;
  bo.n_batch = int(std::min<long long>(*batch_r, n_ctx));
  if (!kv_type_from_name(a.get_or("kv-type", "f16"), &bo.kv_type)) return fail("--kv-type must be f16, f32 or q8_0");
  auto be = open_sequence(**model, bo);
  if (!be.ok()) return fail(be.error());

  const bool add_bos = tok->add_bos() && tok->bos() >= 0;
  std::vector<TokenId> tokens;
  if (add_bos) tokens.push_back(tok->bos());
  std::vector<TokenId> body = tok->encode(*text, false);
  tokens.insert(tokens.end(), body.begin(), body.end());
  std::fprintf(stderr, "perplexity: %zu tokens, chunks of %d\n", tokens.size(), n_ctx);
  auto r = perplexity(**be, tokens, n_ctx, add_bos, tok->bos(), int(*chunks_r), [](int i, double ppl) {
    std::printf("[%d]%.4f,", i, ppl);
    std::fflush(stdout);
  });
  if (!r.ok()) return fail(r.error());
  std::printf("\n");
  std::fprintf(stderr, "perplexity: %lld tokens scored in %d chunks, +/- %.5f\n", (long long)r->scored, r->n_chunks,
               r->ppl_err);
  std::printf("PPL = %.4f\n", r->ppl);
  return 0;
}

Registrar reg({.name = "perplexity",
               .summary = "perplexity of a text file (llama.cpp protocol: chunks of --ctx, second halves scored)",
               .options = {{"model", "M", "GGUF model file", true},
                           {"file", "F", "UTF-8 text", true},
                           {"ctx", "N", "chunk size in tokens (default 512)"},
                           {"threads", "T", "threads (default 1)"},
                           {"chunks", "N", "evaluate at most N chunks"},
                           {"batch", "N", "tokens per forward pass (default 512)"},
                           {"kv-type", "T", "KV cache type f16|f32|q8_0 (default f16)"}},
               .run = run_perplexity});

}  // namespace
}  // namespace cj::cli
