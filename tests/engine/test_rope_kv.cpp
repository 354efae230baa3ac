// RoPE (normal vs NeoX pairs, YaRN) and the KV cache's half-precision storage.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/kv/kv_cache.h"
#include "engine/model/rope.h"

namespace cj {
namespace {

TEST(Rope, RotatesTheRightPairs) {
  RopeConfig c;
  c.n_dims = 4;
  c.freq_base = 10000;
  Rope normal(c);
  c.neox = true;
  Rope neox(c);
  float cs[2], sn[2];
  normal.cos_sin(3, cs, sn);
  EXPECT_FLOAT_EQ(cs[0], std::cos(3.0f));
  EXPECT_NEAR(sn[1], std::sin(3.0 * std::pow(10000.0, -0.5)), 1e-7);
  float a[4] = {1, 0, 0, 0}, b[4] = {1, 0, 0, 0};
  normal.apply(a, 1, 4, cs, sn);
  neox.apply(b, 1, 4, cs, sn);
  EXPECT_NEAR(a[1], std::sin(3.0), 1e-6);  // pair (0, 1)
  EXPECT_NEAR(b[2], std::sin(3.0), 1e-6);  // pair (0, 2)
  EXPECT_EQ(a[2], 0.0f);
  EXPECT_EQ(b[1], 0.0f);
}

TEST(Rope, YarnMixesInterpolationAndExtrapolation) {
  RopeConfig c;
  c.n_dims = 128;
  c.neox = true;
  c.freq_base = 1000000;
  c.freq_scale = 0.25f;
  c.ext_factor = 1;
  c.n_ctx_orig = 32768;
  Rope r(c);
  std::vector<float> cs(64), sn(64);
  const int pos = 1000;
  r.cos_sin(pos, cs.data(), sn.data());
  const double mscale = 1 + 0.1 * std::log(4.0);
  // High-frequency pairs extrapolate (angle = pos * inv_freq), low-frequency pairs interpolate (angle / 4).
  EXPECT_NEAR(cs[0], std::cos(double(pos)) * mscale, 1e-5);
  const double inv63 = std::pow(1e6, -2.0 * 63 / 128);
  EXPECT_NEAR(cs[63], std::cos(pos * inv63 * 0.25) * mscale, 1e-5);
  EXPECT_NEAR(cs[0] * cs[0] + sn[0] * sn[0], mscale * mscale, 1e-4);
}

TEST(KvCache, HalfConversionRoundsToNearestEven) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.1f, 3.14159f})
    EXPECT_NEAR(f16_to_f32(f32_to_f16(f)), f, std::fabs(f) * 1e-3 + 1e-7) << f;
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(1.0f + 1.0f / 2048), 0x3c00);  // tie → even
  EXPECT_EQ(f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);  // tie → even (up)
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);                 // overflow → inf
  for (uint32_t h = 0; h < 0x7c00; ++h) EXPECT_EQ(f32_to_f16(f16_to_f32(uint16_t(h))), h);
}

TEST(KvCache, StoresPerHeadBlocks) {
  ModelConfig c;
  c.n_layers = 2;
  c.n_kv_heads = 2;
  c.head_dim = 4;
  c.head_dim_v = 4;
  KVCache kv(c, 300, KVType::F32);
  EXPECT_EQ(kv.capacity(), 300);
  float k[8] = {1, 2, 3, 4, 5, 6, 7, 8}, v[8] = {-1, -2, -3, -4, -5, -6, -7, -8};
  ASSERT_TRUE(kv.prepare(0, 258).ok());
  kv.store(1, 257, k, v);
  const float* kb = static_cast<const float*>(kv.k_block(1, 1, 1));
  EXPECT_EQ(kb[1 * 4 + 0], 5.0f);  // token 257 = row 1 of block 1, head 1
  const float* vb = static_cast<const float*>(kv.v_block(1, 1, 0));
  EXPECT_EQ(vb[1 * 4 + 3], -4.0f);
  EXPECT_EQ(kv.bytes_read_per_token(10), size_t(10) * 2 * 2 * 8 * 4);
}

}  // namespace
}  // namespace cj
