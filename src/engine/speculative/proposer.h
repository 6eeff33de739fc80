// Proposer: where speculative decoding gets its draft tokens. The engine asks for up to k drafts for each
// sequence it is about to verify, scores [last token + drafts] with the target in one forward, keeps the
// longest accepted prefix plus one target token, and tells the proposer how many drafts survived so it can
// roll its own state back (a draft model truncates its KV cache; prompt lookup keeps no state).
//
// Calls for one sequence follow: add_sequence, then rounds of propose -> on_accept, then remove_sequence.
// Several sequences are proposed for in one call so a draft model can batch them through one forward.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "common/result.h"
#include "kv/kv_ids.h"
#include "model/sampler.h"

namespace helix {

class KvCacheManager;
class ThreadPool;

// What the engine running the proposer provides, once, before the first sequence.
struct ProposerEnv {
  ThreadPool* pool = nullptr;           // shared with the target; forwards never overlap
  int32_t block_size = 16;              // the target's; a draft model's pool uses the same
  int64_t num_blocks = 0;               // the target pool's size: a draft pool this size holds every sequence
                                        // the target pool does (a draft caches fewer tokens than the target)
  DType kv_dtype = DType::F16;
  int64_t prefill_chunk_tokens = 512;   // longest prompt slice one draft step processes per sequence
  int64_t vocab_size = 0;               // the target's
};

// One sequence's request in a proposal round.
struct ProposeRequest {
  SeqId seq;
  std::span<const int32_t> context;  // prompt + every token generated so far; the target has not yet seen
                                     // the last one (it leads the verification step)
  int32_t k = 0;                     // most drafts wanted, >= 1
};

struct Proposal {
  std::vector<int32_t> tokens;  // 0..k drafts, in order
  // dists[i]: the distribution tokens[i] was drawn from (sorted, summing to 1, as Sampler::distribution).
  // Empty when the drafts are deterministic (prompt lookup, greedy drafting): p_draft is then one-hot.
  std::vector<std::vector<TokenProb>> dists;
};

class Proposer {
 public:
  virtual ~Proposer() = default;
  virtual std::string name() const = 0;  // "draft-model", "ngram"

  virtual Status prepare(const ProposerEnv& env) = 0;
  // `sampling` is the request's: a draft model samples its drafts with the same filters (its own generator).
  virtual Status add_sequence(SeqId seq, const SamplingParams& sampling) = 0;
  // out[i] answers requests[i]; a proposal may hold fewer than k tokens (none: a plain decode step).
  virtual Status propose(std::span<const ProposeRequest> requests, std::vector<Proposal>& out) = 0;
  // The first n_accepted drafts of `seq`'s last proposal were kept (a target token follows them).
  virtual void on_accept(SeqId seq, int32_t n_accepted) = 0;
  virtual void remove_sequence(SeqId seq) = 0;

  // The proposer's own KV cache, for block accounting (nullptr when it has none).
  virtual const KvCacheManager* kv() const { return nullptr; }
  // Forward passes of its own model so far (0 without one).
  virtual int64_t forward_passes() const { return 0; }
};

}  // namespace helix
