// Flags shared by the commands that run a model (generate, bench, serve): model file, KV cache, threads.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "engine/batch_generator.h"

namespace helix::cli {

struct EngineFlags {
  std::string model_path;
  std::string tokenizer_path;
  int32_t block_size = 16;
  int64_t num_blocks = 0;
  int64_t kv_budget_mib = 0;
  std::string kv_dtype = "f16";
  int threads = 0;
  int64_t max_seq_len = 0;
  bool prepack = true;

  // Adds -m/--model (required when `model_required`), --tokenizer, --block-size, --num-blocks,
  // --kv-budget-mib, --kv-dtype, -t/--threads, --max-seq-len, --no-prepack.
  void add_to(CLI::App& cmd, bool model_required = true);
  EngineOptions engine_options() const;  // exits with a one-line error on a bad --kv-dtype
  LoadOptions load_options() const { return {prepack, threads}; }
};

// Touches every page of the model's mapping so the weights are in memory before serving or timing starts,
// drawing a progress bar on a terminal for files over 64 MiB.
void prefault(const ModelFile& file);

// Loads the model (with a progress bar on a terminal when it is large) and builds the generator.
std::unique_ptr<BatchGenerator> load_generator(const EngineFlags& flags);

}  // namespace helix::cli
