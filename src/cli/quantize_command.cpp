// helix quantize: rewrites a model (GGUF or llama2.c) as a GGUF with its matrices in another type, tokenizer
// included; --noise perturbs the weights (a deliberately worse draft for speculative decoding tests).
#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "model/model_quantizer.h"
#include "model/tokenizer_for_model.h"

namespace helix::cli {
namespace {

struct QuantizeCommandOptions {
  std::string model_path;
  std::string tokenizer_path;
  std::string type = "q8_0";
  float noise = 0.0f;
  uint64_t seed = 0;
  std::string output;
};

void run_quantize(const QuantizeCommandOptions& o) {
  auto type = parse_dtype(o.type);
  if (!type) fail(Error{fmt::format("type: unknown weight type '{}' (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)", o.type), "type"});
  QuantizeOptions options;
  options.weight_type = *type;
  options.noise = o.noise;
  options.seed = o.seed;
  const ModelFile file = unwrap(open_model_file(o.model_path));
  std::optional<Tokenizer> tokenizer;
  if (!file.gguf) tokenizer.emplace(unwrap(tokenizer_for_model(file, o.tokenizer_path)));
  const auto t0 = std::chrono::steady_clock::now();
  if (auto st = write_quantized_model(file, tokenizer ? &*tokenizer : nullptr, options, o.output); !st) fail(st.error());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("wrote {}: {} as {}{} ({:.1f} s)\n", o.output, file.path, o.type,
             o.noise > 0 ? fmt::format(", noise {} x RMS, seed {}", o.noise, o.seed) : std::string(), seconds);
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto o = std::make_shared<QuantizeCommandOptions>();
  CLI::App* cmd = app.add_subcommand("quantize", "Rewrite a model as a GGUF with its weights in another type");
  cmd->add_option("-m,--model", o->model_path, "Model file (GGUF or llama2.c .bin)")->required();
  cmd->add_option("--tokenizer", o->tokenizer_path, "Tokenizer of a llama2.c checkpoint (default: found beside it)");
  cmd->add_option("--type", o->type, "Weight type: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k")->capture_default_str();
  cmd->add_option("--noise", o->noise, "Add noise of this many times each matrix's RMS (a weaker copy)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the noise")->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Output GGUF file")->required();
  cmd->callback([o] { run_quantize(*o); });
}

}  // namespace helix::cli
