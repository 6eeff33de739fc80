#include "engine/kv_policy.h"

#include <span>

#include "kv/memory_math.h"

namespace helix {

int64_t PagedKvPolicy::blocks_for_sequence(int64_t tokens) const {
  return blocks_for_tokens(tokens, kv_.block_size());
}

PrefixHit PagedKvPolicy::lookup(const Sequence& seq) {
  if (!prefix_caching_) return {};
  return kv_.find_cached_prefix(seq.tokens);
}

bool PagedKvPolicy::admit(const Sequence& seq, const PrefixHit& hit, int64_t n_tokens, int32_t reserve_blocks) {
  auto added = kv_.add_sequence(seq.id);
  HELIX_CHECK(added.has_value(), "admit: {}", added.error().message);
  const auto needed = kv_.num_blocks_needed(seq.id, n_tokens, hit);
  HELIX_CHECK(needed.has_value(), "admit: {}", needed.error().message);
  if (int64_t{kv_.num_free_blocks()} - *needed < reserve_blocks) {
    HELIX_CHECK(kv_.free_sequence(seq.id).has_value(), "admit: could not drop sequence {}", seq.id.value);
    return false;
  }
  const auto alloc = kv_.allocate_slots(seq.id, n_tokens, hit);
  HELIX_CHECK(alloc.has_value(), "admit: {} blocks were free: {}", kv_.num_free_blocks(), alloc.error().message);
  return true;
}

bool PagedKvPolicy::grow(const Sequence& seq, int64_t n_tokens) {
  const auto needed = kv_.num_blocks_needed(seq.id, n_tokens);
  HELIX_CHECK(needed.has_value(), "grow: {}", needed.error().message);
  if (*needed > kv_.num_free_blocks()) return false;
  const auto alloc = kv_.allocate_slots(seq.id, n_tokens);
  HELIX_CHECK(alloc.has_value(), "grow: {} blocks were free: {}", kv_.num_free_blocks(), alloc.error().message);
  return true;
}

void PagedKvPolicy::computed(const Sequence& seq) {
  if (!prefix_caching_) return;
  const auto done = std::span<const int32_t>(seq.tokens).first(static_cast<size_t>(seq.computed));
  const auto st = kv_.cache_full_blocks(seq.id, done);
  HELIX_CHECK(st.has_value(), "cache_full_blocks: {}", st.error().message);
}

void PagedKvPolicy::fork(const Sequence& parent, const Sequence& child) {
  const auto st = kv_.fork(parent.id, child.id);
  HELIX_CHECK(st.has_value(), "fork: {}", st.error().message);
}

void PagedKvPolicy::release(const Sequence& seq) {
  const auto st = kv_.free_sequence(seq.id);
  HELIX_CHECK(st.has_value(), "release: {}", st.error().message);
}

void PagedKvPolicy::rollback(const Sequence& seq, int64_t n_tokens) {
  const auto st = kv_.truncate(seq.id, n_tokens);
  HELIX_CHECK(st.has_value(), "rollback: {}", st.error().message);
}

}  // namespace helix
