// helix compare-memory: the contiguous vs paged KV-cache comparison as a table or the API's JSON.
#include <fmt/format.h>

#include <memory>
#include <optional>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "kv/memory_math.h"
#include "model/shape_source.h"
#include "server/memory_json.h"

namespace helix::cli {
namespace {

struct CompareMemoryOptions {
  std::string model = kDefaultPreset;
  int64_t sequence_length = kDefaultSequenceLength;
  std::optional<int64_t> max_seq_len;
  int64_t block_size = kDefaultBlockSize;
  int64_t num_blocks = kDefaultNumBlocks;
  int64_t batch_size = 1;
  std::string kv_dtype = "f16";
  bool json = false;
};

std::string mib(int64_t bytes) { return fmt::format("{:.2f} MiB", static_cast<double>(bytes) / kBytesPerMiB); }

void print_table(const MemoryComparison& c) {
  fmt::print("KV cache: {}, {} cache, {} B per token\n", c.model, c.kv_dtype, c.kv_bytes_per_token);
  fmt::print("{} sequence(s) of {} tokens, max_seq_len {}, block_size {}, pool {} blocks ({}, {} tokens)\n\n",
             c.batch_size, c.sequence_length, c.max_seq_len, c.block_size, c.num_blocks, mib(c.pool_bytes),
             c.pool_tokens);
  fmt::print("  {:<26} {:>14} {:>16}\n", "", "memory", "bytes");
  fmt::print("  {:<26} {:>14} {:>16}\n", "traditional (contiguous)", mib(c.traditional_bytes), c.traditional_bytes);
  fmt::print("  {:<26} {:>14} {:>16}\n", "paged", mib(c.paged_bytes), c.paged_bytes);
  fmt::print("  {:<26} {:>14} {:>16}   ({:.2f} %)\n\n", "saved", mib(c.saved_bytes), c.saved_bytes,
             round2(c.saved_percent()));
  fmt::print("  blocks used {} / {} ({} free), utilization {:.2f} %\n", c.blocks_used, c.num_blocks, c.blocks_free,
             round2(c.utilization_percent()));
  fmt::print("  wasted slots: traditional {} tokens, paged {} tokens\n", c.traditional_wasted_tokens,
             c.paged_wasted_tokens);
  fmt::print("  sequences of {} tokens that fit in this pool: traditional {}, paged {}\n", c.sequence_length,
             c.sequences_fit_traditional, c.sequences_fit_paged);
}

}  // namespace

void add_compare_memory_command(CLI::App& app) {
  auto opts = std::make_shared<CompareMemoryOptions>();
  CLI::App* cmd = app.add_subcommand("compare-memory", "Compare a contiguous KV cache with a paged one (exact bytes)");
  cmd->add_option("-m,--model", opts->model, "Preset name or model file (GGUF / llama2.c)")->capture_default_str();
  cmd->add_option("--sequence-length", opts->sequence_length, "Tokens held by each sequence")->capture_default_str();
  cmd->add_option("--max-seq-len", opts->max_seq_len, "Tokens a contiguous cache reserves per sequence "
                                                       "(default: the model's context length)");
  cmd->add_option("--block-size", opts->block_size, "Tokens per KV block")->capture_default_str();
  cmd->add_option("--num-blocks", opts->num_blocks, "Blocks in the paged pool")->capture_default_str();
  cmd->add_option("--batch-size", opts->batch_size, "Number of sequences")->capture_default_str();
  cmd->add_option("--kv-dtype", opts->kv_dtype, "KV cache element type: f32, f16, bf16, q8_0")->capture_default_str();
  cmd->add_flag("--json", opts->json, "Print the /compare/memory JSON instead of a table");
  cmd->callback([opts] {
    MemoryQuery q;
    q.shape = unwrap(resolve_model_shape(opts->model));
    auto dtype = parse_dtype(opts->kv_dtype);
    if (!dtype || !is_kv_dtype(*dtype))
      fail(Error{fmt::format("kv_dtype: unknown KV dtype '{}' (f32, f16, bf16, q8_0)", opts->kv_dtype), "kv_dtype"});
    q.shape.kv_dtype = *dtype;
    q.sequence_length = opts->sequence_length;
    q.max_seq_len = opts->max_seq_len;
    q.block_size = opts->block_size;
    q.num_blocks = opts->num_blocks;
    q.batch_size = opts->batch_size;
    const MemoryComparison c = unwrap(compare_memory(q));
    if (opts->json)
      fmt::print("{}\n", memory_comparison_json(c).dump(2));
    else
      print_table(c);
  });
}

}  // namespace helix::cli
