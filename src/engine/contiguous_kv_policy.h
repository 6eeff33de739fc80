// ContiguousKvPolicy: the traditional KV cache, as a baseline on the same engine and kernels. Each admitted
// sequence reserves max_seq_len slots up front (the blocks are taken and zeroed at admission, as a device
// allocation of that size would be written), so admission waits until a whole reservation is free; there is
// no prefix caching, no sharing between a request's choices, and nothing to preempt (a reservation never
// grows). With the same budget it holds budget / (max_seq_len * bytes_per_token) sequences however short
// they really are.
#pragma once

#include "engine/kv_policy.h"
#include "kv/kv_storage.h"

namespace helix {

class ContiguousKvPolicy final : public KvPolicy {
 public:
  // storage (not owned, may be null in tests) receives the zero fill.
  ContiguousKvPolicy(KvCacheManager& kv, KvStorage* storage, int64_t max_seq_len);

  KvCacheMode mode() const override { return KvCacheMode::Contiguous; }
  KvCacheManager& kv() override { return kv_; }
  bool shares_prompt() const override { return false; }
  bool prefix_caching() const override { return false; }
  int64_t blocks_for_sequence(int64_t tokens) const override { return reserve_blocks_; }
  int64_t reserve_tokens() const { return reserve_tokens_; }

  PrefixHit lookup(const Sequence& seq) override { return {}; }
  bool admit(const Sequence& seq, const PrefixHit& hit, int64_t n_tokens, int32_t reserve_blocks) override;
  bool grow(const Sequence& seq, int64_t n_tokens) override;
  void computed(const Sequence& seq) override {}
  void fork(const Sequence& parent, const Sequence& child) override;
  void release(const Sequence& seq) override;
  // The reservation stays whole: slots past n_tokens are simply written again later.
  void rollback(const Sequence&, int64_t) override {}

 private:
  KvCacheManager& kv_;
  KvStorage* storage_;
  int64_t reserve_tokens_;
  int64_t reserve_blocks_;
};

}  // namespace helix
