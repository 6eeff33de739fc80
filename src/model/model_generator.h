// Writes a spec-compliant GGUF file with random weights of a model shape, plus a synthetic SentencePiece
// vocabulary, so large shapes (TinyLlama-1.1B and up) can be run and measured with nothing downloaded.
// Weights depend only on (seed, tensor name), never on the storage type: an f16 file and a q4_0 file made with
// the same seed hold the same weights at two precisions (a natural target/draft pair).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/dtype.h"
#include "common/result.h"
#include "model/model_shape.h"

namespace helix {

struct GeneratedModelOptions {
  DType weight_type = DType::Q8_0;  // matrices; norms stay f32 (as GGUF converters store them)
  // Q4_K_M-style mix: q4_k matrices except attn_v, ffn_down and the classifier in q6_k (weight_type is ignored).
  bool q4_k_m = false;
  uint64_t seed = 0;
};

// Progress: (bytes written so far, total bytes).
using WriteProgress = std::function<void(int64_t, int64_t)>;

Status write_random_model(const ModelShape& shape, const GeneratedModelOptions& options, const std::string& path,
                          const WriteProgress& progress = {});

}  // namespace helix
