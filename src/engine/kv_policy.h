// KvPolicy: how the scheduler takes and gives back KV blocks for its sequences. Two policies share the
// engine, the kernels and the block pool and differ only here:
//  - PagedKvPolicy: blocks on demand (a new one only when the last is full), prefix caching, forks that
//    share a prompt's blocks (copy-on-write), preemption when blocks run out.
//  - ContiguousKvPolicy (contiguous_kv_policy.h): the traditional baseline, max_seq_len reserved per sequence.
#pragma once

#include <cstdint>

#include "engine/request.h"
#include "engine/serving_engine.h"
#include "kv/kv_cache_manager.h"

namespace helix {

class KvPolicy {
 public:
  virtual ~KvPolicy() = default;

  virtual KvCacheMode mode() const = 0;
  virtual KvCacheManager& kv() = 0;
  const KvCacheManager& kv() const { return const_cast<KvPolicy*>(this)->kv(); }
  // Whether a request's choices share its prompt's blocks (one prefill, then forks) or each compute it.
  virtual bool shares_prompt() const = 0;
  virtual bool prefix_caching() const = 0;
  // Most blocks one sequence holding `tokens` tokens takes (admission control).
  virtual int64_t blocks_for_sequence(int64_t tokens) const = 0;

  // The longest cached run of blocks starting the sequence's tokens (empty without prefix caching).
  virtual PrefixHit lookup(const Sequence& seq) = 0;
  // Adds a waiting sequence to the cache with the hit adopted and room for n_tokens more, provided
  // `reserve_blocks` stay free afterwards. False, with nothing changed, when there is no room.
  virtual bool admit(const Sequence& seq, const PrefixHit& hit, int64_t n_tokens, int32_t reserve_blocks) = 0;
  // Room for n_tokens more tokens of a running sequence. False, with nothing changed, when blocks ran out.
  virtual bool grow(const Sequence& seq, int64_t n_tokens) = 0;
  // After a step computed some of the sequence's tokens: registers its now-full blocks as cached prefixes.
  virtual void computed(const Sequence& seq) = 0;
  // The child shares every block of the parent (shares_prompt() only).
  virtual void fork(const Sequence& parent, const Sequence& child) = 0;
  // Gives back every block the sequence holds.
  virtual void release(const Sequence& seq) = 0;
  // Keeps the sequence's first n_tokens slots (rejected speculative drafts are dropped).
  virtual void rollback(const Sequence& seq, int64_t n_tokens) = 0;
};

class PagedKvPolicy final : public KvPolicy {
 public:
  PagedKvPolicy(KvCacheManager& kv, bool prefix_caching) : kv_(kv), prefix_caching_(prefix_caching) {}

  KvCacheMode mode() const override { return KvCacheMode::Paged; }
  KvCacheManager& kv() override { return kv_; }
  bool shares_prompt() const override { return true; }
  bool prefix_caching() const override { return prefix_caching_; }
  int64_t blocks_for_sequence(int64_t tokens) const override;

  PrefixHit lookup(const Sequence& seq) override;
  bool admit(const Sequence& seq, const PrefixHit& hit, int64_t n_tokens, int32_t reserve_blocks) override;
  bool grow(const Sequence& seq, int64_t n_tokens) override;
  void computed(const Sequence& seq) override;
  void fork(const Sequence& parent, const Sequence& child) override;
  void release(const Sequence& seq) override;
  void rollback(const Sequence& seq, int64_t n_tokens) override;

 private:
  KvCacheManager& kv_;
  bool prefix_caching_;
};

}  // namespace helix
