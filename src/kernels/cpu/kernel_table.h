// The per-ISA kernel entry points behind matmul / ops / quantize_activations.
//
// Every ISA computes the same numbers (tests compare them with ==), because the order of every float
// operation is fixed by the definition below, not by the vector width or the tiling:
//  - float weights (f32/f16/bf16): each output keeps 16 partial sums, partial i accumulating
//    fma(w[k], x[k]) over k = i mod 16 in increasing k; then s[i] += s[i+8], s[i] += s[i+4],
//    s[i] += s[i+2], s[0] += s[1].
//  - quantized weights: per sub-block j (32 values, 16 for q6_k) the exact int32 sum isum of
//    weight code * activation code; acc = fma(float(isum), w_scale[j] * act_scale[j], acc) in
//    increasing j from acc = 0; q4_k then adds acc = fma(-dmin * min[j], act_min[j], acc).
// So results do not depend on the ISA, the thread count or how many tokens share a call.
//
// Files built with -mavx2 / -mavx512 must not define or use inline functions or templates that other
// files also use (the linker keeps one copy, possibly the AVX-512 one, for everybody): they use
// intrinsics and their own internal helpers only, and take plain structs.
#pragma once

#include <cstdint>

#include "common/dtype.h"
#include "kernels/cpu/isa.h"

