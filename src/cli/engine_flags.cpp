#include "cli/engine_flags.h"

#include <unistd.h>

#include <fmt/format.h>

#include "cli/cli_util.h"

namespace helix::cli {

void EngineFlags::add_to(CLI::App& cmd, bool model_required) {
  auto* m = cmd.add_option("-m,--model", model_path, "Model file (GGUF or llama2.c .bin)");
  if (model_required) m->required();
  cmd.add_option("--tokenizer", tokenizer_path, "Tokenizer file (llama2.c .bin, tokenizer.json); GGUF files carry their own");
  cmd.add_option("--block-size", block_size, "Tokens per KV block")->capture_default_str();
  cmd.add_option("--num-blocks", num_blocks, "Blocks in the KV pool (default: from --kv-budget-mib, else 16 full-length sequences)");
  cmd.add_option("--kv-budget-mib", kv_budget_mib, "KV pool size in MiB (alternative to --num-blocks)");
  cmd.add_option("--kv-dtype", kv_dtype, "KV cache element type: f32 or f16")->capture_default_str();
  cmd.add_option("-t,--threads", threads, "Threads (default: every core)");
  cmd.add_option("--max-seq-len", max_seq_len, "Longest sequence (default: the model's context length)");
  cmd.add_flag_callback(
      "--no-prepack", [this] { prepack = false; },
      "Read q8_0/q4_0 weights in the file's layout instead of re-laying them out at load for the AVX-512 kernels "
      "(same memory; decode is slower)");
}

EngineOptions EngineFlags::engine_options() const {
  EngineOptions o;
  o.block_size = block_size;
  o.num_blocks = num_blocks;
  o.kv_budget_mib = kv_budget_mib;
  auto dtype = parse_dtype(kv_dtype);
  if (!dtype) fail(Error{fmt::format("kv_dtype: unknown '{}' (f32, f16)", kv_dtype), "kv_dtype"});
  o.kv_dtype = *dtype;
  o.threads = threads;
  o.max_seq_len = max_seq_len;
  if (auto st = o.validate(); !st) fail(st.error());
  return o;
}

void prefault(const ModelFile& file) {
  if (!file.keepalive) return;
  const uint8_t* data = file.keepalive->data();
  const size_t size = file.keepalive->size();
  const bool bar = size > (64u << 20) && ::isatty(STDERR_FILENO);
  const size_t chunk = 16u << 20;
  volatile uint8_t sink = 0;
  for (size_t at = 0; at < size; at += chunk) {
    const size_t end = std::min(size, at + chunk);
    for (size_t p = at; p < end; p += 4096) sink = sink + data[p];
    if (bar) {
      const int filled = static_cast<int>(40.0 * end / size);
      fmt::print(stderr, "\rloading {} [{:<40}] {:3.0f} %", file.path, std::string(filled, '#'), 100.0 * end / size);
    }
  }
  if (bar) fmt::print(stderr, "\n");
}

std::unique_ptr<BatchGenerator> load_generator(const EngineFlags& flags) {
  const EngineOptions options = flags.engine_options();
  ModelFile file = unwrap(open_model_file(flags.model_path));
  prefault(file);
  auto model = unwrap(Transformer::from_file(std::move(file), flags.load_options()));
  return unwrap(BatchGenerator::create(std::move(model), options));
}

}  // namespace helix::cli
