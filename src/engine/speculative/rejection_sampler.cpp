#include "engine/speculative/rejection_sampler.h"

#include <algorithm>
#include <vector>

#include "common/result.h"

namespace helix {
namespace {

double prob_of(std::span<const TokenProb> dist, int32_t id) {
  for (const auto& t : dist)
    if (t.id == id) return t.prob;
  return 0.0;
}

}  // namespace

TokenVerdict verify_sampled_token(std::span<const TokenProb> target, std::span<const TokenProb> draft, int32_t proposed,
                                  Rng& rng) {
  HELIX_CHECK(!target.empty(), "verify_sampled_token: empty target distribution");
  const double p = prob_of(target, proposed);
  const double q = draft.empty() ? 1.0 : prob_of(draft, proposed);
  // u < p / q, written without the division (q may be tiny); q == 0 means the draft could not have drawn x.
  const double u = rng.uniform();
  if (q > 0.0 && u * q < p) return {true, proposed};

  // Residual r = max(0, p - q) over the target's support (outside it p = 0, so r = 0), drawn in the target's
  // order. q as a dense table: both lists may hold the whole vocabulary.
  int32_t max_id = proposed;
  for (const auto& t : target) max_id = std::max(max_id, t.id);
  std::vector<double> q_dense(static_cast<size_t>(max_id) + 1, 0.0);
  if (draft.empty()) {
    q_dense[proposed] = 1.0;
  } else {
    for (const auto& t : draft)
      if (t.id >= 0 && t.id <= max_id) q_dense[t.id] = t.prob;
  }
  double mass = 0.0;
  for (const auto& t : target) mass += std::max(0.0, static_cast<double>(t.prob) - q_dense[t.id]);
  const double v = rng.uniform();
  if (mass <= 0.0) {
    // p <= q everywhere means p == q up to rounding, where rejection cannot happen in exact arithmetic:
    // drawing from p keeps the output distributed as p.
    double cumulative = 0.0;
    for (const auto& t : target) {
      cumulative += t.prob;
      if (v < cumulative) return {false, t.id};
    }
    return {false, target.back().id};
  }
  double cumulative = 0.0;
  int32_t last = target.front().id;
  for (const auto& t : target) {
    const double r = std::max(0.0, static_cast<double>(t.prob) - q_dense[t.id]);
    if (r <= 0.0) continue;
    last = t.id;
    cumulative += r / mass;
    if (v < cumulative) return {false, t.id};
  }
  return {false, last};  // rounding left a sliver past the last bucket
}

}  // namespace helix
