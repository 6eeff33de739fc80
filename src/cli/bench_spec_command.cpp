// helix bench-spec: the same requests with and without speculative decoding. Prints tokens/s for both, the
// speedup, the acceptance rate, accepted drafts per verification, target forwards saved and whether the
// greedy outputs are identical (they must be; a difference is an error, exit 1).
#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "engine/speculative/draft_model_proposer.h"
#include "engine/speculative/ngram_proposer.h"
#include "engine/speculative/speculative_generator.h"
#include "engine/speculative/vocab_check.h"
#include "model/tokenizer_for_model.h"

namespace helix::cli {
namespace {

struct BenchSpecOptions {
  EngineFlags engine;
  std::string spec;  // "draft" or "ngram"
  std::string draft_path;
  std::string draft_tokenizer_path;
  std::string prompt_file;
  std::string prompt;
  int64_t n_tokens = 64;
  int32_t spec_tokens = 4;
  int64_t batch = 1;
  int repetitions = 1;
  SamplingParams sampling{0.0f, 0, 1.0f, 0.0f, 1.0f, 64, 0};
  bool json = false;
  bool show_text = false;
};

using Clock = std::chrono::steady_clock;

// Reads every page of a model's mapping so loading from disk is not timed.
void touch_pages(const ModelFile& file) {
  if (!file.keepalive) return;
  volatile uint8_t sink = 0;
  for (size_t p = 0; p < file.keepalive->size(); p += 4096) sink = sink + file.keepalive->data()[p];
}

struct RunFigures {
  double seconds = 0;         // wall time of generate()
  double prompt_seconds = 0;  // of which prompt steps
  int64_t tokens = 0;         // generated
  int64_t decode_tokens = 0;  // generated minus the first of each request (it comes out of the prompt step)
  int64_t target_forwards = 0;
  double tokens_per_second() const { return seconds > 0 ? tokens / seconds : 0; }
  double decode_tokens_per_second() const {
    return seconds > prompt_seconds ? decode_tokens / (seconds - prompt_seconds) : 0;
  }
};

std::string timeline_text(const std::vector<TokenSource>& t) {
  std::string s;
  for (TokenSource src : t) s += src == TokenSource::Draft ? 'D' : 'T';
  return s;
}

void run_bench_spec(BenchSpecOptions o) {
  const ModelFile target_file = unwrap(open_model_file(o.engine.model_path));
  std::optional<Tokenizer> tokenizer;
  if (auto t = tokenizer_for_model(target_file, o.engine.tokenizer_path)) tokenizer.emplace(std::move(*t));
  else if (!o.engine.tokenizer_path.empty() || !o.prompt.empty() || !o.prompt_file.empty()) fail(t.error());

  std::string prompt_text = o.prompt;
  if (!o.prompt_file.empty()) {
    std::ifstream in(o.prompt_file, std::ios::binary);
    if (!in) fail(Error{fmt::format("prompt_file: cannot read {}", o.prompt_file), "prompt_file"});
    std::stringstream ss;
    ss << in.rdbuf();
    prompt_text = ss.str();
  }
  std::vector<int32_t> prompt;
  if (tokenizer) prompt = tokenizer->encode(prompt_text, tokenizer->add_bos_default());
  if (prompt.empty()) prompt.push_back(tokenizer && tokenizer->bos_id() >= 0 ? tokenizer->bos_id() : 1);

  // Requests: `batch` copies of the prompt, exactly n tokens each (no stop tokens), seeds apart when sampling.
  std::vector<GenerationRequest> requests(o.batch);
  for (int64_t b = 0; b < o.batch; ++b) {
    requests[b].prompt = prompt;
    requests[b].max_new_tokens = o.n_tokens;
    requests[b].sampling = o.sampling;
    requests[b].sampling.seed = o.sampling.seed + static_cast<uint64_t>(b);
  }
  if (o.engine.num_blocks == 0 && o.engine.kv_budget_mib == 0) {
    const int64_t tokens = static_cast<int64_t>(prompt.size()) + o.n_tokens;
    o.engine.num_blocks = o.batch * ((tokens + o.engine.block_size - 1) / o.engine.block_size) + 1;
  }
  const EngineOptions engine = o.engine.engine_options();

  // The proposer.
  std::unique_ptr<Proposer> proposer;
  std::string proposer_text;
  if (o.spec == "ngram") {
    proposer = std::make_unique<NgramProposer>();
    proposer_text = "prompt lookup (n-gram, n = 3 down to 1)";
  } else {
    ModelFile draft_file = unwrap(open_model_file(o.draft_path));
    if (auto st = check_draft_vocabulary(target_file, draft_file, o.engine.tokenizer_path, o.draft_tokenizer_path); !st)
      fail(st.error());
    touch_pages(draft_file);
    proposer_text = fmt::format("draft model {} ({} layers, hidden {})", draft_file.path, draft_file.shape.n_layers,
                                draft_file.shape.hidden_dim);
    proposer = std::make_unique<DraftModelProposer>(unwrap(Transformer::from_file(std::move(draft_file))));
  }
  touch_pages(target_file);
  auto plain = unwrap(BatchGenerator::create(unwrap(Transformer::from_file(target_file)), engine));
  SpeculativeOptions spec_options;
  spec_options.num_spec_tokens = o.spec_tokens;
  auto spec = unwrap(SpeculativeGenerator::create(unwrap(Transformer::from_file(target_file)), std::move(proposer),
                                                  engine, spec_options));

  RunFigures plain_fig, spec_fig;
  std::vector<GenerationResult> plain_out, spec_out;
  SpeculativeStats stats;
  for (int r = 0; r < o.repetitions; ++r) {
    auto t0 = Clock::now();
    plain_out = unwrap(plain->generate(requests));
    plain_fig.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    plain_fig.prompt_seconds += plain->last_stats().prompt_seconds;
    plain_fig.target_forwards += plain->last_stats().steps;
    t0 = Clock::now();
    spec_out = unwrap(spec->generate(requests));
    spec_fig.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    stats = spec->last_stats();
    spec_fig.prompt_seconds += stats.prompt_seconds;
    spec_fig.target_forwards += stats.target_forwards;
    for (auto* f : {&plain_fig, &spec_fig}) {
      f->tokens += o.batch * o.n_tokens;
      f->decode_tokens += o.batch * (o.n_tokens - 1);
    }
  }
  const double reps = o.repetitions;
  const int64_t plain_forwards = plain->last_stats().steps;

  // Greedy must reproduce the plain output exactly; sampling is compared in distribution only (tests).
  const bool greedy = o.sampling.greedy();
  int64_t first_diff_request = -1, first_diff_token = -1;
  for (size_t b = 0; b < requests.size() && first_diff_request < 0; ++b) {
    const auto& a = plain_out[b].tokens;
    const auto& s = spec_out[b].tokens;
    for (size_t i = 0; i < std::max(a.size(), s.size()); ++i)
      if (i >= a.size() || i >= s.size() || a[i] != s[i]) {
        first_diff_request = static_cast<int64_t>(b);
        first_diff_token = static_cast<int64_t>(i);
        break;
      }
  }
  const bool identical = first_diff_request < 0;
  const double speedup = plain_fig.tokens_per_second() > 0 ? spec_fig.tokens_per_second() / plain_fig.tokens_per_second() : 0;
  const KvCacheManager* draft_kv = spec->proposer().kv();

  if (o.json) {
    nlohmann::json j = {
        {"target", target_file.path},
        {"proposer", spec->proposer().name()},
        {"spec_tokens", o.spec_tokens},
        {"prompt_tokens", prompt.size()},
        {"gen_tokens", o.n_tokens},
        {"batch", o.batch},
        {"repetitions", o.repetitions},
        {"threads", spec->pool().size()},
        {"temperature", o.sampling.temperature},
        {"plain", {{"tokens_per_second", plain_fig.tokens_per_second()},
                   {"decode_tokens_per_second", plain_fig.decode_tokens_per_second()},
                   {"seconds", plain_fig.seconds / reps},
                   {"target_forwards", plain_forwards}}},
        {"speculative", {{"tokens_per_second", spec_fig.tokens_per_second()},
                         {"decode_tokens_per_second", spec_fig.decode_tokens_per_second()},
                         {"seconds", spec_fig.seconds / reps},
                         {"target_forwards", stats.target_forwards},
                         {"proposer_forwards", stats.proposer_forwards},
                         {"propose_seconds", stats.propose_seconds},
                         {"peak_target_blocks", stats.peak_target_blocks},
                         {"peak_draft_blocks", stats.peak_draft_blocks}}},
        {"speedup", speedup},
        {"proposed", stats.proposed},
        {"accepted", stats.accepted},
        {"acceptance_rate", stats.acceptance_rate()},
        {"mean_accepted_per_verification", stats.mean_accepted_per_verification()},
        {"accepted_histogram", stats.accepted_histogram},
        {"undrafted_steps", stats.undrafted_steps},
        {"target_forwards_saved", plain_forwards - stats.target_forwards},
        {"timeline", timeline_text(stats.timeline[0])}};
    if (greedy) j["greedy_identical"] = identical;
    fmt::print("{}\n", j.dump(2));
  } else {
    const ModelShape& s = target_file.shape;
    fmt::print("target:   {} ({} layers, hidden {}, vocab {})\n", target_file.path, s.n_layers, s.hidden_dim, s.vocab_size);
    fmt::print("proposer: {}\n", proposer_text);
    fmt::print("requests: {} x ({} prompt tokens + {} generated), {}, K = {}, {} threads, {} run{}\n", o.batch,
               prompt.size(), o.n_tokens,
               greedy ? std::string("greedy")
                      : fmt::format("temperature {} top-k {} top-p {} seed {}", o.sampling.temperature,
                                    o.sampling.top_k, o.sampling.top_p, o.sampling.seed),
               o.spec_tokens, spec->pool().size(), o.repetitions, o.repetitions > 1 ? "s (figures per run)" : "");
    fmt::print("kv cache: target peak {} of {} blocks of {}", stats.peak_target_blocks, spec->kv().num_total_blocks(),
               spec->kv().block_size());
    if (draft_kv) fmt::print("; draft peak {} of {} blocks", stats.peak_draft_blocks, draft_kv->num_total_blocks());
    fmt::print("; all free after the run: {}\n",
               spec->kv().num_used_blocks() == 0 && (!draft_kv || draft_kv->num_used_blocks() == 0) ? "yes" : "NO");
    fmt::print("\n{:<14} {:>10} {:>14} {:>16} {:>9}\n", "", "tokens/s", "decode tok/s", "target forwards", "seconds");
    fmt::print("{:<14} {:>10.1f} {:>14.1f} {:>16} {:>9.3f}\n", "plain", plain_fig.tokens_per_second(),
               plain_fig.decode_tokens_per_second(), plain_forwards, plain_fig.seconds / reps);
    fmt::print("{:<14} {:>10.1f} {:>14.1f} {:>16} {:>9.3f}", "speculative", spec_fig.tokens_per_second(),
               spec_fig.decode_tokens_per_second(), stats.target_forwards, spec_fig.seconds / reps);
    if (stats.proposer_forwards > 0)
      fmt::print("   (+{} draft forwards, {:.3f} s proposing)", stats.proposer_forwards, stats.propose_seconds);
    else
      fmt::print("   ({:.3f} s proposing)", stats.propose_seconds);
    fmt::print("\nspeedup:       {:.2f}x\n", speedup);
    fmt::print("acceptance:    {} of {} drafts ({:.1f} %), {:.2f} accepted per verification (+1 target token each)\n",
               stats.accepted, stats.proposed, 100.0 * stats.acceptance_rate(), stats.mean_accepted_per_verification());
    std::string hist;
    for (size_t n = 0; n < stats.accepted_histogram.size(); ++n)
      hist += fmt::format("{}{}: {}", n ? ", " : "", n, stats.accepted_histogram[n]);
    fmt::print("accepted per verification: {}{}\n", hist,
               stats.undrafted_steps > 0 ? fmt::format("; {} decode steps had no drafts", stats.undrafted_steps) : "");
    fmt::print("target forwards saved: {} of {} ({:.1f} %)\n", plain_forwards - stats.target_forwards, plain_forwards,
               plain_forwards > 0 ? 100.0 * (plain_forwards - stats.target_forwards) / plain_forwards : 0.0);
    if (greedy) {
      if (identical)
        fmt::print("greedy outputs identical: yes ({} x {} tokens)\n", o.batch, o.n_tokens);
      else
        fmt::print("greedy outputs identical: NO (request {}, token {})\n", first_diff_request, first_diff_token);
    } else {
      fmt::print("sampled outputs: not compared token by token (the distribution is the target's)\n");
    }
    const std::string tl = timeline_text(stats.timeline[0]);
    fmt::print("timeline (request 0; D = accepted draft, T = target token): {}{}\n", tl.substr(0, 160),
               tl.size() > 160 ? "..." : "");
    if (o.show_text && tokenizer) {
      std::string text;
      int32_t prev = prompt.back();
      bool open = false;
      for (size_t i = 0; i < spec_out[0].tokens.size(); ++i) {
        const bool draft = stats.timeline[0][i] == TokenSource::Draft;
        if (draft != open) text += draft ? "[" : "]";
        open = draft;
        text += tokenizer->decode_piece(prev, spec_out[0].tokens[i]);
        prev = spec_out[0].tokens[i];
      }
      if (open) text += "]";
      fmt::print("text ([accepted drafts]): {}{}\n", prompt_text, text);
    }
  }
  if (greedy && !identical) std::exit(1);
}

}  // namespace

void add_bench_spec_command(CLI::App& app) {
  auto o = std::make_shared<BenchSpecOptions>();
  CLI::App* cmd = app.add_subcommand("bench-spec", "Measure speculative decoding against plain decoding on the same requests");
  o->engine.add_to(*cmd);
  cmd->add_option("--draft-model", o->draft_path, "Draft model with the target's vocabulary");
  cmd->add_option("--draft-tokenizer", o->draft_tokenizer_path, "Tokenizer of a llama2.c draft (default: found beside it)");
  cmd->add_option("--spec", o->spec, "Proposer: draft (needs --draft-model) or ngram (prompt lookup)")
      ->check(CLI::IsMember({"draft", "ngram"}));
  auto* pf = cmd->add_option("-p,--prompt-file", o->prompt_file, "Prompt text file");
  cmd->add_option("--prompt", o->prompt, "Prompt text (default: BOS only)")->excludes(pf);
  cmd->add_option("-n,--n-tokens", o->n_tokens, "Tokens to generate per request (stop tokens ignored)")->capture_default_str();
  cmd->add_option("--spec-tokens", o->spec_tokens, "Drafts verified per step (K)")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Requests run together (copies of the prompt)")->capture_default_str();
  cmd->add_option("-r,--repetitions", o->repetitions, "Runs of each (tokens/s over all)")->capture_default_str();
  cmd->add_option("--temp,--temperature", o->sampling.temperature, "Temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--top-k", o->sampling.top_k, "Top-k (0 = off)")->capture_default_str();
  cmd->add_option("--top-p", o->sampling.top_p, "Top-p (1 = off)")->capture_default_str();
  cmd->add_option("--seed", o->sampling.seed, "Seed (request i uses seed + i)")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->add_flag("--show-text", o->show_text, "Print the speculative output with accepted drafts in [brackets]");
  cmd->callback([o] {
    if (o->spec.empty()) o->spec = o->draft_path.empty() ? "" : "draft";
    if (o->spec.empty()) fail(Error{"spec: pass --draft-model FILE or --spec ngram", "spec"});
    if (o->spec == "draft" && o->draft_path.empty()) fail(Error{"draft_model: --spec draft needs a file", "draft_model"});
    if (o->spec == "ngram" && !o->draft_path.empty())
      fail(Error{"draft_model: not used with --spec ngram", "draft_model"});
    if (o->n_tokens < 1) fail(Error{"n_tokens: must be >= 1", "n_tokens"});
    if (o->batch < 1 || o->batch > 1024) fail(Error{"batch: must be between 1 and 1024", "batch"});
    if (o->repetitions < 1) fail(Error{"repetitions: must be >= 1", "repetitions"});
    SpeculativeOptions so;
    so.num_spec_tokens = o->spec_tokens;
    if (auto st = so.validate(); !st) fail(st.error());
    if (auto st = o->sampling.validate(); !st) fail(st.error());
    run_bench_spec(*o);
  });
}

}  // namespace helix::cli