namespace helix::cpu {

constexpr int64_t kActTileTokens = 16;

// One token's part of one 32-value sub-block: its codes, bias and scale as in QuantMatmulArgs (40 bytes, so a
// kernel reaches every token of a tile from one pointer with constant offsets).
struct ActRecord {
  int8_t qs[32];
  int32_t bias;
  float scale;
};
static_assert(sizeof(ActRecord) == 40);

// y[t][r] for r in a row range of one quantized matrix, activations already quantized.
struct QuantMatmulArgs {
  DType dtype = DType::Q8_0;       // Q8_0, Q4_0, Q4_K or Q6_K
  const uint8_t* weights = nullptr;
  int64_t row_bytes = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t n_tokens = 0;
  const int8_t* act_qs = nullptr;  // [n_tokens][cols]
  // Per token and weight sub-block (stride n_sub): the activation side of the sum.
  int64_t n_sub = 0;               // cols / 32 (cols / 16 for q6_k)
  const int32_t* act_bias = nullptr;   // -code_offset * sum of the sub-block's activation codes
  const float* act_scale = nullptr;    // scale of the activation block holding the sub-block
  const float* act_min = nullptr;      // q4_k: act_scale * sum of the sub-block's codes
  // Optional, ISA-specific re-layout of act_qs (Kernels::build_act_image), image_stride bytes per token.
  const uint8_t* act_image = nullptr;
  // Optional: the whole matrix in this ISA's prepacked layout (Kernels::prepack); used instead of `weights`.
  // Comes with act_records (32-value sub-blocks only).
  const uint8_t* prepacked = nullptr;
  // The activation side regrouped so that the tokens a kernel tile multiplies with one sub-block lie side by
  // side: for each tile of up to kActTileTokens tokens (t0 = 0, 16, 32, ...), for each sub-block j, for each token
  // of the tile, one ActRecord. The record of token t0 + u, sub-block j sits at
  // act_records[t0 * n_sub + j * tile_tokens + u], tile_tokens = min(16, n_tokens - t0).
  const ActRecord* act_records = nullptr;
  int64_t image_stride = 0;
  float* y = nullptr;                  // output of token t, row r at y[t * ldy + r - y_row0]
  int64_t ldy = 0;
  int64_t y_row0 = 0;
};

struct FloatMatmulArgs {
  DType dtype = DType::F32;        // F32, F16 or BF16
  const void* weights = nullptr;   // [rows][cols]
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t n_tokens = 0;
  const float* x = nullptr;        // [n_tokens][cols]
  float* y = nullptr;              // output of token t, row r at y[t * ldy + r - y_row0]
  int64_t ldy = 0;
  int64_t y_row0 = 0;
};

struct Kernels {
  Isa isa;
  // Offset added to each weight code before the integer dot product (the sum is corrected with
  // act_bias = -offset * sum of activation codes). Q8_0 is 128 where codes must be unsigned.
  int q8_0_code_offset;
  int64_t quant_row_align;  // row ranges handed to quant_matmul start at multiples of this
  int64_t quant_piece_rows;  // ... and hold multiples of this rows (but at a matrix's end): the kernel's tile height
  int64_t float_row_align;
  // Scratch bytes quant_matmul needs per thread for this matrix shape.
  int64_t (*quant_scratch_bytes)(DType dtype, int64_t cols, int64_t n_tokens);
  // Bytes per token of the activation image quant_matmul wants for this call (0: none), and its builder.
  int64_t (*act_image_bytes)(DType dtype, int64_t cols, int64_t n_tokens);
  void (*build_act_image)(DType dtype, const int8_t* qs, int64_t cols, int64_t n_tokens, uint8_t* image);
  void (*quantize_activation_row)(const float* x, int64_t cols, int8_t* qs, float* scales,
                                  int32_t* sums16);
  // Rows [row_begin, row_end); the calling thread will most likely go on with rows up to reach_end (>= row_end)
  // of the same matrix, which the kernel may prefetch.
  void (*quant_matmul)(const QuantMatmulArgs& args, int64_t row_begin, int64_t row_end, int64_t reach_end,
                       uint8_t* scratch);
  // Bytes of the prepacked layout of a [rows x cols] matrix (0: this ISA reads that type in place), and
  // the packer, which fills the part of dst that holds rows [row_begin, row_end) (multiples of
  // quant_row_align, or row_end == rows) so that several threads can pack one matrix.
  int64_t (*prepacked_bytes)(DType dtype, int64_t rows, int64_t cols);
  void (*prepack)(DType dtype, const uint8_t* weights, int64_t rows, int64_t cols, int64_t row_begin,
                  int64_t row_end, uint8_t* dst);
  void (*float_matmul)(const FloatMatmulArgs& args, int64_t row_begin, int64_t row_end);
  void (*rmsnorm)(float* out, const float* x, const float* weight, int64_t n, float eps);
  void (*softmax)(float* x, int64_t n);
  void (*swiglu)(float* out, const float* gate, const float* up, int64_t n);
  int64_t (*argmax)(const float* x, int64_t n);
  uint64_t (*stream_read)(const void* data, int64_t bytes);  // reads every byte, returns a checksum
};

const Kernels& kernels_for(Isa isa);  // isa must be supported by this CPU
const Kernels& active_kernels();

// Per-ISA entry points (one set per file group).
#define HELIX_DECLARE_CPU_KERNELS(ns)                                                               \
  namespace ns {                                                                                    \
  extern const int kQ8_0CodeOffset;                                                                 \
  extern const int64_t kQuantRowAlign;                                                              \
  extern const int64_t kQuantPieceRows;                                                             \
  extern const int64_t kFloatRowAlign;                                                              \
  int64_t quant_scratch_bytes(DType dtype, int64_t cols, int64_t n_tokens);                         \
  int64_t act_image_bytes(DType dtype, int64_t cols, int64_t n_tokens);                             \
  void build_act_image(DType dtype, const int8_t* qs, int64_t cols, int64_t n_tokens, uint8_t* image); \
  void quantize_activation_row(const float* x, int64_t cols, int8_t* qs, float* scales,             \
                               int32_t* sums16);                                                    \
  void quant_matmul(const QuantMatmulArgs& args, int64_t row_begin, int64_t row_end, int64_t reach_end, \
                    uint8_t* scratch);                                                              \
  int64_t prepacked_bytes(DType dtype, int64_t rows, int64_t cols);                                  \
  void prepack(DType dtype, const uint8_t* weights, int64_t rows, int64_t cols, int64_t row_begin,  \
               int64_t row_end, uint8_t* dst);                                                      \
  void float_matmul(const FloatMatmulArgs& args, int64_t row_begin, int64_t row_end);               \
  void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps);              \
  void softmax(float* x, int64_t n);                                                                \
  void swiglu(float* out, const float* gate, const float* up, int64_t n);                           \
  int64_t argmax(const float* x, int64_t n);                                                        \
  uint64_t stream_read(const void* data, int64_t bytes);                                            \
  }

HELIX_DECLARE_CPU_KERNELS(scalar)
HELIX_DECLARE_CPU_KERNELS(avx2)
HELIX_DECLARE_CPU_KERNELS(avx512)
#undef HELIX_DECLARE_CPU_KERNELS

}  // namespace helix::cpu
