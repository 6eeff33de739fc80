// y = W x for every token: the matrix products of a transformer forward pass.
//
// Quantized weights (q8_0, q4_0, q4_k, q6_k) take the integer route: x is quantized once per call to
// int8 blocks and each output is a sum of exact int32 block dot products (AVX-512 VNNI vpdpbusd,
// AVX2 maddubs, or scalar), scaled in f32. Several tokens share each weight load (register tiles of
// 16 rows x up to 16 tokens), so a batch costs little more memory traffic than one token.
// Float weights (f32, f16, bf16) use FMA over f32 activations. Results are identical on every ISA
// and for any batch composition (see cpu/kernel_table.h for the fixed order of operations).
#pragma once

#include <cstdint>
#include <span>

#include "common/dtype.h"
#include "kernels/cpu/isa.h"
#include "kernels/quantize.h"

namespace helix {

class ThreadPool;

// A weight matrix in GGUF layout: `rows` rows (outputs) of `cols` contiguous values (inputs); GGUF
// dims [cols, rows]. For block types cols is a multiple of the block (32, or 256 for k-quants).
struct WeightMatrix {
  DType dtype = DType::F32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  // The same matrix re-laid out for one ISA's kernels (see prepack); matmul on that ISA reads it instead of
  // `data`. `data` stays valid for every other use (lookups, other ISAs).
  const void* prepacked = nullptr;
  Isa prepacked_isa = Isa::Scalar;
};

int64_t row_bytes(const WeightMatrix& w);
const void* row_data(const WeightMatrix& w, int64_t row);  // for lookups (token embeddings)

// Bytes `w` takes in the layout `isa`'s kernels stream fastest (0: that ISA reads w's type in place). The
// AVX-512 kernels prepack q8_0 and q4_0 (same size as in the file): decode then reads one sequential stream.
int64_t prepacked_bytes(const WeightMatrix& w, Isa isa);
// Writes that layout into dst (64-byte aligned, prepacked_bytes(w, isa) bytes) with the pool's threads and
// returns w pointing at it as well.
WeightMatrix prepack(const WeightMatrix& w, Isa isa, void* dst, ThreadPool& pool);

// x: [n_tokens][cols] f32, y: [n_tokens][rows] f32 (must not overlap x).
void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// Same, with activations quantized beforehand (quantize_activations), e.g. once for the q, k and v
// projections of the same input. Quantized weight types only.
void matmul(const WeightMatrix& w, const QuantizedActivations& x, float* y, ThreadPool& pool);

// Several products of one input (q, k and v; gate and up): x is quantized once and the rows of every matrix
// are shared out among the threads in one dispatch. Same results as separate matmul calls.
struct MatmulOutput {
  const WeightMatrix* w;
  float* y;  // [n_tokens][w->rows]
};
void matmul_shared_input(std::span<const MatmulOutput> outputs, const float* x, int64_t n_tokens, ThreadPool& pool);

// Rows [row_begin, row_end) only, written to y[t * ldy + (r - row_begin)] (a slice of the
// classifier, say). ldy >= row_end - row_begin.
void matmul_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
                 int64_t n_tokens, float* y, int64_t ldy, ThreadPool& pool);

// The same on an explicit instruction set (tests and benchmarks compare them); isa must be supported.
void matmul(Isa isa, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

}  // namespace helix
