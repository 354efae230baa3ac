// Perplexity's token accounting against a direct computation from each chunk's full logits.
#include <cmath>

#include "engine/perplexity.h"
#include "engine_test_util.h"

namespace cj::test {
namespace {

TEST(Perplexity, MatchesDirectComputationOverSecondHalves) {
  MakeModelSpec s;
  s.arch = Arch::Llama;
  s.n_layers = 1;
  s.n_embd = 32;
  s.n_heads = 2;
  s.n_kv_heads = 2;
  s.n_ff = 64;
  s.n_vocab = 50;
  auto m = Model::load(make_tiny("ppl", s));
  ASSERT_TRUE(m.ok()) << m.error();
  const int n_ctx = 16, V = 50;
  const TokenId bos = 1;
  std::vector<TokenId> toks = some_tokens(3 * n_ctx + 5, V, 17);  // 3 whole chunks; the tail is ignored
  EngineOptions o;
  o.n_ctx = n_ctx;
  o.kv_type = KVType::F32;
  auto be = open_sequence(**m, o);
  ASSERT_TRUE(be.ok());
  int calls = 0;
  auto r = perplexity(**be, toks, n_ctx, true, bos, -1, [&](int i, double) { EXPECT_EQ(i, ++calls); });
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->n_chunks, 3);
  EXPECT_EQ(r->scored, 3 * (n_ctx - n_ctx / 2 - 1));
  EXPECT_EQ(calls, 3);

  double nll = 0;
  int count = 0;
  for (int c = 0; c < 3; ++c) {
    std::vector<TokenId> chunk(toks.begin() + c * n_ctx, toks.begin() + (c + 1) * n_ctx);
    chunk[0] = bos;
    auto all = engine_logits(**m, chunk, o);
    for (int pos = n_ctx / 2; pos <= n_ctx - 2; ++pos) {
      const float* row = all.data() + size_t(pos) * V;
      double z = 0;
      for (int v = 0; v < V; ++v) z += std::exp(double(row[v]));
      nll -= std::log(std::exp(double(row[toks[c * n_ctx + pos + 1]])) / z);
      ++count;
    }
  }
  EXPECT_NEAR(r->ppl, std::exp(nll / count), 1e-6 * r->ppl);
  EXPECT_GT(r->ppl_err, 0);

  // Too few tokens: the protocol needs two chunks.
  std::vector<TokenId> few(toks.begin(), toks.begin() + 2 * n_ctx - 1);
  EXPECT_FALSE(perplexity(**be, few, n_ctx, true, bos, -1).ok());
  auto one = perplexity(**be, toks, n_ctx, false, bos, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->n_chunks, 1);
}

}  // namespace
}  // namespace cj::test
