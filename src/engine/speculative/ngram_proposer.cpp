#include "engine/speculative/ngram_proposer.h"

#include <algorithm>

namespace helix {

std::vector<int32_t> ngram_lookup(std::span<const int32_t> context, int32_t k, int32_t max_ngram, int32_t min_ngram) {
  const int64_t len = static_cast<int64_t>(context.size());
  if (k < 1) return {};
  for (int64_t n = std::min<int64_t>(max_ngram, len - 1); n >= std::max(1, min_ngram); --n) {
    const auto suffix = context.subspan(len - n);
    // Latest start first: the most recent occurrence predicts best. A match must end before the suffix's
    // last token so at least one token follows it.
    for (int64_t start = len - n - 1; start >= 0; --start) {
      if (!std::equal(suffix.begin(), suffix.end(), context.begin() + start)) continue;
      const int64_t from = start + n;
      const int64_t to = std::min(len, from + k);
      return {context.begin() + from, context.begin() + to};
    }
  }
  return {};
}

Status NgramProposer::propose(std::span<const ProposeRequest> requests, std::vector<Proposal>& out) {
  out.assign(requests.size(), {});
  for (size_t i = 0; i < requests.size(); ++i)
    out[i].tokens = ngram_lookup(requests[i].context, requests[i].k, max_ngram_, min_ngram_);
  return {};
}

}  // namespace helix
