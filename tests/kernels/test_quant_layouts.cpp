// Pins the ggml block layouts with blocks built by hand and values computed on paper, and checks the type table
// and the half/bfloat16 conversions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "engine/cpu/quant.h"
#include "engine/format/quant_blocks.h"

namespace cj {
namespace {

using namespace cj::q;

TEST(QuantTraits, SizesAndNames) {
  EXPECT_EQ(row_bytes(DType::F32, 64), 256u);
  EXPECT_EQ(row_bytes(DType::F16, 64), 128u);
  EXPECT_EQ(row_bytes(DType::BF16, 64), 128u);
  EXPECT_EQ(row_bytes(DType::Q8_0, 64), 68u);
  EXPECT_EQ(row_bytes(DType::Q4_0, 64), 36u);
  EXPECT_EQ(row_bytes(DType::Q4_K, 512), 288u);
  EXPECT_EQ(row_bytes(DType::Q6_K, 512), 420u);
  DType t;
  ASSERT_TRUE(dtype_from_name("q4_k", &t));
  EXPECT_EQ(t, DType::Q4_K);
  ASSERT_TRUE(dtype_from_name("Q8_0", &t));
  EXPECT_EQ(t, DType::Q8_0);
  EXPECT_FALSE(dtype_from_name("q5_1", &t));
  EXPECT_TRUE(dtype_known(14));
  EXPECT_TRUE(dtype_known(30));
  EXPECT_FALSE(dtype_known(3));
  EXPECT_STREQ(dtype_traits(DType::BF16).name, "bf16");
}

TEST(QuantHalf, KnownValuesAndRoundTrip) {
  EXPECT_EQ(f16_to_f32(0x3C00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xC000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7C00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7E00)));
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(0.5f), 0x3800);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);       // ties to even -> overflows to inf
  EXPECT_EQ(f32_to_f16(1.0f + 1.0f / 2048), 0x3C00);  // tie between 1 and 1+2^-10 -> even (1)
  EXPECT_EQ(f32_to_f16(1.0f + 3.0f / 2048), 0x3C02);  // tie -> even (1+2^-9)
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // half of the smallest subnormal: ties to even (0)
  EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto hv = static_cast<uint16_t>(h);
    const float f = f16_to_f32(hv);
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), hv) << h;
  }
  EXPECT_EQ(bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(1.0f + 1.0f / 256), 0x3F80);   // tie -> even
  EXPECT_EQ(f32_to_bf16(1.0f + 3.0f / 256), 0x3F82);   // tie -> even
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
}

TEST(QuantLayout, Q8_0) {
  BlockQ8_0 b[2];
  b[0].d = 0x3800;  // 0.5
  b[1].d = 0xC000;  // -2
  for (int i = 0; i < 32; ++i) {
    b[0].qs[i] = static_cast<int8_t>(i - 16);
    b[1].qs[i] = static_cast<int8_t>(3 * i - 50);
  }
  float out[64];
  dequantize_row(DType::Q8_0, b, out, 64);
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(out[i], 0.5f * (i - 16));
    EXPECT_EQ(out[32 + i], -2.0f * (3 * i - 50));
  }
}

TEST(QuantLayout, Q4_0) {
  BlockQ4_0 b;
  b.d = 0x4000;  // 2
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  dequantize_row(DType::Q4_0, &b, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 2.0f * (j - 8)) << j;           // low nibbles: elements 0..15
    EXPECT_EQ(out[16 + j], 2.0f * (7 - j)) << j;      // high nibbles: elements 16..31
  }
}

TEST(QuantLayout, Q4_K) {
  // Sub-block scales/mins chosen so that sub-blocks 4..7 need their top bits from bytes 0..7.
  const int sc[8] = {10, 20, 30, 40, 50, 33, 17, 63};
  const int m[8] = {1, 2, 3, 4, 5, 60, 16, 0};
  // Packed on paper: bytes 0-3 = sc[j] | (sc[j+4] >> 4) << 6; bytes 4-7 = m[j] | (m[j+4] >> 4) << 6;
  // bytes 8-11 = (sc[j+4] & 15) | (m[j+4] & 15) << 4.
  const uint8_t packed[12] = {202, 148, 94, 232, 1, 194, 67, 4, 82, 193, 1, 15};
  BlockQ4_K b;
  b.d = 0x3C00;     // 1
  b.dmin = 0x3800;  // 0.5
  std::memcpy(b.scales, packed, 12);
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) b.qs[32 * g + l] = static_cast<uint8_t>((l % 16) | ((15 - l % 16) << 4));
  }
  float out[256];
  dequantize_row(DType::Q4_K, &b, out, 256);
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) {
      EXPECT_EQ(out[64 * g + l], 1.0f * sc[2 * g] * (l % 16) - 0.5f * m[2 * g]) << g << " " << l;
      EXPECT_EQ(out[64 * g + 32 + l], 1.0f * sc[2 * g + 1] * (15 - l % 16) - 0.5f * m[2 * g + 1]) << g << " " << l;
    }
  }
  // The packer produces the same bytes.
  uint8_t s8[8], m8[8], repacked[12];
  for (int j = 0; j < 8; ++j) {
    s8[j] = static_cast<uint8_t>(sc[j]);
    m8[j] = static_cast<uint8_t>(m[j]);
  }
  pack_q4k_scales(s8, m8, repacked);
  EXPECT_EQ(std::memcmp(repacked, packed, 12), 0);
}

TEST(QuantLayout, Q6_K) {
  BlockQ6_K b;
  std::memset(&b, 0, sizeof b);
  b.d = 0x3400;  // 0.25
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s + 1);
  b.scales[13] = -5;
  b.ql[0] = 0x21;           // element 0: low nibble 1; element 64: high nibble 2
  b.qh[0] = 0b11100100;     // bits 0-1 -> element 0 (0), 2-3 -> element 32 (1), 4-5 -> 64 (2), 6-7 -> 96 (3)
  b.ql[64 + 5] = 0x0F;      // second half, element 128+5: low nibble 15
  b.ql[64 + 32 + 20] = 0x70;  // second half, element 128+96+20 = 244: high nibble 7
  b.qh[32 + 20] = 0b01000000; // ... and its top bits 1 -> q = 7 | 16 = 23
  float out[256];
  dequantize_row(DType::Q6_K, &b, out, 256);
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int s = (e / 128) * 8 + (e % 128) / 16;  // the sub-block scale index
    want[static_cast<size_t>(e)] = 0.25f * static_cast<float>(b.scales[s]) * -32.0f;  // q = 0 everywhere else
  }
  want[0] = 0.25f * 1 * (1 - 32);
  want[32] = 0.25f * 3 * (16 - 32);
  want[64] = 0.25f * 5 * (2 + 32 - 32);
  want[96] = 0.25f * 7 * (48 - 32);
  want[133] = 0.25f * 9 * (15 - 32);
  want[244] = 0.25f * 16 * (23 - 32);  // scale index 8 + (244 - 128) / 16 = 15 -> 16
  for (int e = 0; e < 256; ++e) EXPECT_EQ(out[e], want[static_cast<size_t>(e)]) << e;
  // scales[13] = -5 applies to elements 128 + 80 .. 128 + 95.
  EXPECT_EQ(out[128 + 85], 0.25f * -5 * -32);
}

}  // namespace
}  // namespace cj
