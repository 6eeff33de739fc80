// Quantizers: the ggml reference rounding for q8_0 / q4_0 (so files we write match llama.cpp's),
// simple correct quantizers for q4_k / q6_k (test models), and the activation quantization the
// integer matmul paths use.
#pragma once

#include <cstdint>
#include <vector>

#include "common/dtype.h"
#include "kernels/cpu/isa.h"

namespace helix {

class ThreadPool;

// n must be a multiple of the block size (32 for q8_0/q4_0, 256 for q4_k/q6_k); dst holds the blocks.
void quantize_row_q8_0(const float* src, void* dst, int64_t n);  // d = amax / 127, q = roundf(x / d)
void quantize_row_q4_0(const float* src, void* dst, int64_t n);  // d = (value of largest |x|) / -8
void quantize_row_q4_k(const float* src, void* dst, int64_t n);
void quantize_row_q6_k(const float* src, void* dst, int64_t n);
// Any type (F32/F16/BF16 convert; the others call the quantizers above).
void quantize_row(DType dtype, const float* src, void* dst, int64_t n);

// Activations quantized for the integer dot products: per token, blocks of 32 values with an f32
// scale (value ~ scales[b] * qs[32 b + i], |qs| <= 127, rounding to nearest even) and the sum of
// each 16-value half of qs (the q4_0/q6_k offsets and q4_k mins need it). Every ISA produces the
// same bytes.
struct QuantizedActivations {
  int64_t n_tokens = 0;
  int64_t cols = 0;                // multiple of 32
  std::vector<int8_t> qs;          // [n_tokens][cols]
  std::vector<float> scales;       // [n_tokens][cols / 32]
  std::vector<int32_t> sums16;     // [n_tokens][cols / 16]
};

// Quantizes x ([n_tokens][cols], cols a multiple of 32) into out (its buffers are reused). The pool,
// when given, splits large batches across threads.
void quantize_activations(const float* x, int64_t n_tokens, int64_t cols, QuantizedActivations* out,
                          ThreadPool* pool = nullptr);
void quantize_activations(Isa isa, const float* x, int64_t n_tokens, int64_t cols, QuantizedActivations* out,
                          ThreadPool* pool = nullptr);

}  // namespace helix
