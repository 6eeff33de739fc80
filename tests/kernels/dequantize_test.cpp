#include "kernels/dequantize.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "common/fp16.h"
#include "kernels/quant_formats.h"

namespace helix {
namespace {

TEST(Dequantize, F32F16Bf16) {
  const float f32[2] = {1.5f, -3.25f};
  float out[2];
  dequantize_row(DType::F32, f32, out, 2);
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], -3.25f);
  // f16: 0x3c00 = 1.0, 0xc000 = -2.0, 0x3555 = 1.0100...01b * 2^-2 = 1365/4096 = 0.333251953125.
  const uint16_t f16[3] = {0x3c00, 0xc000, 0x3555};
  float out3[3];
  dequantize_row(DType::F16, f16, out3, 3);
  EXPECT_EQ(out3[0], 1.0f);
  EXPECT_EQ(out3[1], -2.0f);
  EXPECT_EQ(out3[2], 0.333251953125f);
  // bf16 is the top half of an f32: 0x3f80 = 1.0, 0xc0a0 = -5.0.
  const uint16_t bf16[2] = {0x3f80, 0xc0a0};
  dequantize_row(DType::BF16, bf16, out, 2);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -5.0f);
}

TEST(Dequantize, Q8_0) {
  BlockQ8_0 block{};
  block.d = 0x3800;  // 0.5
  block.qs[0] = 0;
  block.qs[1] = 1;
  block.qs[2] = -1;
  block.qs[3] = 127;
  block.qs[31] = -128;
  float out[32];
  dequantize_row(DType::Q8_0, &block, out, 32);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 0.5f);     // 0.5 * 1
  EXPECT_EQ(out[2], -0.5f);    // 0.5 * -1
  EXPECT_EQ(out[3], 63.5f);    // 0.5 * 127
  EXPECT_EQ(out[31], -64.0f);  // 0.5 * -128
}

TEST(Dequantize, Q4_0) {
  BlockQ4_0 blocks[2]{};
  blocks[0].d = 0x4000;  // 2.0
  for (uint8_t& q : blocks[0].qs) q = 0x88;  // every value (8 - 8) * 2 = 0
  blocks[0].qs[0] = 0x0f;  // value 0: (15 - 8) * 2 = 14; value 16: (0 - 8) * 2 = -16
  blocks[0].qs[1] = 0x98;  // value 1: (8 - 8) * 2 = 0;   value 17: (9 - 8) * 2 = 2
  blocks[1].d = 0xb800;    // -0.5
  for (uint8_t& q : blocks[1].qs) q = 0x31;  // low: (1 - 8) * -0.5 = 3.5; high: (3 - 8) * -0.5 = 2.5
  float out[64];
  dequantize_row(DType::Q4_0, blocks, out, 64);
  EXPECT_EQ(out[0], 14.0f);
  EXPECT_EQ(out[16], -16.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[17], 2.0f);
  EXPECT_EQ(out[2], 0.0f);
  EXPECT_EQ(out[32], 3.5f);
  EXPECT_EQ(out[63], 2.5f);
}

TEST(Dequantize, Q4_K) {
  BlockQ4_K block{};
  block.d = 0x3c00;     // 1.0
  block.dmin = 0x3800;  // 0.5
  // Sub-block 0: scale 3, min 2 (low 6 bits of scales[0] and scales[4]).
  // Sub-block 1: scale 4 = scales[1] & 63, min 1 = scales[5] & 63.
  // Sub-block 5: scale 37 = 0b10'0101: low 4 bits (5) in the low nibble of scales[9], top 2 (0b10) in
  //   the top bits of scales[1]; min 49 = 0b11'0001: low 4 bits (1) in the high nibble of scales[9],
  //   top 2 (0b11) in the top bits of scales[5].
  block.scales[0] = 3;
  block.scales[4] = 2;
  block.scales[1] = 0x80 | 4;
  block.scales[5] = 0xc0 | 1;
  block.scales[9] = 0x15;
  block.qs[0] = 0xa7;   // value 0 (sub-block 0) = 7, value 32 (sub-block 1) = 10
  block.qs[71] = 0xb0;  // 32 bytes per sub-block pair: qs[64 + 7] holds value 128 + 7 (sub-block 4) and 160 + 7
  int scale, min;
  q4_k_scale_min(block.scales, 5, &scale, &min);
  EXPECT_EQ(scale, 37);
  EXPECT_EQ(min, 49);
  float out[256];
  dequantize_row(DType::Q4_K, &block, out, 256);
  EXPECT_EQ(out[0], 20.0f);     // 1 * 3 * 7 - 0.5 * 2
  EXPECT_EQ(out[1], -1.0f);     // 1 * 3 * 0 - 0.5 * 2
  EXPECT_EQ(out[32], 39.5f);    // 1 * 4 * 10 - 0.5 * 1
  EXPECT_EQ(out[167], 382.5f);  // 1 * 37 * 11 - 0.5 * 49
  EXPECT_EQ(out[166], -24.5f);  // 1 * 37 * 0 - 0.5 * 49
  EXPECT_EQ(out[135], 0.0f);    // sub-block 4: scale 0, min 0
}

TEST(Dequantize, Q6_K) {
  BlockQ6_K block{};
  block.d = 0x3400;  // 0.25
  block.scales[0] = 2;
  block.scales[2] = 4;
  block.scales[4] = 1;
  block.scales[6] = -1;
  block.scales[15] = -3;
  block.ql[0] = 0x5a;   // value 0: low 4 bits 0xa; value 64: low 4 bits 0x5
  block.qh[0] = 0xe6;   // 0b11'10'01'10: top bits of values 0 (0b10), 32 (0b01), 64 (0b10), 96 (0b11)
  block.ql[32] = 0x0f;  // value 32: low 4 bits 0xf; value 96: 0x0
  block.ql[127] = 0x30; // value 255 (half 1, quarter 3, position 31): low 4 bits 0x3, top bits qh[63] = 0
  float out[256];
  dequantize_row(DType::Q6_K, &block, out, 256);
  EXPECT_EQ(out[0], 5.0f);     // code 0xa | 0b10 << 4 = 42; 0.25 * 2 * (42 - 32)
  EXPECT_EQ(out[32], -1.0f);   // code 0xf | 0b01 << 4 = 31; 0.25 * 4 * (31 - 32)
  EXPECT_EQ(out[64], 1.25f);   // code 0x5 | 0b10 << 4 = 37; 0.25 * 1 * (37 - 32)
  EXPECT_EQ(out[96], -4.0f);   // code 0x0 | 0b11 << 4 = 48; 0.25 * -1 * (48 - 32)
  EXPECT_EQ(out[255], 21.75f); // code 3; 0.25 * -3 * (3 - 32)
  EXPECT_EQ(out[1], -16.0f);   // code 0; 0.25 * 2 * -32
  EXPECT_EQ(out[100], 8.0f);   // code 0 (quarter 3, position 4); 0.25 * scales[100 / 16 = 6] = -1 * -32
  EXPECT_EQ(out[130], 0.0f);   // scales[8] = 0
}

}  // namespace
}  // namespace helix
