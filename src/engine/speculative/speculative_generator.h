// SpeculativeGenerator: BatchGenerator's fixed-batch generation with speculative decoding. Each decode step
// asks the proposer for up to K drafts per sequence, scores [last token + drafts] for every sequence in ONE
// batched target forward (one logits row per token), keeps each sequence's longest accepted prefix plus one
// token of the target's own (the correction, or a bonus token when all K are kept), and rolls the target's
// block table back to the kept tokens with KvCacheManager::truncate, freeing blocks that held only rejected
// drafts. Greedy output is exactly the target's greedy output; sampled output is distributed exactly as the
// target's (rejection_sampler.h), though not token-for-token the same as a plain run with the same seed.
//
// The pieces (Proposer, verify_sampled_token, truncate) are what a continuous-batching engine calls too; this
// class drives them for `helix bench-spec` and the tests.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "common/result.h"
#include "engine/batch_generator.h"
#include "engine/speculative/proposer.h"
#include "engine/speculative/speculative_stats.h"

namespace helix {

struct SpeculativeOptions {
  int32_t num_spec_tokens = 4;  // K: most drafts verified per sequence per step

  Status validate() const;  // errors name the flag ("--spec-tokens: ...")
};

// One sequence's verification in one step, as observers see it after rollback.
struct VerifyRecord {
  size_t request = 0;
  SeqId seq;
  int64_t start_pos = 0;     // tokens in the target cache before the step
  int32_t proposed = 0;      // drafts scored (the step fed 1 + proposed tokens)
  int32_t accepted = 0;      // drafts kept
  bool finished = false;     // the sequence ended in this step (its blocks are all freed)
  int64_t kept_tokens = 0;   // tokens in the target cache after rollback (start_pos + 1 + accepted unless finished)
  std::vector<int32_t> blocks_before;  // block table right after the forward
  std::vector<int32_t> blocks_after;   // block table after rollback (empty when finished)
};

using VerifyObserver = std::function<void(std::span<const VerifyRecord>, const KvCacheManager& target_kv)>;

class SpeculativeGenerator {
 public:
  // The target's pool is sized as BatchGenerator sizes it; the proposer is prepared with the same block size
  // and block count (a draft model makes its own pool of that size).
  static Result<std::unique_ptr<SpeculativeGenerator>> create(std::unique_ptr<Transformer> target,
                                                              std::unique_ptr<Proposer> proposer,
                                                              const EngineOptions& options,
                                                              const SpeculativeOptions& spec);

  // Generates every request to completion; refuses what BatchGenerator refuses, before anything runs.
  Result<std::vector<GenerationResult>> generate(std::span<const GenerationRequest> requests,
                                                 const TokenCallback& on_token = {});

  const Transformer& model() const { return *model_; }
  const KvStorage& storage() const { return storage_; }
  const KvCacheManager& kv() const { return kv_; }
  Proposer& proposer() { return *proposer_; }
  const Proposer& proposer() const { return *proposer_; }
  ThreadPool& pool() { return *pool_; }
  const SpeculativeOptions& spec_options() const { return spec_; }
  const SpeculativeStats& last_stats() const { return stats_; }
  int64_t max_seq_len() const { return max_seq_len_; }
  // Called after each step that verified drafts, once its rollbacks are done.
  void set_verify_observer(VerifyObserver observer) { observer_ = std::move(observer); }

 private:
  SpeculativeGenerator(std::unique_ptr<Transformer> model, KvStorage storage, KvCacheManager kv,
                       std::unique_ptr<ThreadPool> pool, std::unique_ptr<Proposer> proposer, int64_t max_seq_len,
                       const EngineOptions& options, const SpeculativeOptions& spec);

  std::unique_ptr<Transformer> model_;
  KvStorage storage_;
  KvCacheManager kv_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Proposer> proposer_;
  std::vector<PagedKv> kv_layers_;
  int64_t max_seq_len_;
  EngineOptions options_;
  SpeculativeOptions spec_;
  SpeculativeStats stats_;
  VerifyObserver observer_;
  int64_t next_seq_id_ = 0;
};

}  // namespace helix
