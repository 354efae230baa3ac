// Sampling: greedy, top-k/top-p/min-p filtering, penalties, seeded reproducibility, and the distribution.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/sampler.h"

namespace cj {
namespace {

TEST(Sampler, GreedyPicksFirstMaximum) {
  SamplerParams p;
  p.temperature = 0;
  Sampler s(p, 5);
  std::vector<float> l = {0.1f, 3.0f, -1.0f, 3.0f, 2.0f};
  EXPECT_EQ(s.sample(l.data(), nullptr, 0), 1);
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplerParams p;
  p.temperature = 1.5f;
  p.top_k = 1;
  p.seed = 3;
  Sampler s(p, 6);
  for (int i = 0; i < 50; ++i) {
    std::vector<float> l = {0.0f, 0.5f, 0.2f, 4.0f, 0.1f, 3.9f};
    EXPECT_EQ(s.sample(l.data(), nullptr, 0), 3);
  }
}

TEST(Sampler, SeedReproducibleAndDistributionFollowsSoftmax) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 42;
  Sampler a(p, 3), b(p, 3);
  std::vector<int> counts(3, 0);
  const int N = 20000;
  for (int i = 0; i < N; ++i) {
    std::vector<float> l1 = {0.0f, 1.0f, 2.0f}, l2 = l1;
    TokenId x = a.sample(l1.data(), nullptr, 0);
    EXPECT_EQ(x, b.sample(l2.data(), nullptr, 0));
    counts[x]++;
  }
  const double z = 1 + std::exp(1.0) + std::exp(2.0);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(counts[i] / double(N), std::exp(double(i)) / z, 0.015) << i;
}

TEST(Sampler, TopPAndMinPCutTheTail) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 0.5f;  // token 0 alone has ~0.67 of the mass
  p.min_p = 0.0f;
  Sampler s(p, 4);
  for (int i = 0; i < 200; ++i) {
    std::vector<float> l = {3.0f, 2.0f, 1.0f, 0.0f};
    EXPECT_EQ(s.sample(l.data(), nullptr, 0), 0);
  }
  p.top_p = 1.0f;
  p.min_p = 0.3f;  // keeps tokens with p >= 0.3 * p_max: exp(-1) = 0.37 passes, exp(-2) = 0.14 does not
  Sampler m(p, 4);
  for (int i = 0; i < 300; ++i) {
    std::vector<float> l = {3.0f, 2.0f, 1.0f, 0.0f};
    EXPECT_LE(m.sample(l.data(), nullptr, 0), 1);
  }
}

TEST(Sampler, PenaltiesChangeTheChoice) {
  SamplerParams p;
  p.temperature = 0;
  p.repeat_penalty = 2.0f;
  Sampler s(p, 3);
  std::vector<TokenId> hist = {0, 0};
  std::vector<float> l = {2.0f, 1.5f, -1.0f};
  EXPECT_EQ(s.sample(l.data(), hist.data(), 2), 1);  // 2.0 / 2 = 1.0 < 1.5
  EXPECT_FLOAT_EQ(l[0], 1.0f);
  p.repeat_penalty = 1.0f;
  p.presence_penalty = 0.2f;
  p.frequency_penalty = 0.1f;
  Sampler f(p, 3);
  std::vector<float> l2 = {2.0f, 1.75f, -1.0f};
  EXPECT_EQ(f.sample(l2.data(), hist.data(), 2), 1);  // 2.0 - 0.2 - 2 * 0.1 = 1.6 < 1.75
  EXPECT_FLOAT_EQ(l2[0], 1.6f);
  // The window: only the last repeat_last_n tokens count.
  p.presence_penalty = 10.0f;
  p.frequency_penalty = 0;
  p.repeat_last_n = 1;
  Sampler w(p, 3);
  std::vector<TokenId> h2 = {0, 1};
  std::vector<float> l3 = {2.0f, 1.75f, -1.0f};
  EXPECT_EQ(w.sample(l3.data(), h2.data(), 2), 0);
}

}  // namespace
}  // namespace cj
