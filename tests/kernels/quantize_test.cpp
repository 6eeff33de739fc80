#include "kernels/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "common/fp16.h"
#include "kernels/dequantize.h"
#include "kernels/quant_formats.h"

namespace helix {
namespace {

std::vector<float> random_values(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

TEST(Quantize, Q8_0MatchesReferenceRounding) {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16);
  BlockQ8_0 block;
  quantize_row_q8_0(x, &block, 32);
  // amax = 16, d = 16 / 127, 1/d = 7.9375: q = roundf((i - 16) * 7.9375).
  EXPECT_EQ(block.d, f32_to_fp16(16.0f / 127.0f));
  EXPECT_EQ(block.qs[0], -127);  // -16 * 7.9375
  EXPECT_EQ(block.qs[16], 0);
  EXPECT_EQ(block.qs[17], 8);    // 7.9375 rounds to 8
  EXPECT_EQ(block.qs[31], 119);  // 15 * 7.9375 = 119.06
}

TEST(Quantize, Q4_0MatchesReferenceRounding) {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16);
  BlockQ4_0 block;
  quantize_row_q4_0(x, &block, 32);
  // Largest magnitude is x[0] = -16, so d = -16 / -8 = 2 and q = min(15, trunc(x / 2 + 8.5)).
  EXPECT_EQ(block.d, 0x4000);
  EXPECT_EQ(block.qs[0], 0x80);   // x[0] = -16 -> 0, x[16] = 0 -> 8
  EXPECT_EQ(block.qs[1], 0x91);   // x[1] = -15 -> trunc(1.0) = 1, x[17] = 1 -> trunc(9.0) = 9
  EXPECT_EQ(block.qs[15], 0xf8);  // x[15] = -1 -> 8, x[31] = 15 -> min(15, 16) = 15
}

// Round trip error of the reference quantizers: at most half a step (plus fp16 rounding of d).
TEST(Quantize, RoundTripErrorQ8_0AndQ4_0) {
  const std::vector<float> x = random_values(32 * 64, 1);
  std::vector<float> back(x.size());
  std::vector<BlockQ8_0> q8(64);
  quantize_row_q8_0(x.data(), q8.data(), static_cast<int64_t>(x.size()));
  dequantize_row(DType::Q8_0, q8.data(), back.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const float d = fp16_to_f32(q8[i / 32].d);
    // q = round(x / d_exact); the stored d differs from d_exact by < 2^-11 relative, times |q| <= 127.
    EXPECT_LE(std::fabs(x[i] - back[i]), 0.5f * d + 127.0f * d * 0x1p-11f) << i;
  }
  std::vector<BlockQ4_0> q4(64);
  quantize_row_q4_0(x.data(), q4.data(), static_cast<int64_t>(x.size()));
  dequantize_row(DType::Q4_0, q4.data(), back.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    // Codes span [-8, 7] * d with the largest magnitude at -8, so values of the other sign beyond
    // 7.5 d clip to 7 d.
    const float d = std::fabs(fp16_to_f32(q4[i / 32].d));
    const float clip = std::fabs(x[i]) > 7.5f * d ? std::fabs(x[i]) - 7.0f * d : 0.5f * d;
    EXPECT_LE(std::fabs(x[i] - back[i]), std::max(0.5f * d, clip) + 8.0f * d * 0x1p-11f) << i;
  }
}

TEST(Quantize, RoundTripErrorQ4_K) {
  std::vector<float> x = random_values(256 * 8, 2);
  for (int i = 0; i < 256; ++i) x[256 + i] = 0.0f;            // an all-zero super-block
  for (int i = 0; i < 256; ++i) x[512 + i] = -1.0f - 0.01f * i;  // all negative
  std::vector<BlockQ4_K> blocks(8);
  std::vector<float> back(x.size());
  quantize_row_q4_k(x.data(), blocks.data(), static_cast<int64_t>(x.size()));
  dequantize_row(DType::Q4_K, blocks.data(), back.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const BlockQ4_K& b = blocks[i / 256];
    int scale, min;
    q4_k_scale_min(b.scales, static_cast<int>(i % 256) / 32, &scale, &min);
    const float step = fp16_to_f32(b.d) * static_cast<float>(scale);
    const float dmin = fp16_to_f32(b.dmin);
    // Half a step from rounding q, half a min step from rounding the min (values below it clip to 0).
    EXPECT_LE(std::fabs(x[i] - back[i]), 0.5f * step + 0.5f * dmin + 1e-5f) << i;
  }
  for (int i = 0; i < 256; ++i) EXPECT_EQ(back[256 + i], 0.0f);
}

TEST(Quantize, RoundTripErrorQ6_K) {
  std::vector<float> x = random_values(256 * 8, 3, 0.02f);
  for (int i = 0; i < 16; ++i) x[i] = 0.0f;  // an all-zero sub-block
  std::vector<BlockQ6_K> blocks(8);
  std::vector<float> back(x.size());
  quantize_row_q6_k(x.data(), blocks.data(), static_cast<int64_t>(x.size()));
  dequantize_row(DType::Q6_K, blocks.data(), back.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const BlockQ6_K& b = blocks[i / 256];
    const float step = fp16_to_f32(b.d) * static_cast<float>(b.scales[(i % 256) / 16]);
    EXPECT_LE(std::fabs(x[i] - back[i]), 0.5f * std::fabs(step) + 1e-7f) << i;
  }
  for (int i = 0; i < 16; ++i) EXPECT_EQ(back[i], 0.0f);
}

TEST(Quantize, ActivationsHandComputed) {
  float x[32] = {};
  x[0] = 127.0f;  // amax 127 -> scale 1, codes = x rounded to nearest even
  x[1] = 0.5f;    // -> 0 (even)
  x[2] = 1.5f;    // -> 2
  x[3] = 2.5f;    // -> 2
  x[4] = -2.5f;   // -> -2
  x[16] = -3.0f;
  x[17] = 100.4f; // -> 100
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) continue;
    QuantizedActivations a;
    quantize_activations(isa, x, 1, 32, &a);
    EXPECT_EQ(a.scales[0], 1.0f);
    EXPECT_EQ(a.qs[0], 127);
    EXPECT_EQ(a.qs[1], 0);
    EXPECT_EQ(a.qs[2], 2);
    EXPECT_EQ(a.qs[3], 2);
    EXPECT_EQ(a.qs[4], -2);
    EXPECT_EQ(a.qs[16], -3);
    EXPECT_EQ(a.qs[17], 100);
    EXPECT_EQ(a.sums16[0], 127 + 0 + 2 + 2 - 2);
    EXPECT_EQ(a.sums16[1], -3 + 100);
  }
}

TEST(Quantize, ActivationsIdenticalOnEveryIsa) {
  const int64_t tokens = 5, cols = 96;
  std::vector<float> x = random_values(tokens * cols, 4, 3.0f);
  for (int i = 0; i < 32; ++i) x[32 + i] = 0.0f;  // a zero block: scale 0, codes 0
  QuantizedActivations ref;
  quantize_activations(Isa::Scalar, x.data(), tokens, cols, &ref);
  EXPECT_EQ(ref.scales[1], 0.0f);
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) continue;
    QuantizedActivations a;
    quantize_activations(isa, x.data(), tokens, cols, &a);
    EXPECT_EQ(a.qs, ref.qs) << isa_name(isa);
    EXPECT_EQ(a.scales, ref.scales) << isa_name(isa);
    EXPECT_EQ(a.sums16, ref.sums16) << isa_name(isa);
  }
  // Each value is within half a step of its code.
  for (int64_t i = 0; i < tokens * cols; ++i) {
    const float d = ref.scales[i / 32];
    EXPECT_LE(std::fabs(x[i] - d * ref.qs[i]), 0.5f * d * 1.0001f) << i;
  }
}

}  // namespace
}  // namespace helix
