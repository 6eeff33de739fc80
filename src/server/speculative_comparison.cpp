#include "server/speculative_comparison.h"

#include <chrono>

#include "model/tokenizer.h"

namespace helix::server {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double per_second(int64_t tokens, double seconds) { return seconds > 0 ? static_cast<double>(tokens) / seconds : 0.0; }

json run_json(const TimedRun& run) {
  const auto generated = static_cast<int64_t>(run.ids.size());
  return {{"tokens_per_second", per_second(generated, run.seconds)},
          {"generated_tokens", generated},
          {"seconds", run.seconds},
          {"target_forwards", run.usage.target_forwards}};
}

}  // namespace

Result<TimedRun> run_timed(ServingEngine& engine, RequestParams params) {
  const auto t0 = Clock::now();
  auto handle = engine.submit(std::move(params));
  HELIX_TRY(handle);
  TimedRun run;
  auto last = t0;
  TokenEvent e;
  // The engine ends every choice, a stopping engine included, so this loop ends.
  for (;;) {
    if (!(*handle)->next(e, std::chrono::milliseconds(100))) {
      if ((*handle)->finished()) break;
      continue;
    }
    if (e.token) {
      last = Clock::now();
      run.ids.push_back(*e.token);
      run.sources.push_back(e.source);
      run.arrival_ms.push_back(ms_between(t0, last));
      continue;
    }
    if (e.finish == FinishKind::Error) return errorf("generation failed: {}", e.error);
    if (e.finish == FinishKind::Cancelled) return errorf("generation cancelled (the engine is stopping)");
  }
  if (run.ids.empty()) last = Clock::now();
  run.seconds = std::chrono::duration<double>(last - t0).count();
  run.usage = (*handle)->usage();
  return run;
}

Result<json> compare_speculative(ServingEngine& engine, const SpeculativeCompareQuery& query) {
  RequestParams params;
  params.prompt = query.prompt;
  params.max_tokens = query.max_tokens;
  params.sampling.temperature = 0.0f;  // greedy: both runs must give the same ids
  params.speculation = SpecMethod::None;
  auto baseline = run_timed(engine, params);
  HELIX_TRY(baseline);
  params.speculation = query.method;
  params.spec_tokens = query.spec_tokens;
  auto spec = run_timed(engine, params);
  HELIX_TRY(spec);

  const RequestUsage& u = spec->usage;
  std::vector<int64_t> histogram = u.spec_accepted_histogram;
  histogram.resize(static_cast<size_t>(query.spec_tokens) + 1, 0);
  const Tokenizer& tok = engine.tokenizer();
  TokenStreamDecoder decoder(tok, query.prompt.back());
  std::string text;
  json tokens = json::array();
  int32_t prev = query.prompt.back();
  for (size_t i = 0; i < spec->ids.size(); ++i) {
    const int32_t id = spec->ids[i];
    text += decoder.push(id);
    tokens.push_back({{"id", id},
                      {"text", tok.decode_piece(prev, id)},
                      {"source", spec->sources[i] == TokenSource::Draft ? "draft" : "target"},
                      {"baseline_ms", i < baseline->arrival_ms.size() ? json(baseline->arrival_ms[i]) : json(nullptr)},
                      {"speculative_ms", spec->arrival_ms[i]}});
    prev = id;
  }
  text += decoder.flush();

  const double base_tps = per_second(static_cast<int64_t>(baseline->ids.size()), baseline->seconds);
  const double spec_tps = per_second(static_cast<int64_t>(spec->ids.size()), spec->seconds);
  json speculative = run_json(*spec);
  speculative["proposed"] = u.spec_proposed;
  speculative["accepted"] = u.spec_accepted;
  return json{
      {"model", engine.model_name()},
      {"method", std::string(spec_method_name(query.method))},
      {"spec_tokens", query.spec_tokens},
      {"prompt_tokens", static_cast<int64_t>(query.prompt.size())},
      {"max_tokens", query.max_tokens},
      {"baseline", run_json(*baseline)},
      {"speculative", std::move(speculative)},
      {"speedup", base_tps > 0 ? spec_tps / base_tps : 0.0},
      {"acceptance_rate", u.spec_proposed > 0 ? static_cast<double>(u.spec_accepted) / u.spec_proposed : 0.0},
      {"mean_accepted_per_step",
       u.spec_verify_steps > 0 ? static_cast<double>(u.spec_accepted) / u.spec_verify_steps : 0.0},
      {"accepted_histogram", histogram},
      {"forwards_saved", baseline->usage.target_forwards - u.target_forwards},
      {"identical", baseline->ids == spec->ids},
      {"text", text},
      {"tokens", std::move(tokens)}};
}

}  // namespace helix::server
