#include "engine/contiguous_kv_policy.h"

#include "kv/memory_math.h"

namespace helix {

ContiguousKvPolicy::ContiguousKvPolicy(KvCacheManager& kv, KvStorage* storage, int64_t max_seq_len)
    : kv_(kv),
      storage_(storage),
      reserve_tokens_(max_seq_len),
      reserve_blocks_(blocks_for_tokens(max_seq_len, kv.block_size())) {}

bool ContiguousKvPolicy::admit(const Sequence& seq, const PrefixHit& hit, int64_t n_tokens, int32_t reserve_blocks) {
  HELIX_CHECK(hit.blocks.empty(), "contiguous cache: sequence {} came with a prefix hit", seq.id.value);
  HELIX_CHECK(n_tokens <= reserve_tokens_, "contiguous cache: {} tokens over the {} reserved", n_tokens,
              reserve_tokens_);
  // The reservation is the headroom: no watermark on top of it.
  if (kv_.num_free_blocks() < reserve_blocks_) return false;
  auto added = kv_.add_sequence(seq.id);
  HELIX_CHECK(added.has_value(), "admit: {}", added.error().message);
  const auto alloc = kv_.allocate_slots(seq.id, reserve_tokens_);
  HELIX_CHECK(alloc.has_value(), "admit: {}", alloc.error().message);
  if (storage_)
    for (BlockId b : alloc->new_blocks) storage_->zero_block(b);
  return true;
}

bool ContiguousKvPolicy::grow(const Sequence& seq, int64_t n_tokens) {
  HELIX_CHECK(seq.kv_tokens + n_tokens <= reserve_tokens_, "contiguous cache: sequence {} grows to {} of {} reserved",
              seq.id.value, seq.kv_tokens + n_tokens, reserve_tokens_);
  return true;
}

void ContiguousKvPolicy::fork(const Sequence& parent, const Sequence& child) {
  HELIX_CHECK(false, "contiguous cache: fork of sequence {} (choices compute their own prompt)", parent.id.value);
}

void ContiguousKvPolicy::release(const Sequence& seq) {
  const auto st = kv_.free_sequence(seq.id);
  HELIX_CHECK(st.has_value(), "release: {}", st.error().message);
}

}  // namespace helix
