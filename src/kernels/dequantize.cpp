#include "kernels/dequantize.h"

#include "common/fp16.h"
#include "common/result.h"
#include "kernels/quant_formats.h"

namespace helix {
namespace {

void dequantize_q8_0(const BlockQ8_0* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    for (int i = 0; i < 32; ++i) dst[32 * b + i] = d * static_cast<float>(blocks[b].qs[i]);
  }
}

void dequantize_q4_0(const BlockQ4_0* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    for (int j = 0; j < 16; ++j) {
      dst[32 * b + j] = d * static_cast<float>((blocks[b].qs[j] & 0x0f) - 8);
      dst[32 * b + j + 16] = d * static_cast<float>((blocks[b].qs[j] >> 4) - 8);
    }
  }
}

void dequantize_q4_k(const BlockQ4_K* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ4_K& block = blocks[b];
    const float d = fp16_to_f32(block.d);
    const float dmin = fp16_to_f32(block.dmin);
    float* out = dst + 256 * b;
    for (int c = 0; c < 4; ++c) {  // 64 values per 32 bytes of qs: two sub-blocks
      int scale_lo, min_lo, scale_hi, min_hi;
      q4_k_scale_min(block.scales, 2 * c, &scale_lo, &min_lo);
      q4_k_scale_min(block.scales, 2 * c + 1, &scale_hi, &min_hi);
      const float d_lo = d * static_cast<float>(scale_lo), m_lo = dmin * static_cast<float>(min_lo);
      const float d_hi = d * static_cast<float>(scale_hi), m_hi = dmin * static_cast<float>(min_hi);
      for (int l = 0; l < 32; ++l) {
        const uint8_t q = block.qs[32 * c + l];
        out[64 * c + l] = d_lo * static_cast<float>(q & 0x0f) - m_lo;
        out[64 * c + 32 + l] = d_hi * static_cast<float>(q >> 4) - m_hi;
      }
    }
  }
}

void dequantize_q6_k(const BlockQ6_K* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ6_K& block = blocks[b];
    const float d = fp16_to_f32(block.d);
    for (int i = 0; i < 256; ++i) {
      const float scale = d * static_cast<float>(block.scales[i / 16]);
      dst[256 * b + i] = scale * static_cast<float>(q6_k_code(block, i) - 32);
    }
  }
}

}  // namespace

void dequantize_row(DType dtype, const void* src, float* dst, int64_t n) {
  const DTypeInfo& info = dtype_info(dtype);
  HELIX_CHECK(n % info.block_values == 0, "dequantize_row: {} values is not a multiple of the {} block ({})",
              n, info.name, info.block_values);
  const int64_t n_blocks = n / info.block_values;
  switch (dtype) {
    case DType::F32: {
      const float* in = static_cast<const float*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = in[i];
      return;
    }
    case DType::F16: {
      const uint16_t* in = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(in[i]);
      return;
    }
    case DType::BF16: {
      const uint16_t* in = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(in[i]);
      return;
    }
    case DType::Q8_0: return dequantize_q8_0(static_cast<const BlockQ8_0*>(src), dst, n_blocks);
    case DType::Q4_0: return dequantize_q4_0(static_cast<const BlockQ4_0*>(src), dst, n_blocks);
    case DType::Q4_K: return dequantize_q4_k(static_cast<const BlockQ4_K*>(src), dst, n_blocks);
    case DType::Q6_K: return dequantize_q6_k(static_cast<const BlockQ6_K*>(src), dst, n_blocks);
  }
  HELIX_CHECK(false, "dequantize_row: unknown dtype {}", static_cast<int>(dtype));
}

}  // namespace helix
