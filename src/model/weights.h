// Weights: read-only views of every tensor the forward pass uses, bound by name from a model file and checked
// for shape and type. Matrices stay in the file's mapping in their stored type (no copy); only the small norm
// vectors are widened to f32 when stored otherwise.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "common/result.h"
#include "kernels/matmul.h"
#include "model/model_file.h"
#include "model/model_shape.h"

namespace helix {

struct LayerWeights {
  const float* attn_norm;  // [hidden]
  WeightMatrix wq;         // [n_heads*head_dim] x [hidden]
  WeightMatrix wk;         // [n_kv_heads*head_dim] x [hidden]
  WeightMatrix wv;         // [n_kv_heads*head_dim] x [hidden]
  WeightMatrix wo;         // [hidden] x [n_heads*head_dim]
  const float* ffn_norm;   // [hidden]
  WeightMatrix w_gate;     // [ffn] x [hidden]   (llama2.c w1)
  WeightMatrix w_up;       // [ffn] x [hidden]   (llama2.c w3)
  WeightMatrix w_down;     // [hidden] x [ffn]   (llama2.c w2)

  // The seven matrices in forward order (q, k, v, o, gate, up, down).
  std::array<const WeightMatrix*, 7> matrices() const { return {&wq, &wk, &wv, &wo, &w_gate, &w_up, &w_down}; }
  std::array<WeightMatrix*, 7> matrices() { return {&wq, &wk, &wv, &wo, &w_gate, &w_up, &w_down}; }
};

struct Weights {
  WeightMatrix token_embedding;  // [vocab] x [hidden]: row t is token t's embedding
  std::vector<LayerWeights> layers;
  const float* output_norm;      // [hidden]
  WeightMatrix classifier;       // [vocab] x [hidden] (the embedding itself when tied)
  std::vector<std::vector<float>> widened_norms;  // owns norms stored as f16/bf16 in the file

  // Bytes of weights one decode step reads (every matrix once, plus one embedding row).
  int64_t bytes_read_per_token() const;
  // The memory those bytes are read from, in the layout the kernels read (a matrix's prepacked copy where it has
  // one): every layer matrix in forward order, the classifier, and the embedding's first row standing for the
  // one row a step looks up. `helix bench` reads them with a plain read loop to compare decode against.
  std::vector<std::span<const std::byte>> token_read_spans() const;
  int64_t total_matrix_bytes() const;
};

// Binds and checks every tensor: missing ones, wrong dims and unsupported types are errors naming the tensor
// ("blk.3.attn_k.weight: expected [2048, 256] f16, got [2048, 512] f16").
Result<Weights> bind_weights(const ModelFile& file);

}  // namespace helix
