#include "engine/speculative/draft_verifier.h"

#include "common/result.h"
#include "engine/speculative/rejection_sampler.h"

namespace helix {

VerifiedTokens verify_drafts(std::span<float> rows, int64_t vocab, const Proposal& proposal,
                             std::span<const int32_t> context, Sampler& sampler) {
  const size_t k = proposal.tokens.size();
  HELIX_CHECK(rows.size() == (k + 1) * static_cast<size_t>(vocab), "{} logits for {} drafts of a {}-token vocabulary",
              rows.size(), k, vocab);
  HELIX_CHECK(proposal.dists.empty() || proposal.dists.size() == k, "{} draft distributions for {} drafts",
              proposal.dists.size(), k);
  auto row = [&](size_t i) { return rows.subspan(i * vocab, vocab); };
  std::vector<int32_t> history(context.begin(), context.end());  // context + the drafts kept so far
  VerifiedTokens out;
  for (size_t i = 0; i < k; ++i) {
    const int32_t draft = proposal.tokens[i];
    int32_t token;
    bool kept;
    if (sampler.params().greedy()) {
      token = sampler.sample(row(i), history);
      kept = token == draft;
    } else {
      const std::vector<TokenProb> target = sampler.distribution(row(i), history);
      std::span<const TokenProb> q;
      if (!proposal.dists.empty()) q = proposal.dists[i];
      const TokenVerdict v = verify_sampled_token(target, q, draft, sampler.rng());
      token = v.token;
      kept = v.accepted;
    }
    out.tokens.push_back(token);
    if (!kept) return out;
    ++out.accepted;
    history.push_back(draft);
  }
  out.tokens.push_back(sampler.sample(row(k), history));
  return out;
}

}  // namespace helix
