#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/fp16.h"
#include "common/result.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/quant_formats.h"
#include "kernels/thread_pool.h"

namespace helix {
namespace {

void check_blocks(const char* what, int64_t n, int64_t block) {
  HELIX_CHECK(n % block == 0, "{}: {} values is not a multiple of {}", what, n, block);
}

// The smallest fp16 >= x (x >= 0, finite), as f32: a super-block scale rounded up, so that every
// sub-block scale and min still fits in its 6 (q4_k) or 7 (q6_k) bits.
float fp16_round_up(float x) {
  uint16_t h = f32_to_fp16(x);
  if (fp16_to_f32(h) < x) ++h;
  return fp16_to_f32(h);
}

}  // namespace

void quantize_row_q8_0(const float* src, void* dst, int64_t n) {
  check_blocks("quantize_row_q8_0", n, 32);
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* x = src + 32 * b;
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = f32_to_fp16(d);
    for (int i = 0; i < 32; ++i) blocks[b].qs[i] = static_cast<int8_t>(std::round(x[i] * id));
  }
}

void quantize_row_q4_0(const float* src, void* dst, int64_t n) {
  check_blocks("quantize_row_q4_0", n, 32);
  auto* blocks = static_cast<BlockQ4_0*>(dst);
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* x = src + 32 * b;
    // The value of largest magnitude maps to -8, so its sign uses the asymmetric end of [-8, 7].
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < 32; ++i) {
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        max = x[i];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = f32_to_fp16(d);
    for (int j = 0; j < 16; ++j) {
      // Truncation of (v + 8.5) is round-half-up of v + 8, as ggml's reference does.
      const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const int hi = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
      blocks[b].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void quantize_row_q4_k(const float* src, void* dst, int64_t n) {
  check_blocks("quantize_row_q4_k", n, 256);
  auto* blocks = static_cast<BlockQ4_K*>(dst);
  for (int64_t sb = 0; sb < n / 256; ++sb) {
    const float* x = src + 256 * sb;
    BlockQ4_K& block = blocks[sb];
    // Each sub-block covers [lo, hi] with lo <= 0: value = step * q - offset, q in [0, 15].
    float step[8], offset[8], hi_value[8];
    float max_step = 0.0f, max_offset = 0.0f;
    for (int j = 0; j < 8; ++j) {
      float lo = 0.0f, hi = -INFINITY;
      for (int l = 0; l < 32; ++l) {
        lo = std::min(lo, x[32 * j + l]);
        hi = std::max(hi, x[32 * j + l]);
      }
      hi_value[j] = hi;
      step[j] = (hi - lo) / 15.0f;
      offset[j] = -lo;
      max_step = std::max(max_step, step[j]);
      max_offset = std::max(max_offset, offset[j]);
    }
    const float d = fp16_round_up(max_step / 63.0f);
    const float dmin = fp16_round_up(max_offset / 63.0f);
    block.d = f32_to_fp16(d);
    block.dmin = f32_to_fp16(dmin);
    int scale[8], min[8];
    for (int j = 0; j < 8; ++j) {
      min[j] = dmin > 0.0f ? std::clamp(static_cast<int>(std::lround(offset[j] / dmin)), 0, 63) : 0;
      // Round the step up so that the top of the range stays reachable after the min is rounded.
      const float needed = (hi_value[j] + dmin * static_cast<float>(min[j])) / 15.0f;
      scale[j] = d > 0.0f ? std::clamp(static_cast<int>(std::ceil(needed / d)), 0, 63) : 0;
    }
    std::memset(block.scales, 0, sizeof block.scales);
    for (int j = 0; j < 4; ++j) {
      block.scales[j] = static_cast<uint8_t>(scale[j] | ((scale[j + 4] >> 4) << 6));
      block.scales[j + 4] = static_cast<uint8_t>(min[j] | ((min[j + 4] >> 4) << 6));
      block.scales[j + 8] = static_cast<uint8_t>((scale[j + 4] & 0x0f) | ((min[j + 4] & 0x0f) << 4));
    }
    std::memset(block.qs, 0, sizeof block.qs);
    for (int j = 0; j < 8; ++j) {
      const float w_scale = d * static_cast<float>(scale[j]);
      const float w_min = dmin * static_cast<float>(min[j]);
      for (int l = 0; l < 32; ++l) {
        const int q = w_scale > 0.0f
                          ? std::clamp(static_cast<int>(std::lround((x[32 * j + l] + w_min) / w_scale)), 0, 15)
                          : 0;
        block.qs[32 * (j / 2) + l] |= static_cast<uint8_t>(q << (4 * (j % 2)));
      }
    }
  }
}

void quantize_row_q6_k(const float* src, void* dst, int64_t n) {
  check_blocks("quantize_row_q6_k", n, 256);
  auto* blocks = static_cast<BlockQ6_K*>(dst);
  for (int64_t sb = 0; sb < n / 256; ++sb) {
    const float* x = src + 256 * sb;
    BlockQ6_K& block = blocks[sb];
    // Per 16 values a step that keeps |q| <= 31; the steps themselves are int8 multiples of d.
    float step[16];
    float max_step = 0.0f;
    for (int j = 0; j < 16; ++j) {
      float amax = 0.0f;
      for (int l = 0; l < 16; ++l) amax = std::max(amax, std::fabs(x[16 * j + l]));
      step[j] = amax / 31.0f;
      max_step = std::max(max_step, step[j]);
    }
    const float d = fp16_round_up(max_step / 127.0f);
    block.d = f32_to_fp16(d);
    std::memset(block.ql, 0, sizeof block.ql);
    std::memset(block.qh, 0, sizeof block.qh);
    for (int j = 0; j < 16; ++j) {
      const int scale = d > 0.0f ? std::clamp(static_cast<int>(std::ceil(step[j] / d)), 0, 127) : 0;
      block.scales[j] = static_cast<int8_t>(scale);
      const float w_scale = d * static_cast<float>(scale);
      for (int l = 0; l < 16; ++l) {
        const int i = 16 * j + l;
        const int q = w_scale > 0.0f ? std::clamp(static_cast<int>(std::lround(x[i] / w_scale)), -32, 31) : 0;
        const int code = q + 32;
        const int half = i / 128, quarter = (i % 128) / 32, pos = i % 32;
        block.ql[64 * half + pos + 32 * (quarter & 1)] |= static_cast<uint8_t>((code & 0x0f) << (quarter < 2 ? 0 : 4));
        block.qh[32 * half + pos] |= static_cast<uint8_t>((code >> 4) << (2 * quarter));
      }
    }
  }
}

void quantize_row(DType dtype, const float* src, void* dst, int64_t n) {
  switch (dtype) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = f32_to_fp16(src[i]);
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = f32_to_bf16(src[i]);
      return;
    case DType::Q8_0: return quantize_row_q8_0(src, dst, n);
    case DType::Q4_0: return quantize_row_q4_0(src, dst, n);
    case DType::Q4_K: return quantize_row_q4_k(src, dst, n);
    case DType::Q6_K: return quantize_row_q6_k(src, dst, n);
  }
  HELIX_CHECK(false, "quantize_row: unknown dtype {}", static_cast<int>(dtype));
}

void quantize_activations(Isa isa, const float* x, int64_t n_tokens, int64_t cols, QuantizedActivations* out,
                          ThreadPool* pool) {
  HELIX_CHECK(cols > 0 && cols % 32 == 0 && n_tokens >= 0,
              "quantize_activations: {} tokens x {} columns (columns must be a multiple of 32)", n_tokens, cols);
  const cpu::Kernels& kernels = cpu::kernels_for(isa);
  out->n_tokens = n_tokens;
  out->cols = cols;
  out->qs.resize(static_cast<size_t>(n_tokens * cols));
  out->scales.resize(static_cast<size_t>(n_tokens * cols / 32));
  out->sums16.resize(static_cast<size_t>(n_tokens * cols / 16));
  auto one = [&](int64_t t, int) {
    kernels.quantize_activation_row(x + t * cols, cols, out->qs.data() + t * cols,
                                    out->scales.data() + t * (cols / 32), out->sums16.data() + t * (cols / 16));
  };
  if (pool != nullptr && n_tokens >= 4) {
    pool->parallel_for(n_tokens, one);
  } else {
    for (int64_t t = 0; t < n_tokens; ++t) one(t, 0);
  }
}

void quantize_activations(const float* x, int64_t n_tokens, int64_t cols, QuantizedActivations* out,
                          ThreadPool* pool) {
  quantize_activations(active_isa(), x, n_tokens, cols, out, pool);
}

}  // namespace helix
