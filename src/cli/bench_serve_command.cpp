// helix bench-serve: a serving load test without HTTP. Drives the ServingEngine with a synthetic workload
// (random prompts, lengths drawn around a mean) and reports how many sequences ran at once, throughput, KV
// memory reserved vs really used, preemptions and latencies. Run it with --kv-cache paged and contiguous at
// the same --kv-budget-mib to see what paging buys.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "engine/serving_engine.h"
#include "model/tokenizer_for_model.h"

namespace helix::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchServeOptions {
  EngineFlags engine;
  std::string kv_cache = "paged";
  int64_t requests = 32;
  int64_t prompt_len_mean = 64, prompt_len_max = 256;
  int64_t output_len_mean = 64, output_len_max = 256;
  std::string length_dist = "geometric";
  uint64_t seed = 1;
  double rate = 0;  // requests per second; 0: all at once
  int64_t max_step_tokens = 512;
  int32_t max_running = 256;
  bool json = false;
};

// Geometric lengths with the given mean (p = 1/mean), clamped to [1, max]: mostly short, a long tail.
int64_t geometric_length(Rng& rng, int64_t mean, int64_t max) {
  if (mean <= 1) return 1;
  const double p = 1.0 / static_cast<double>(mean);
  const double u = std::max(rng.uniform(), 1e-12);
  const auto k = static_cast<int64_t>(std::ceil(std::log(u) / std::log1p(-p)));
  return std::clamp<int64_t>(k, 1, max);
}

// Uniform over [2 * mean - max, max] (so the mean is `mean`), or [1, max] when that would start below 1.
int64_t uniform_length(Rng& rng, int64_t mean, int64_t max) {
  const int64_t lo = std::max<int64_t>(1, std::min(2 * mean - max, max));
  return lo + static_cast<int64_t>(rng.next() % static_cast<uint64_t>(max - lo + 1));
}

double percentile(std::vector<double> xs, double q) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  const double rank = q * static_cast<double>(xs.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, xs.size() - 1);
  return xs[lo] + (xs[hi] - xs[lo]) * (rank - static_cast<double>(lo));
}

struct Client {
  std::shared_ptr<RequestHandle> handle;
  Clock::time_point submitted, last_token;
  bool got_first = false, done = false;
  int64_t tokens = 0;
};

