// The small per-token operations of a Llama forward pass. Each runs on the active ISA; every ISA gives
// bit-identical results (the order of float operations is fixed, see cpu/kernel_table.h).
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.h"

namespace helix {

// out[i] = weight[i] * (x[i] / sqrt(mean(x^2) + eps)). out may alias x.
void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps);

// Rotates the pairs (v[2i], v[2i+1]) of each head by theta = pos * freq_base^(-2i / head_dim)
// (GGUF llama / llama2.c convention). vec holds n_heads * head_dim values.
void rope_adjacent_pairs(float* vec, int64_t n_heads, int64_t head_dim, int64_t pos, float freq_base);

// The same rotation in two steps, for a forward pass that rotates q and k of every layer at one position: the
// angles' cosines and sines (head_dim / 2 of each) are computed once per position, then applied per head.
// Same floats as rope_adjacent_pairs.
void rope_angles(int64_t head_dim, int64_t pos, float freq_base, float* cos_out, float* sin_out);
void rope_apply(float* vec, int64_t n_heads, int64_t head_dim, const float* cos_in, const float* sin_in);

// In place: x[i] = exp(x[i] - max) / sum. Uses fast_exp.
void softmax(float* x, int64_t n);

// out[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i]. out may alias gate or up.
void swiglu(float* out, const float* gate, const float* up, int64_t n);

// out[i] += x[i].
void add_inplace(float* out, const float* x, int64_t n);

// Index of the largest value (the first one on ties; NaN is skipped; 0 when there is none).
int64_t argmax(const float* x, int64_t n);

// The exp softmax and swiglu use (about 1 ulp; +inf above 88.376, 0 below -87.34, NaN kept). The
// SIMD versions compute exactly this value.
float fast_exp(float x);

// The same operations on an explicit ISA (tests compare them).
void rmsnorm(Isa isa, float* out, const float* x, const float* weight, int64_t n, float eps);
void softmax(Isa isa, float* x, int64_t n);
void swiglu(Isa isa, float* out, const float* gate, const float* up, int64_t n);
int64_t argmax(Isa isa, const float* x, int64_t n);

}  // namespace helix
