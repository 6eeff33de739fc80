// Quantized block layouts, bit-compatible with GGUF / ggml so weights are used in place from the file.
// Every scale is stored as IEEE half bits (see common/fp16.h).
//
//   q8_0: value[i] = d * qs[i]                                  32 values in 34 bytes
//   q4_0: value[i] = d * (nibble[i] - 8); byte j holds value j in its low nibble and value j + 16 in
//         its high nibble                                       32 values in 18 bytes
//   q4_k: 8 sub-blocks of 32; value = d * sc[j] * q - dmin * m[j] with 6-bit sc/m packed in scales[12]
//         (see q4_k_scale_min); qs[32c + l] holds value 64c + l (low nibble) and 64c + 32 + l (high)
//                                                               256 values in 144 bytes
//   q6_k: 16 sub-blocks of 16; value = d * scales[i / 16] * (q - 32) with the 6-bit q split into 4 low
//         bits in ql and 2 high bits in qh (see dequantize.cpp) 256 values in 210 bytes
#pragma once

#include <cstdint>

namespace helix {

constexpr int kQ8_0Values = 32;
constexpr int kQ4_0Values = 32;
constexpr int kKQuantValues = 256;  // values per K-quant super-block

struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];
};

struct BlockQ4_K {
  uint16_t d;     // scale of the sub-block scales
  uint16_t dmin;  // scale of the sub-block mins
  uint8_t scales[12];
  uint8_t qs[128];
};

struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ6_K) == 210);

// The 6-bit scale and min of sub-block j (0..7) of a q4_k block. Sub-blocks 0-3 keep theirs in the
// low 6 bits of scales[j] / scales[j + 4]; sub-blocks 4-7 keep their low 4 bits in scales[j + 4]
// (scale in the low nibble, min in the high one) and their top 2 bits in the top bits of
// scales[j - 4] (scale) / scales[j] (min).
inline void q4_k_scale_min(const uint8_t* scales, int j, int* scale, int* min) {
  if (j < 4) {
    *scale = scales[j] & 63;
    *min = scales[j + 4] & 63;
  } else {
    *scale = (scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4);
    *min = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}

// The 6-bit code (0..63) of value i (0..255) of a q6_k block; the value is d * scales[i / 16] * (code - 32).
// Within each half of 128 values, value l + 32 * quarter (l < 32) takes its low 4 bits from
// ql[64 * half + l + 32 * (quarter & 1)] (low nibble for quarters 0-1, high for 2-3) and its top
// 2 bits from bits 2 * quarter of qh[32 * half + l].
inline int q6_k_code(const BlockQ6_K& block, int i) {
  const int half = i / 128;
  const int quarter = (i % 128) / 32;
  const int l = i % 32;
  const uint8_t low_byte = block.ql[64 * half + l + 32 * (quarter & 1)];
  const int low = quarter < 2 ? (low_byte & 0x0f) : (low_byte >> 4);
  const int high = (block.qh[32 * half + l] >> (2 * quarter)) & 3;
  return low | (high << 4);
}

}  // namespace helix
