// Verification of one sequence's drafts from the target's logits: the step that turns [last token + k drafts]
// scored in one forward (k + 1 logits rows) into the tokens the sequence keeps. Any engine that batches
// verifications calls it per sequence after the forward, then rolls its block table back to
// context + accepted (KvCacheManager::truncate) and tells the proposer (Proposer::on_accept).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/speculative/proposer.h"
#include "model/sampler.h"

namespace helix {

struct VerifiedTokens {
  std::vector<int32_t> tokens;  // the accepted drafts, then one token of the target's (1 .. k + 1 tokens)
  int32_t accepted = 0;         // drafts kept
};

// rows: k + 1 rows of vocab logits, row i scoring the position after context + drafts[0..i) (modified in place
// by the sampler's penalty and temperature). context: the sequence's tokens before the drafts, for the
// repetition penalty. Greedy: a draft is kept while it is the target's choice, then the target's choice
// follows (the correction, or the bonus token after k kept drafts): exactly plain greedy's tokens. Sampling:
// verify_sampled_token per draft, a draw from the last row after k kept drafts.
VerifiedTokens verify_drafts(std::span<float> rows, int64_t vocab, const Proposal& proposal,
                             std::span<const int32_t> context, Sampler& sampler);

}  // namespace helix
