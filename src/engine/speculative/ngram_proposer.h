// Prompt lookup (n-gram) proposer: no second model. The last n tokens of the context (n from max_ngram down
// to min_ngram, longest first) are looked up earlier in the context; the tokens that followed their most
// recent earlier occurrence are proposed. Pays off where output repeats its input (code edits, quoting,
// summaries, repetitive text); costs nothing but a scan where it does not. Drafts are deterministic.
#pragma once

#include "engine/speculative/proposer.h"

namespace helix {

// The up to k tokens following the most recent earlier match of the context's last n tokens, trying n from
// max_ngram down to min_ngram; empty when nothing matches.
std::vector<int32_t> ngram_lookup(std::span<const int32_t> context, int32_t k, int32_t max_ngram = 3,
                                  int32_t min_ngram = 1);

class NgramProposer final : public Proposer {
 public:
  explicit NgramProposer(int32_t max_ngram = 3, int32_t min_ngram = 1) : max_ngram_(max_ngram), min_ngram_(min_ngram) {}

  std::string name() const override { return "ngram"; }
  Status prepare(const ProposerEnv&) override { return {}; }
  Status add_sequence(SeqId, const SamplingParams&) override { return {}; }
  Status propose(std::span<const ProposeRequest> requests, std::vector<Proposal>& out) override;
  void on_accept(SeqId, int32_t) override {}
  void remove_sequence(SeqId) override {}

 private:
  int32_t max_ngram_;
  int32_t min_ngram_;
};

}  // namespace helix
