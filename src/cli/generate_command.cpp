// helix generate: streams a completion to stdout, then a summary on stderr.
#include <cstdio>
#include <ctime>
#include <memory>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "model/tokenizer_for_model.h"

namespace helix::cli {
namespace {

struct GenerateOptions {
  EngineFlags engine;
  std::string prompt;
  int64_t n_tokens = 128;
  SamplingParams sampling{0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0};
  bool seed_given = false;
  bool no_bos = false;
  bool ignore_eos = false;
};

void run_generate(const GenerateOptions& o) {
  auto generator = load_generator(o.engine);
  const ModelFile& file = generator->model().file();
  const Tokenizer tokenizer = unwrap(tokenizer_for_model(file, o.engine.tokenizer_path));

  GenerationRequest req;
  req.prompt = tokenizer.encode(o.prompt, !o.no_bos && tokenizer.add_bos_default());
  if (req.prompt.empty()) req.prompt.push_back(tokenizer.bos_id());
  req.max_new_tokens = o.n_tokens;
  req.sampling = o.sampling;
  if (!o.seed_given) req.sampling.seed = static_cast<uint64_t>(std::time(nullptr));
  if (!o.ignore_eos) req.stop_ids = tokenizer.eog_ids();

  fmt::print("{}", o.prompt);
  std::fflush(stdout);
  TokenStreamDecoder stream(tokenizer, req.prompt.back());
  auto results = unwrap(generator->generate(std::span<const GenerationRequest>(&req, 1), [&](size_t, int32_t token) {
    if (tokenizer.is_eog(token)) return;
    fmt::print("{}", stream.push(token));
    std::fflush(stdout);
  }));
  fmt::print("{}\n", stream.flush());

  const GenerationStats& st = generator->last_stats();
  const auto& kv = generator->kv();
  fmt::print(stderr,
             "\nprompt: {} tokens, {:.1f} tok/s | generation: {} tokens, {:.1f} tok/s | finish: {} | seed {}\n"
             "kv cache: peak {} of {} blocks of {} tokens ({} dtype, {:.2f} MiB pool), {} threads, {}\n",
             st.prompt_tokens, st.prompt_tokens_per_second(), results[0].tokens.size(),
             st.decode_tokens_per_second(), results[0].finish == FinishReason::Stop ? "stop token" : "length",
             req.sampling.seed, st.peak_blocks_used, kv.num_total_blocks(), kv.block_size(),
             dtype_name(generator->storage().dtype()), static_cast<double>(generator->storage().bytes()) / (1 << 20),
             generator->pool().size(), file.path);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate text from a prompt, streamed to stdout");
  o->engine.add_to(*cmd);
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text (default: empty, start from BOS)");
  cmd->add_option("-n,--n-tokens", o->n_tokens, "Tokens to generate")->capture_default_str();
  cmd->add_option("--temp,--temperature", o->sampling.temperature, "Temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--top-k", o->sampling.top_k, "Top-k (0 = off)")->capture_default_str();
  cmd->add_option("--top-p", o->sampling.top_p, "Top-p / nucleus (1 = off)")->capture_default_str();
  cmd->add_option("--min-p", o->sampling.min_p, "Min-p (0 = off)")->capture_default_str();
  cmd->add_option("--repeat-penalty,--repetition-penalty", o->sampling.repetition_penalty, "Repetition penalty (1 = off)")
      ->capture_default_str();
  cmd->add_option("--seed", o->sampling.seed, "Random seed (default: the clock)")
      ->each([o](const std::string&) { o->seed_given = true; });
  cmd->add_flag("--no-bos", o->no_bos, "Do not start the prompt with BOS");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep generating past end-of-sequence tokens");
  cmd->callback([o] {
    if (o->n_tokens < 1) fail(Error{"n_tokens: must be >= 1", "n_tokens"});
    if (auto st = o->sampling.validate(); !st) fail(st.error());
    run_generate(*o);
  });
}

}  // namespace helix::cli
