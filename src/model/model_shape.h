// ModelShape: the numbers that fix a Llama-family model's size and its KV cache's size.
// Comes from a built-in preset, a GGUF file's metadata or a llama2.c checkpoint header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "common/result.h"

namespace helix {

struct ModelShape {
  std::string name;             // preset name or file stem
  int64_t n_layers = 0;
  int64_t n_heads = 0;          // query heads
  int64_t n_kv_heads = 0;       // key/value heads (< n_heads: grouped-query attention)
  int64_t head_dim = 0;
  int64_t hidden_dim = 0;       // embedding width (n_heads * head_dim for Llama)
  int64_t ffn_dim = 0;          // SwiGLU hidden width
  int64_t vocab_size = 0;
  int64_t context_length = 0;   // longest sequence the model was built for
  DType kv_dtype = DType::F16;  // element type of the KV cache
  float rope_freq_base = 10000.0f;
  float rms_norm_eps = 1e-5f;
  bool tied_embeddings = false;  // classifier shares the token embedding

  // K and V for every layer and KV head: n_layers * 2 * n_kv_heads * head_dim * dtype bytes.
  int64_t kv_bytes_per_token() const;
  // Total weight count (embedding, attention, FFN, norms, classifier if untied).
  int64_t parameter_count() const;
  bool uses_gqa() const { return n_kv_heads < n_heads; }

  // Checks that every field is positive and consistent (heads divide, head_dim fits).
  Status validate() const;
};

struct ModelPreset {
  std::string name;
  std::string description;
  ModelShape shape;
};

// Built-in shapes: tinyllama-1.1b (the default), llama-2-7b, llama-3-8b, mistral-7b, smollm2-135m, stories260k.
const std::vector<ModelPreset>& model_presets();
inline constexpr const char* kDefaultPreset = "tinyllama-1.1b";
Result<ModelShape> find_preset(const std::string& name);

}  // namespace helix
