// Draft-model proposer: a smaller (or lower-precision) model with the target's vocabulary guesses the next k
// tokens, one single-token forward per draft, every sequence of the round batched into each forward. It has
// its own paged KV cache (its own KvStorage and KvCacheManager, the target's block size), so its blocks show in
// the accounting; rejected drafts are rolled back with KvCacheManager::truncate.
//
// Per sequence the draft cache holds a prefix of the context. A round feeds the tokens it has not seen (the
// whole prompt the first time, then the one or two tokens the last verification added), samples draft 1 from
// the last row, then feeds each draft to get the next; the k-th draft is never fed. After verification keeps
// n drafts, the cache is cut back to the context plus those n drafts.
#pragma once

#include <map>
#include <memory>
#include <optional>

#include "engine/speculative/proposer.h"
#include "kv/kv_cache_manager.h"
#include "kv/kv_storage.h"
#include "model/transformer.h"

namespace helix {

class DraftModelProposer final : public Proposer {
 public:
  // The vocabulary must match the target's (check_draft_vocabulary); prepare() makes the KV pool.
  explicit DraftModelProposer(std::unique_ptr<Transformer> draft);

  std::string name() const override { return "draft-model"; }
  Status prepare(const ProposerEnv& env) override;
  Status add_sequence(SeqId seq, const SamplingParams& sampling) override;
  Status propose(std::span<const ProposeRequest> requests, std::vector<Proposal>& out) override;
  void on_accept(SeqId seq, int32_t n_accepted) override;
  void remove_sequence(SeqId seq) override;
  const KvCacheManager* kv() const override { return kv_ ? &*kv_ : nullptr; }

  const Transformer& model() const { return *model_; }
  const KvStorage* storage() const { return storage_ ? &*storage_ : nullptr; }
  int64_t forward_passes() const override { return forward_passes_; }
  int32_t peak_blocks_used() const { return peak_blocks_used_; }
  // Tokens of `seq` whose K/V the draft cache holds (tests check rollback with it).
  int64_t cached_tokens(SeqId seq) const;

 private:
  struct SeqState {
    explicit SeqState(const SamplingParams& p) : sampler(p) {}
    Sampler sampler;
    int64_t computed = 0;     // context tokens (and drafts) in the draft cache
    int64_t context_len = 0;  // the context of the last proposal
  };

  std::unique_ptr<Transformer> model_;
  ProposerEnv env_;
  std::optional<KvStorage> storage_;
  std::optional<KvCacheManager> kv_;
  std::vector<PagedKv> kv_layers_;
  std::map<SeqId, SeqState> seqs_;
  std::vector<float> logits_;
  int64_t forward_passes_ = 0;
  int32_t peak_blocks_used_ = 0;
};

}  // namespace helix