void run(const BenchServeOptions& o) {
  ServingOptions so;
  so.engine = o.engine.engine_options();
  if (o.kv_cache == "paged") so.kv_mode = KvCacheMode::Paged;
  else if (o.kv_cache == "contiguous") so.kv_mode = KvCacheMode::Contiguous;
  else fail(Error{fmt::format("kv_cache: '{}' is not paged or contiguous", o.kv_cache), "kv_cache"});
  so.max_step_tokens = o.max_step_tokens;
  so.max_running = o.max_running;
  so.capacity_mean_tokens = std::max<int64_t>(1, o.prompt_len_mean + o.output_len_mean);

  ModelFile file = unwrap(open_model_file(o.engine.model_path));
  Tokenizer tokenizer = unwrap(tokenizer_for_model(file, o.engine.tokenizer_path));
  if (file.keepalive) {  // fault the weights in before timing
    volatile uint8_t sink = 0;
    for (size_t p = 0; p < file.keepalive->size(); p += 4096) sink = sink + file.keepalive->data()[p];
  }
  auto model = unwrap(Transformer::from_file(std::move(file)));
  const int64_t vocab = model->shape().vocab_size;
  auto engine = unwrap(ServingEngine::create(std::move(model), std::move(tokenizer), so));
  const int64_t max_seq_len = engine->max_seq_len();
  const CapacityReport cap = engine->capacity();

  // The workload, fixed by the seed.
  Rng rng(o.seed);
  auto length = [&](int64_t mean, int64_t max) {
    return o.length_dist == "uniform" ? uniform_length(rng, mean, max) : geometric_length(rng, mean, max);
  };
  std::vector<RequestParams> reqs;
  std::vector<double> arrival_s;
  double t = 0;
  int64_t total_prompt = 0, total_output = 0;
  for (int64_t i = 0; i < o.requests; ++i) {
    RequestParams p;
    const int64_t prompt_len = std::min(length(o.prompt_len_mean, o.prompt_len_max), max_seq_len - 1);
    const int32_t bos = engine->tokenizer().bos_id();
    for (int64_t k = 0; k < prompt_len; ++k)
      p.prompt.push_back(k == 0 && bos >= 0 ? bos : static_cast<int32_t>(3 + rng.next() % static_cast<uint64_t>(vocab - 3)));
    p.max_tokens = std::min(length(o.output_len_mean, o.output_len_max), max_seq_len - prompt_len);
    p.ignore_eos = true;  // exact lengths: both cache modes do the same work
    total_prompt += prompt_len;
    total_output += p.max_tokens;
    reqs.push_back(std::move(p));
    if (o.rate > 0) t += -std::log(std::max(rng.uniform(), 1e-12)) / o.rate;  // Poisson arrivals
    arrival_s.push_back(t);
  }

  engine->start();
  std::vector<Client> clients(reqs.size());
  std::vector<double> ttft_s, itl_s;
  size_t next = 0, done = 0;
  int64_t peak_running = 0;
  double weighted_running = 0, weighted_reserved = 0, weighted_used = 0, weighted_s = 0;
  const auto start = Clock::now();
  auto last_sample = start;
  Clock::time_point end = start;
  while (done < reqs.size()) {
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    while (next < reqs.size() && arrival_s[next] <= elapsed) {
      clients[next].handle = unwrap(engine->submit(reqs[next]));
      clients[next].submitted = Clock::now();
      ++next;
    }
    bool progressed = false;
    for (size_t i = 0; i < next; ++i) {
      Client& c = clients[i];
      if (c.done) continue;
      TokenEvent e;
      while (c.handle->next(e, std::chrono::milliseconds(0))) {
        progressed = true;
        const auto at = Clock::now();
        if (e.token) {
          ++c.tokens;
          if (!c.got_first) ttft_s.push_back(std::chrono::duration<double>(at - c.submitted).count());
          else itl_s.push_back(std::chrono::duration<double>(at - c.last_token).count());
          c.got_first = true;
          c.last_token = at;
        }
        if (e.finish != FinishKind::None) {
          if (e.finish != FinishKind::Length) fail(Error{fmt::format("request {} ended early", i), ""});
          c.done = true;
          ++done;
          end = at;
        }
      }
    }
    // Occupancy, weighted by the time since the last sample.
    const auto sample_at = Clock::now();
    const double dt = std::chrono::duration<double>(sample_at - last_sample).count();
    if (dt >= 0.005) {
      const MemoryComparison live = engine->live_memory();
      const int64_t running = live.batch_size;
      const int64_t used_tokens = live.blocks_used * live.block_size - live.paged_wasted_tokens;
      peak_running = std::max(peak_running, running);
      weighted_running += dt * static_cast<double>(running);
      weighted_reserved += dt * static_cast<double>(live.paged_bytes);
      weighted_used += dt * static_cast<double>(used_tokens * live.kv_bytes_per_token);
      weighted_s += dt;
      last_sample = sample_at;
    }
    if (!progressed) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const EngineMetrics m = engine->metrics();
  engine->stop();

  const double wall_s = std::chrono::duration<double>(end - start).count();
  int64_t generated = 0;
  for (const Client& c : clients) generated += c.tokens;
  const double mean_running = weighted_s > 0 ? weighted_running / weighted_s : 0;
  const double mean_reserved = weighted_s > 0 ? weighted_reserved / weighted_s : 0;
  const double mean_used = weighted_s > 0 ? weighted_used / weighted_s : 0;
  const double waste_pct = mean_reserved > 0 ? 100.0 * (1.0 - mean_used / mean_reserved) : 0;
  uint64_t preemptions = 0;
  for (const auto& [reason, n] : m.preemptions_by_reason) preemptions += n;
  const double tps = wall_s > 0 ? static_cast<double>(generated) / wall_s : 0;

  if (o.json) {
    nlohmann::json j = {
        {"kv_cache", o.kv_cache},
        {"model", engine->model_name()},
        {"requests", o.requests},
        {"length_distribution", o.length_dist},
        {"block_size", o.engine.block_size},
        {"prompt_tokens", total_prompt},
        {"output_tokens", generated},
        {"max_seq_len", max_seq_len},
        {"pool", {{"blocks", cap.pool_blocks}, {"tokens", cap.pool_tokens}, {"bytes", cap.pool_bytes}}},
        {"wall_seconds", wall_s},
        {"output_tokens_per_second", tps},
        {"concurrent_sequences", {{"peak", peak_running}, {"mean", mean_running}}},
        {"kv_bytes", {{"mean_reserved", mean_reserved}, {"mean_used", mean_used}, {"waste_percent", waste_pct}}},
        {"preemptions", preemptions},
        {"time_to_first_token_seconds", {{"p50", percentile(ttft_s, 0.5)}, {"p99", percentile(ttft_s, 0.99)}}},
        {"time_per_output_token_seconds", {{"p50", percentile(itl_s, 0.5)}, {"p99", percentile(itl_s, 0.99)}}}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("kv cache: {} | pool {} blocks of {} = {} tokens, {:.1f} MiB | max_seq_len {}\n", o.kv_cache,
             cap.pool_blocks, o.engine.block_size, cap.pool_tokens, static_cast<double>(cap.pool_bytes) / (1 << 20),
             max_seq_len);
  fmt::print("workload: {} requests, {} prompt + {} output tokens (means {:.1f} + {:.1f}, {}), {}\n", o.requests,
             total_prompt, total_output, static_cast<double>(total_prompt) / o.requests,
             static_cast<double>(total_output) / o.requests, o.length_dist,
             o.rate > 0 ? fmt::format("Poisson arrivals at {} req/s", o.rate) : std::string("all at once"));
  fmt::print("wall time:               {:.2f} s\n", wall_s);
  fmt::print("output throughput:       {:.2f} tokens/s\n", tps);
  fmt::print("concurrent sequences:    peak {}, mean {:.2f}\n", peak_running, mean_running);
  fmt::print("kv memory (mean):        reserved {:.2f} MiB, used {:.2f} MiB, waste {:.1f} %\n",
             mean_reserved / (1 << 20), mean_used / (1 << 20), waste_pct);
  fmt::print("preemptions:             {}\n", preemptions);
  fmt::print("time to first token:     p50 {:.3f} s, p99 {:.3f} s\n", percentile(ttft_s, 0.5), percentile(ttft_s, 0.99));
  fmt::print("time per output token:   p50 {:.3f} s, p99 {:.3f} s\n", percentile(itl_s, 0.5), percentile(itl_s, 0.99));
}

}  // namespace

void add_bench_serve_command(CLI::App& app) {
  auto o = std::make_shared<BenchServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench-serve",
      "Serving load test without HTTP: concurrency, throughput, KV reserved vs used, preemptions, latencies");
  o->engine.add_to(*cmd);
  cmd->add_option("--kv-cache", o->kv_cache, "KV cache policy: paged or contiguous (max_seq_len reserved per sequence)")
      ->capture_default_str();
  cmd->add_option("--requests", o->requests, "Requests to send")->capture_default_str();
  cmd->add_option("--length-dist", o->length_dist,
                  "Length distribution: geometric (p = 1/mean, clamped to [1, max]: mostly short, a long tail) or "
                  "uniform (over [2 * mean - max, max])")
      ->capture_default_str();
  cmd->add_option("--prompt-len-mean", o->prompt_len_mean, "Mean prompt length (see --length-dist)")
      ->capture_default_str();
  cmd->add_option("--prompt-len-max", o->prompt_len_max, "Longest prompt")->capture_default_str();
  cmd->add_option("--output-len-mean", o->output_len_mean,
                  "Mean output length (see --length-dist), also capped at max_seq_len - prompt; EOS is ignored so "
                  "every request generates exactly its length")
      ->capture_default_str();
  cmd->add_option("--output-len-max", o->output_len_max, "Longest output")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Workload seed (prompts, lengths, arrivals)")->capture_default_str();
  cmd->add_option("--rate", o->rate, "Requests per second, Poisson arrivals (0: all at once)")->capture_default_str();
  cmd->add_option("--max-step-tokens", o->max_step_tokens, "Tokens in one forward step")->capture_default_str();
  cmd->add_option("--max-running", o->max_running, "Most sequences running at once")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->callback([o] {
    if (o->requests < 1) fail(Error{"requests: must be >= 1", "requests"});
    if (o->prompt_len_mean < 1 || o->prompt_len_max < 1)
      fail(Error{"prompt_len_mean: lengths must be >= 1", "prompt_len_mean"});
    if (o->output_len_mean < 1 || o->output_len_max < 1)
      fail(Error{"output_len_mean: lengths must be >= 1", "output_len_mean"});
    if (!(o->rate >= 0)) fail(Error{"rate: must be >= 0", "rate"});
    if (o->length_dist != "geometric" && o->length_dist != "uniform")
      fail(Error{fmt::format("length_dist: '{}' is not geometric or uniform", o->length_dist), "length_dist"});
    run(*o);
  });
}

}  // namespace helix::cli
