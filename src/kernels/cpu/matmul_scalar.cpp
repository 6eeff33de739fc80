// Scalar reference of the matmul kernels: the definition the SIMD files must reproduce bit for bit
// (order of operations in cpu/kernel_table.h). Clarity over speed.
#include <cmath>
#include <cstdint>

#include "common/fp16.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/quant_formats.h"

namespace helix::cpu::scalar {

extern const int kQ8_0CodeOffset = 0;  // signed weights times signed activations, no offset needed
extern const int64_t kQuantRowAlign = 1;
extern const int64_t kQuantPieceRows = 1;
extern const int64_t kFloatRowAlign = 1;

namespace {

float reduce16(float* s) {
  for (int i = 0; i < 8; ++i) s[i] += s[i + 8];
  for (int i = 0; i < 4; ++i) s[i] += s[i + 4];
  for (int i = 0; i < 2; ++i) s[i] += s[i + 2];
  return s[0] + s[1];
}

float weight_value(DType dtype, const void* row, int64_t k) {
  switch (dtype) {
    case DType::F16: return fp16_to_f32(static_cast<const uint16_t*>(row)[k]);
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(row)[k]);
    default: return static_cast<const float*>(row)[k];
  }
}

// One output of a quantized matrix: row `row` against the activations of one token.
float quant_dot(const QuantMatmulArgs& args, const uint8_t* row, const int8_t* a, const float* act_scale,
                const float* act_min) {
  float acc = 0.0f;
  switch (args.dtype) {
    case DType::Q8_0: {
      const auto* blocks = reinterpret_cast<const BlockQ8_0*>(row);
      for (int64_t b = 0; b < args.cols / 32; ++b) {
        int32_t isum = 0;
        for (int i = 0; i < 32; ++i) isum += blocks[b].qs[i] * a[32 * b + i];
        const float scale = fp16_to_f32(blocks[b].d) * act_scale[b];
        acc = std::fma(static_cast<float>(isum), scale, acc);
      }
      break;
    }
    case DType::Q4_0: {
      const auto* blocks = reinterpret_cast<const BlockQ4_0*>(row);
      for (int64_t b = 0; b < args.cols / 32; ++b) {
        int32_t isum = 0;
        for (int j = 0; j < 16; ++j) {
          isum += ((blocks[b].qs[j] & 0x0f) - 8) * a[32 * b + j];
          isum += ((blocks[b].qs[j] >> 4) - 8) * a[32 * b + 16 + j];
        }
        const float scale = fp16_to_f32(blocks[b].d) * act_scale[b];
        acc = std::fma(static_cast<float>(isum), scale, acc);
      }
      break;
    }
    case DType::Q4_K: {
      const auto* blocks = reinterpret_cast<const BlockQ4_K*>(row);
      for (int64_t sb = 0; sb < args.cols / 256; ++sb) {
        const BlockQ4_K& block = blocks[sb];
        const float d = fp16_to_f32(block.d);
        const float dmin = fp16_to_f32(block.dmin);
        for (int j = 0; j < 8; ++j) {
          int scale, min;
          q4_k_scale_min(block.scales, j, &scale, &min);
          const int8_t* aj = a + 256 * sb + 32 * j;
          const uint8_t* q = block.qs + 32 * (j / 2);
          const int shift = 4 * (j % 2);
          int32_t isum = 0;
          for (int l = 0; l < 32; ++l) isum += ((q[l] >> shift) & 0x0f) * aj[l];
          const int64_t sub = 8 * sb + j;
          const float w_scale = d * static_cast<float>(scale);
          acc = std::fma(static_cast<float>(isum), w_scale * act_scale[sub], acc);
          acc = std::fma(-(dmin * static_cast<float>(min)), act_min[sub], acc);
        }
      }
      break;
    }
    case DType::Q6_K: {
      const auto* blocks = reinterpret_cast<const BlockQ6_K*>(row);
      for (int64_t sb = 0; sb < args.cols / 256; ++sb) {
        const BlockQ6_K& block = blocks[sb];
        const float d = fp16_to_f32(block.d);
        for (int j = 0; j < 16; ++j) {
          int32_t isum = 0;
          for (int l = 0; l < 16; ++l) isum += (q6_k_code(block, 16 * j + l) - 32) * a[256 * sb + 16 * j + l];
          const float w_scale = d * static_cast<float>(block.scales[j]);
          acc = std::fma(static_cast<float>(isum), w_scale * act_scale[16 * sb + j], acc);
        }
      }
      break;
    }
    default: break;
  }
  return acc;
}

}  // namespace

int64_t quant_scratch_bytes(DType, int64_t, int64_t) { return 0; }

// This ISA reads every type in place.
int64_t prepacked_bytes(DType, int64_t, int64_t) { return 0; }
void prepack(DType, const uint8_t*, int64_t, int64_t, int64_t, int64_t, uint8_t*) {}
int64_t act_image_bytes(DType, int64_t, int64_t) { return 0; }
void build_act_image(DType, const int8_t*, int64_t, int64_t, uint8_t*) {}

void quant_matmul(const QuantMatmulArgs& args, int64_t row_begin, int64_t row_end, int64_t, uint8_t*) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = args.weights + r * args.row_bytes;
    for (int64_t t = 0; t < args.n_tokens; ++t) {
      const float* act_min = args.act_min != nullptr ? args.act_min + t * args.n_sub : nullptr;
      args.y[t * args.ldy + r - args.y_row0] =
          quant_dot(args, row, args.act_qs + t * args.cols, args.act_scale + t * args.n_sub, act_min);
    }
  }
}

void float_matmul(const FloatMatmulArgs& args, int64_t row_begin, int64_t row_end) {
  const int64_t elem_bytes = args.dtype == DType::F32 ? 4 : 2;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const void* row = static_cast<const uint8_t*>(args.weights) + r * args.cols * elem_bytes;
    for (int64_t t = 0; t < args.n_tokens; ++t) {
      const float* x = args.x + t * args.cols;
      float s[16] = {};
      for (int64_t k = 0; k < args.cols; ++k) s[k % 16] = std::fma(weight_value(args.dtype, row, k), x[k], s[k % 16]);
      args.y[t * args.ldy + r - args.y_row0] = reduce16(s);
    }
  }
}

}  // namespace helix::cpu::scalar
