// Transformer: a Llama-family model loaded from a file, and its forward pass over a batch of sequences.
//
// One forward step takes several sequences at once, each with its own new tokens, start position and block
// table; all their tokens go through every matrix together (each weight is read once per step for the whole
// batch), and attention reads each sequence's K/V through its block table from the paged pool. The model
// knows nothing of how blocks are allocated: it is handed spans.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "kernels/cpu/paged_attention.h"
#include "model/model_file.h"
#include "model/prepacked_weights.h"
#include "model/weights.h"

namespace helix {

class ThreadPool;

// One sequence's part of a forward step.
struct SequenceStep {
  std::span<const int32_t> tokens;       // new tokens, at positions start_pos, start_pos + 1, ...
  int64_t start_pos = 0;                 // tokens already in the KV cache
  std::span<const int32_t> block_table;  // block ids covering start_pos + tokens.size() positions
  bool all_logits = false;               // logits for every new token (verification), else only the last
};

struct LoadOptions {
  // Re-lay q8_0 / q4_0 matrices for the active ISA's kernels where it has a layout for them (AVX-512): the
  // decode step then streams its weights at close to the memory's read rate. Same memory either way.
  bool prepack = true;
  int threads = 0;  // for prepacking; 0 = one per CPU
};

class Transformer {
 public:
  static Result<std::unique_ptr<Transformer>> load(const std::string& path, const LoadOptions& options = {});
  static Result<std::unique_ptr<Transformer>> from_file(ModelFile file, const LoadOptions& options = {});

  const ModelShape& shape() const { return file_.shape; }
  const ModelFile& file() const { return file_; }
  const Weights& weights() const { return weights_; }
  const PrepackedWeights& prepacked() const { return prepacked_; }

  // Runs one step. kv_layers[l] is layer l's view of the pool the block tables index; the step writes the new
  // tokens' K/V there. logits receives, in batch order, one row of vocab_size floats per token asked for
  // (every token of an all_logits sequence, else its last one). Returns the number of rows.
  int64_t forward(std::span<const SequenceStep> batch, std::span<const PagedKv> kv_layers, ThreadPool& pool,
                  std::vector<float>& logits);

 private:
  Transformer(ModelFile file, Weights weights) : file_(std::move(file)), weights_(std::move(weights)) {}
  void reserve(int64_t n_tokens);

  ModelFile file_;
  Weights weights_;
  PrepackedWeights prepacked_;  // owns what weights_' prepacked matrices point to
  // Scratch, grown to the largest step seen. Rows are tokens.
  std::vector<float> x_, xb_, q_, k_, v_, attn_, gate_, up_, out_;
  std::vector<int64_t> pos_;
  std::vector<float> rope_cos_, rope_sin_;  // per row: its position's RoPE angles, shared by every layer
};

}  // namespace helix
