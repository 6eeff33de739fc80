// GET /compare/speculative: the same greedy request run twice through the serving engine, one run after the
// other, first without speculation (the baseline), then with it, timed as the tokens arrive. The answer puts
// throughput, target forwards, acceptance and the per-token timeline of both runs side by side.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "engine/serving_engine.h"

namespace helix::server {

inline constexpr int64_t kMaxCompareTokens = 512;

struct SpeculativeCompareQuery {
  std::vector<int32_t> prompt;  // tokenized, BOS first
  int64_t max_tokens = 64;
  SpecMethod method = SpecMethod::Ngram;
  int32_t spec_tokens = 4;
};

// One run as a client saw it.
struct TimedRun {
  std::vector<int32_t> ids;
  std::vector<TokenSource> sources;
  std::vector<double> arrival_ms;  // per token: milliseconds from submission to its arrival
  double seconds = 0;              // submission to the last token (to the end when none came)
  RequestUsage usage;
};

// Submits `params` and reads its stream to the end. Errors: the engine's refusal (param set), or a run that
// ended in error.
Result<TimedRun> run_timed(ServingEngine& engine, RequestParams params);

// Both runs and the body of the contract (model, method, spec_tokens, prompt_tokens, max_tokens, baseline,
// speculative, speedup, acceptance_rate, mean_accepted_per_step, accepted_histogram, forwards_saved,
// identical, text, tokens).
Result<nlohmann::json> compare_speculative(ServingEngine& engine, const SpeculativeCompareQuery& query);

}  // namespace helix::server
