// The acceptance rule of speculative sampling (Leviathan et al. 2023; Chen et al. 2023). A draft token x drawn
// from q is kept with probability min(1, p(x) / q(x)); otherwise the step's token is drawn from the residual
// normalize(max(0, p - q)). Whatever q is, the token that comes out is distributed exactly as p, so sampling
// with speculation draws from the target's distribution. A deterministic proposal (prompt lookup, a greedy
// draft) is q = one-hot(x): x is kept with probability p(x), else a token is drawn from p without x.
#pragma once

#include <cstdint>
#include <span>

#include "model/sampler.h"

namespace helix {

struct TokenVerdict {
  bool accepted = false;
  int32_t token = -1;  // the proposal when accepted, else the token drawn from the residual
};

// target: p, the target's filtered distribution for this position (Sampler::distribution); draft: q, the
// distribution `proposed` was drawn from, or empty for one-hot. Uses one uniform draw to decide and, on
// rejection, one more to pick from the residual.
TokenVerdict verify_sampled_token(std::span<const TokenProb> target, std::span<const TokenProb> draft, int32_t proposed,
                                  Rng& rng);

}  // namespace helix
