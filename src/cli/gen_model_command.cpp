// helix gen-model: a GGUF file with random weights of a preset's exact shape and a synthetic tokenizer.
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "model/model_generator.h"

namespace helix::cli {
namespace {

struct GenModelOptions {
  std::string preset = kDefaultPreset;
  std::string type = "q8_0";
  uint64_t seed = 0;
  std::string output;
};

void run_gen_model(const GenModelOptions& o) {
  const ModelShape shape = unwrap(find_preset(o.preset));
  GeneratedModelOptions options;
  options.q4_k_m = o.type == "q4_k_m";
  auto type = options.q4_k_m ? std::optional<DType>(DType::Q4_K) : parse_dtype(o.type);
  if (!type)
    fail(Error{fmt::format("type: unknown weight type '{}' (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k, q4_k_m)", o.type),
               "type"});
  options.weight_type = *type;
  options.seed = o.seed;
  const bool bar = ::isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  auto st = write_random_model(shape, options, o.output, [bar](int64_t done, int64_t total) {
    if (bar) fmt::print(stderr, "\rwriting [{:<40}] {:3.0f} %", std::string(static_cast<int>(40.0 * done / total), '#'),
                        100.0 * done / total);
  });
  if (bar) fmt::print(stderr, "\n");
  if (!st) fail(st.error());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("wrote {}: {} shape, {} weights, seed {}, {} parameters ({:.1f} s)\n", o.output, shape.name, o.type,
             o.seed, shape.parameter_count(), seconds);
}

}  // namespace

void add_gen_model_command(CLI::App& app) {
  auto o = std::make_shared<GenModelOptions>();
  CLI::App* cmd = app.add_subcommand("gen-model", "Write a GGUF model with random weights of a preset's exact shape");
  cmd->add_option("--preset", o->preset, "Model shape preset")->capture_default_str();
  cmd->add_option("--type", o->type, "Weight type: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k, q4_k_m (q4_k with q6_k for attn_v, ffn_down, output)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed (same seed = same weights at any --type)")->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Output .gguf file")->required();
  cmd->callback([o] { run_gen_model(*o); });
}

}  // namespace helix::cli
