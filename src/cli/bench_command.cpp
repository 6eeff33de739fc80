// helix bench: prompt-processing and generation speed, with the spread over repetitions, the weight bytes a
// generated token reads and the memory bandwidth that implies, next to the machine's measured read bandwidth.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "common/cpu_times.h"
#include "kernels/memory_bandwidth.h"
#include "kernels/cpu/isa.h"

namespace helix::cli {
namespace {

struct BenchOptions {
  EngineFlags engine;
  int64_t prompt_tokens = 128;
  int64_t gen_tokens = 64;
  int repetitions = 3;
  int64_t batch = 1;
  bool json = false;
};

struct Spread {
  double mean = 0, stddev = 0, min = 0, max = 0;
  static Spread of(const std::vector<double>& xs) {
    Spread s;
    if (xs.empty()) return s;
    s.mean = std::accumulate(xs.begin(), xs.end(), 0.0) / xs.size();
    double var = 0;
    for (double x : xs) var += (x - s.mean) * (x - s.mean);
    s.stddev = xs.size() > 1 ? std::sqrt(var / (xs.size() - 1)) : 0.0;
    s.min = *std::min_element(xs.begin(), xs.end());
    s.max = *std::max_element(xs.begin(), xs.end());
    return s;
  }
  nlohmann::json json() const { return {{"mean", mean}, {"stddev", stddev}, {"min", min}, {"max", max}}; }
  std::string text() const { return fmt::format("{:8.2f} ± {:5.2f}  (min {:.2f}, max {:.2f})", mean, stddev, min, max); }
};

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> ids(n);
  for (auto& id : ids) id = static_cast<int32_t>(3 + rng.next() % static_cast<uint64_t>(vocab - 3));
  return ids;
}

// Runs `batch` sequences with `prompt` tokens each, generating `gen` tokens; returns the stats.
GenerationStats run_once(BatchGenerator& g, int64_t batch, int64_t prompt, int64_t gen, uint64_t seed,
                         const TokenCallback& on_token = {}) {
  std::vector<GenerationRequest> reqs(batch);
  for (int64_t b = 0; b < batch; ++b) {
    reqs[b].prompt = random_tokens(prompt, g.model().shape().vocab_size, seed + b);
    reqs[b].max_new_tokens = gen;  // greedy, no stop tokens: exactly `gen` tokens
  }
  unwrap(g.generate(reqs, on_token));
  return g.last_stats();
}

// One single-stream generation run, each decode step followed by a plain read of the weights it read.
struct GenerationRun {
  double tokens_per_second = 0;
  double paired_read_gbps = 0;  // the plain reads' rate
  std::optional<double> steal;  // share of CPU time the hypervisor took during the run
};

// A step's speed and the memory's speed move together on a shared machine (other tenants, a descheduled
// virtual CPU), by tens of percent within seconds. Reading the same bytes right after each step, with the loop
// the bandwidth probe uses, compares the two at the same moments: the ratio of the sums is decode's share of
// what a plain read got then, nearly free of that drift.
GenerationRun run_generation(BatchGenerator& g, int64_t gen, uint64_t seed) {
  const std::vector<std::span<const std::byte>> spans = g.model().weights().token_read_spans();
  int64_t span_bytes = 0;
  for (const auto& s : spans) span_bytes += static_cast<int64_t>(s.size());
  double decode_seconds_seen = 0, read_seconds = 0;
  int64_t reads = 0;
  const auto on_token = [&](size_t, int32_t) {
    const double decode_seconds = g.last_stats().decode_seconds;
    if (decode_seconds == decode_seconds_seen) return;  // the token of the prompt's step
    decode_seconds_seen = decode_seconds;
    read_seconds += time_plain_read(g.pool(), spans);
    ++reads;
  };
  const std::optional<CpuTimes> cpu_before = read_cpu_times();
  GenerationRun run;
  run.tokens_per_second = run_once(g, 1, 1, gen + 1, seed, on_token).decode_tokens_per_second();
  const std::optional<CpuTimes> cpu_after = read_cpu_times();
  if (read_seconds > 0) run.paired_read_gbps = static_cast<double>(reads * span_bytes) / read_seconds / 1e9;
  if (cpu_before && cpu_after) run.steal = steal_fraction(*cpu_before, *cpu_after);
  return run;
}

void run_bench(BenchOptions o) {
  // Enough blocks for the largest run, unless the user sized the pool.
  if (o.engine.num_blocks == 0 && o.engine.kv_budget_mib == 0) {
    const int64_t longest = std::max(o.prompt_tokens, o.gen_tokens + 1) + 1;
    o.engine.num_blocks = std::max<int64_t>(1, o.batch) * ((longest + o.engine.block_size - 1) / o.engine.block_size) + 1;
  }
  auto g = load_generator(o.engine);
  const ModelShape& s = g->model().shape();
  const Weights& w = g->model().weights();
  const double bytes_per_token = static_cast<double>(w.bytes_read_per_token());
  // The read bandwidth is measured right before and right after each generation run, and each run is judged
  // against the mean of the two: on a shared machine the bandwidth moves by tens of percent within seconds.
  std::vector<double> pp, tg, batched, bandwidths, fractions, paired_reads, paired_fractions, steals;
  for (int r = 0; r < o.repetitions; ++r) {
    if (o.prompt_tokens > 0) pp.push_back(run_once(*g, 1, o.prompt_tokens, 1, 100 + r).prompt_tokens_per_second());
    if (o.gen_tokens > 0 || r == 0) bandwidths.push_back(measure_read_bandwidth_gbps(g->pool()));
    if (o.gen_tokens > 0) {
      const GenerationRun run = run_generation(*g, o.gen_tokens, 200 + r);
      tg.push_back(run.tokens_per_second);
      const double before = bandwidths.back();
      bandwidths.push_back(measure_read_bandwidth_gbps(g->pool()));
      fractions.push_back(tg.back() * bytes_per_token / 1e9 / ((before + bandwidths.back()) / 2));
      if (run.paired_read_gbps > 0) {
        paired_reads.push_back(run.paired_read_gbps);
        paired_fractions.push_back(tg.back() * bytes_per_token / 1e9 / run.paired_read_gbps);
      }
      if (run.steal) steals.push_back(*run.steal);
    }
    if (o.batch > 1 && o.gen_tokens > 0)
      batched.push_back(run_once(*g, o.batch, 1, o.gen_tokens + 1, 300 + r).decode_tokens_per_second());
  }
  const Spread pps = Spread::of(pp), tgs = Spread::of(tg), bs = Spread::of(batched), bws = Spread::of(bandwidths);
  const Spread fractions_spread = Spread::of(fractions), paired_spread = Spread::of(paired_reads),
               paired_fractions_spread = Spread::of(paired_fractions), steal_spread = Spread::of(steals);
  const double bandwidth_gbps = bws.mean;
  const double implied_gbps = tgs.mean * bytes_per_token / 1e9;
  const double bound_tps = bandwidth_gbps * 1e9 / bytes_per_token;

  if (o.json) {
    nlohmann::json j = {{"model", g->model().file().path},
                        {"threads", g->pool().size()},
                        {"isa", isa_name(active_isa())},
                        {"weight_bytes", w.total_matrix_bytes()},
                        {"bytes_read_per_token", w.bytes_read_per_token()},
                        {"measured_bandwidth_gbps", bandwidth_gbps},
                        {"measured_bandwidth_gbps_spread", bws.json()},
                        {"bandwidth_measurements", bandwidths.size()},
                        {"bandwidth_bound_tokens_per_second", bound_tps},
                        {"repetitions", o.repetitions}};
    if (!pp.empty()) j["pp"] = {{"tokens", o.prompt_tokens}, {"tokens_per_second", pps.json()}};
    if (!tg.empty()) {
      j["tg"] = {{"tokens", o.gen_tokens}, {"tokens_per_second", tgs.json()}, {"implied_bandwidth_gbps", implied_gbps},
                 {"fraction_of_bandwidth", fractions_spread.json()}};
      if (!paired_reads.empty()) {
        j["tg"]["paired_read_gbps"] = paired_spread.json();
        j["tg"]["fraction_of_paired_read"] = paired_fractions_spread.json();
      }
      if (!steals.empty()) j["tg"]["cpu_steal_fraction"] = steal_spread.json();
    }
    if (!batched.empty())
      j["batch"] = {{"sequences", o.batch}, {"tokens", o.gen_tokens}, {"tokens_per_second", bs.json()},
                    {"speedup_over_single", bs.mean / tgs.mean}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("model: {} ({} layers, hidden {}, vocab {})\n", g->model().file().path, s.n_layers, s.hidden_dim,
             s.vocab_size);
  fmt::print("weights: {:.2f} GiB; a generated token reads {:.3f} GB of them\n",
             static_cast<double>(w.total_matrix_bytes()) / (1 << 30), bytes_per_token / 1e9);
  fmt::print("threads: {}, kernels: {}, kv cache: {} blocks of {} ({})\n", g->pool().size(), isa_name(active_isa()),
             g->kv().num_total_blocks(), g->kv().block_size(), dtype_name(g->storage().dtype()));
  fmt::print("measured read bandwidth: {:.1f} GB/s (min {:.1f}, max {:.1f} over {} measurements) -> bandwidth bound "
             "{:.1f} tok/s\n\n",
             bandwidth_gbps, bws.min, bws.max, bandwidths.size(), bound_tps);
  fmt::print("{:<22} {}\n", "test", "tokens/s over " + std::to_string(o.repetitions) + " runs");
  if (!pp.empty()) fmt::print("{:<22} {}\n", fmt::format("pp{}", o.prompt_tokens), pps.text());
  if (!tg.empty()) {
    fmt::print("{:<22} {}\n", fmt::format("tg{}", o.gen_tokens), tgs.text());
    fmt::print("{:<22} {:.1f} GB/s of weights; per run {:.0f} ± {:.0f} % (min {:.0f}, max {:.0f}) of the bandwidth "
               "measured around it\n",
               "", implied_gbps, 100 * fractions_spread.mean, 100 * fractions_spread.stddev, 100 * fractions_spread.min,
               100 * fractions_spread.max);
    if (!paired_reads.empty())
      fmt::print("{:<22} a plain read of the same weights after each token: {:.1f} GB/s; decode per run {:.0f} ± {:.0f} % "
                 "(min {:.0f}, max {:.0f}) of it\n",
                 "", paired_spread.mean, 100 * paired_fractions_spread.mean, 100 * paired_fractions_spread.stddev,
                 100 * paired_fractions_spread.min, 100 * paired_fractions_spread.max);
    if (!steals.empty())
      fmt::print("{:<22} CPU time taken by the hypervisor (steal) during these runs: {:.1f} % (max {:.1f} %)\n", "",
                 100 * steal_spread.mean, 100 * steal_spread.max);
  }
  if (!batched.empty())
    fmt::print("{:<22} {}   ({:.2f}x single stream, summed)\n", fmt::format("batch{} tg{}", o.batch, o.gen_tokens),
               bs.text(), bs.mean / tgs.mean);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt and generation speed against the memory-bandwidth bound");
  o->engine.add_to(*cmd);
  cmd->add_option("-p,--prompt-tokens", o->prompt_tokens, "Prompt length for the pp test (0 = skip)")->capture_default_str();
  cmd->add_option("-n,--gen-tokens", o->gen_tokens, "Tokens to generate for the tg test (0 = skip)")->capture_default_str();
  cmd->add_option("-r,--repetitions", o->repetitions, "Repetitions (mean and spread are reported)")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Also decode this many sequences together, one forward step per token")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->callback([o] {
    if (o->prompt_tokens < 0) fail(Error{"prompt_tokens: must be >= 0", "prompt_tokens"});
    if (o->gen_tokens < 0) fail(Error{"gen_tokens: must be >= 0", "gen_tokens"});
    if (o->repetitions < 1) fail(Error{"repetitions: must be >= 1", "repetitions"});
    if (o->batch < 1 || o->batch > 1024) fail(Error{"batch: must be between 1 and 1024", "batch"});
    run_bench(*o);
  });
}

}  // namespace helix::cli
