// Reproducibility across batch shapes, end to end: a prompt prefilled as a cached prefix plus a short tail gives the
// bits of the whole prompt prefilled at once (what the prefix cache of serve relies on for a seeded request to
// sample the same text), and a decode step of 8 sequences in one batch gives each the bits it gets alone. Both
// follow from the kernel invariant (tests/kernels/test_batch_invariance.cpp) and fail when one path of a quantized
// product rounds differently from another.
#include <cstdlib>
#include <cstring>

#include "engine_test_util.h"

namespace cj::test {
namespace {

MakeModelSpec spec(DType t) {
  MakeModelSpec s;
  s.arch = Arch::Qwen2;
  s.n_layers = 2;
  s.type = t;
  const bool k = dtype_traits(t).block_elems == 256;
  s.n_embd = k ? 256 : 96;  // 96 = 3 blocks of 32: an odd block count
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.n_ff = k ? 512 : 224;   // 7 blocks of 32
  s.n_vocab = 300;
  s.seed = 11;
  return s;
}

// Head sizes the flash kernel takes (32: 3 heads of 96, one KV head; 64 for the k-quants' 256).
MakeModelSpec flash_spec(DType t) {
  MakeModelSpec s = spec(t);
  if (s.n_embd == 96) {
    s.n_heads = 3;
    s.n_kv_heads = 1;
  }
  return s;
}

EngineOptions opts(int seqs, int n_ctx = 256, int threads = 2) {
  EngineOptions o;
  o.n_threads = threads;
  o.n_ctx = n_ctx;
  o.n_batch = 64;
  o.max_sequences = seqs;
  return o;
}

class PrefixBits : public ::testing::TestWithParam<DType> {};

TEST_P(PrefixBits, PrefixPlusTailGivesTheBitsOfTheWholePrompt) {
  const DType t = GetParam();
  auto m = Model::load(make_tiny(std::string("prefix_bits_") + dtype_traits(t).name, spec(t)));
  ASSERT_TRUE(m.ok()) << m.error();
  const int V = (*m)->config().n_vocab;
  const std::vector<TokenId> prompt = some_tokens(40, V, 3);
  std::vector<float> whole(static_cast<size_t>(V));
  {
    auto s = open_sequence(**m, opts(1));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->eval(prompt.data(), int(prompt.size()), whole.data(), 1).ok());
  }
  for (int tail = 1; tail <= 8; ++tail) {
    auto s = open_sequence(**m, opts(1));
    ASSERT_TRUE(s.ok());
    const int head = int(prompt.size()) - tail;
    ASSERT_TRUE((*s)->eval(prompt.data(), head, nullptr, 0).ok());
    std::vector<float> got(size_t(V), -1e30f);
    ASSERT_TRUE((*s)->eval(prompt.data() + head, tail, got.data(), 1).ok());
    EXPECT_EQ(std::memcmp(got.data(), whole.data(), size_t(V) * 4), 0)
        << dtype_traits(t).name << ": prefix + tail of " << tail << " differs from the whole prompt";
  }
}

// Past a few hundred keys a decode step's keys are split across threads and the partial softmax states merged:
// the bits must still be those of the same row in a whole prefill (a cached prefix of a long chapter plus a
// one-token tail), with one thread or two (flash-attention head sizes; the previous kernel, which serves the
// others, splits its decode keys by thread count and is not covered).
TEST_P(PrefixBits, LongPrefixPlusTailGivesTheBitsOfTheWholePrompt) {
  const DType t = GetParam();
  auto m = Model::load(make_tiny(std::string("prefix_bits_long_") + dtype_traits(t).name, flash_spec(t)));
  ASSERT_TRUE(m.ok()) << m.error();
  const int V = (*m)->config().n_vocab;
  for (int n : {300, 700, 1100}) {
    const std::vector<TokenId> prompt = some_tokens(n, V, 5);
    std::vector<float> whole(static_cast<size_t>(V));
    {
      auto s = open_sequence(**m, opts(1, 1280));
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE((*s)->eval(prompt.data(), n, whole.data(), 1).ok());
    }
    for (int tail : {1, 2, -1}) {  // -1: a tail of one token on one thread
      const int threads = tail < 0 ? 1 : 2;
      tail = std::abs(tail);
      auto s = open_sequence(**m, opts(1, 1280, threads));
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE((*s)->eval(prompt.data(), n - tail, nullptr, 0).ok());
      std::vector<float> got(size_t(V), -1e30f);
      ASSERT_TRUE((*s)->eval(prompt.data() + n - tail, tail, got.data(), 1).ok());
      EXPECT_EQ(std::memcmp(got.data(), whole.data(), size_t(V) * 4), 0)
          << dtype_traits(t).name << ": " << n << " tokens, prefix + tail of " << tail << " on " << threads
          << " threads differs from the whole";
    }
  }
}

TEST_P(PrefixBits, DecodeOfEightSequencesGivesTheBitsOfEachAlone) {
  const DType t = GetParam();
  auto m = Model::load(make_tiny(std::string("batch_bits_") + dtype_traits(t).name, spec(t)));
  ASSERT_TRUE(m.ok()) << m.error();
  const int V = (*m)->config().n_vocab, kSeqs = 8;
  auto eng = Engine::create(**m, opts(kSeqs));
  ASSERT_TRUE(eng.ok()) << eng.error();
  std::vector<std::unique_ptr<Sequence>> seqs;
  std::vector<std::vector<TokenId>> prompts;
  std::vector<SeqTokens> st;
  for (int i = 0; i < kSeqs; ++i) {
    seqs.push_back(std::move((*eng)->new_sequence().value()));
    prompts.push_back(some_tokens(5 + 3 * i, V, 20u + uint32_t(i)));
    st.push_back({seqs.back().get(), prompts.back().data(), int(prompts.back().size()), 0, nullptr});
  }
  ASSERT_TRUE((*eng)->eval(st.data(), kSeqs).ok());
  std::vector<TokenId> next(kSeqs);
  std::vector<float> dec(size_t(kSeqs) * V);
  for (int i = 0; i < kSeqs; ++i) {
    next[size_t(i)] = TokenId((7 * i + 1) % V);
    st[size_t(i)] = {seqs[size_t(i)].get(), &next[size_t(i)], 1, 1, dec.data() + size_t(i) * V};
  }
  ASSERT_TRUE((*eng)->eval(st.data(), kSeqs).ok());
  for (int i = 0; i < kSeqs; ++i) {
    auto s = open_sequence(**m, opts(1));
    ASSERT_TRUE(s.ok());
    std::vector<TokenId> all = prompts[size_t(i)];
    all.push_back(next[size_t(i)]);
    std::vector<float> ref(static_cast<size_t>(V));
    ASSERT_TRUE((*s)->eval(all.data(), int(all.size()) - 1, nullptr, 0).ok());
    ASSERT_TRUE((*s)->eval(all.data() + all.size() - 1, 1, ref.data(), 1).ok());
    EXPECT_EQ(std::memcmp(ref.data(), dec.data() + size_t(i) * V, size_t(V) * 4), 0)
        << dtype_traits(t).name << ": sequence " << i << " decoded in a batch of 8 differs from alone";
  }
}

INSTANTIATE_TEST_SUITE_P(Types, PrefixBits,
                         ::testing::Values(DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_K),
                         [](const ::testing::TestParamInfo<DType>& i) { return std::string(dtype_traits(i.param).name); });

}  // namespace
}  // namespace cj::test
