#include "kv/block_pool.h"

#include <algorithm>
#include <utility>

namespace helix {
namespace {

std::vector<KvBlock> make_blocks(int32_t num_blocks) {
  HELIX_CHECK(num_blocks > 0, "a block pool needs blocks, got {}", num_blocks);
  std::vector<KvBlock> blocks(static_cast<size_t>(num_blocks));
  for (int32_t i = 0; i < num_blocks; ++i) blocks[static_cast<size_t>(i)].id = BlockId{i};
  return blocks;
}

}  // namespace

BlockPool::BlockPool(int32_t num_blocks, int32_t block_size)
    : block_size_(block_size), blocks_(make_blocks(num_blocks)), free_queue_(blocks_) {
  HELIX_CHECK(block_size > 0, "block_size must be > 0, got {}", block_size);
  tokens_.assign(static_cast<size_t>(num_blocks) * static_cast<size_t>(block_size), 0);
}

const KvBlock& BlockPool::block(BlockId id) const {
  HELIX_CHECK(id.value >= 0 && id.value < num_total(), "block {} outside a pool of {}", id.value, num_total());
  return blocks_[static_cast<size_t>(id.value)];
}

KvBlock& BlockPool::mutable_block(BlockId id) { return const_cast<KvBlock&>(std::as_const(*this).block(id)); }

Result<std::vector<BlockId>> BlockPool::allocate(int32_t n) {
  if (n < 0) return errorf("allocate: negative block count {}", n);
  if (n > num_free()) return errorf("allocate: need {} blocks, {} free of {}", n, num_free(), num_total());
  std::vector<BlockId> out;
  out.reserve(static_cast<size_t>(n));
  std::vector<BlockId> evicted;
  for (int32_t i = 0; i < n; ++i) {
    const BlockId id = free_queue_.pop_front();
    KvBlock& block = mutable_block(id);
    HELIX_CHECK(block.ref_count == 0, "block {} in the free queue with ref_count {}", id.value, block.ref_count);
    if (block.key) {
      uncache(id);
      evicted.push_back(id);
    }
    block.ref_count = 1;
    out.push_back(id);
  }
  if (!evicted.empty() && sink_) sink_(KvEvent{KvEventType::Evict, SeqId{}, std::move(evicted)});
  return out;
}

void BlockPool::free(std::span<const BlockId> blocks) {
  for (BlockId id : blocks) {
    KvBlock& block = mutable_block(id);
    HELIX_CHECK(block.ref_count > 0, "double free of block {} (ref_count {}, in free queue {})", id.value,
                block.ref_count, block.in_free_queue);
    if (--block.ref_count == 0) free_queue_.push_back(id);
  }
}

void BlockPool::touch(std::span<const BlockId> blocks) {
  for (BlockId id : blocks) {
    KvBlock& block = mutable_block(id);
    if (block.ref_count == 0) free_queue_.remove(id);
    ++block.ref_count;
  }
}

bool BlockPool::cache_full_block(BlockId id, const BlockKey& key, std::span<const int32_t> tokens) {
  KvBlock& block = mutable_block(id);
  HELIX_CHECK(static_cast<int32_t>(tokens.size()) == block_size_, "block {}: caching {} tokens, blocks hold {}",
              id.value, tokens.size(), block_size_);
  HELIX_CHECK(!block.key, "block {} cached twice", id.value);
  HELIX_CHECK(block.ref_count > 0, "block {}: caching a free block", id.value);
  const auto [it, inserted] = index_.try_emplace(key, id);
  if (!inserted) return false;
  block.key = key;
  std::copy(tokens.begin(), tokens.end(), tokens_.begin() + static_cast<ptrdiff_t>(id.value) * block_size_);
  return true;
}

std::optional<BlockId> BlockPool::find_cached(const BlockKey& key, std::span<const int32_t> tokens) const {
  const auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  const std::span<const int32_t> stored = cached_tokens(it->second);
  if (!std::equal(stored.begin(), stored.end(), tokens.begin(), tokens.end())) return std::nullopt;
  return it->second;
}

void BlockPool::uncache(BlockId id) {
  KvBlock& block = mutable_block(id);
  if (!block.key) return;
  const auto it = index_.find(*block.key);
  HELIX_CHECK(it != index_.end() && it->second == id, "block {} has a key the index does not map to it", id.value);
  index_.erase(it);
  block.key.reset();
}

std::span<const int32_t> BlockPool::cached_tokens(BlockId id) const {
  if (!block(id).key) return {};
  return std::span<const int32_t>(tokens_).subspan(static_cast<size_t>(id.value) * static_cast<size_t>(block_size_),
                                                   static_cast<size_t>(block_size_));
}

}  // namespace helix

namespace helix {

Status BlockPool::check_invariants() const {
  const std::vector<BlockId> order = free_queue_.to_vector();
  if (static_cast<int32_t>(order.size()) != num_free())
    return errorf("free queue walks {} blocks but counts {}", order.size(), num_free());
  std::vector<char> queued(blocks_.size(), 0);
  for (BlockId id : order) {
    if (queued[static_cast<size_t>(id.value)]) return errorf("block {} twice in the free queue", id.value);
    queued[static_cast<size_t>(id.value)] = 1;
  }
  int32_t keyed = 0;
  for (const KvBlock& b : blocks_) {
    const bool in_queue = queued[static_cast<size_t>(b.id.value)] != 0;
    if (b.ref_count < 0) return errorf("block {} has ref_count {}", b.id.value, b.ref_count);
    if ((b.ref_count == 0) != in_queue)
      return errorf("block {}: ref_count {} but {} the free queue", b.id.value, b.ref_count,
                    in_queue ? "in" : "not in");
    if (b.in_free_queue != in_queue) return errorf("block {}: stale in_free_queue flag", b.id.value);
    if (b.key) {
      ++keyed;
      const auto it = index_.find(*b.key);
      if (it == index_.end() || it->second != b.id)
        return errorf("block {} has a prefix key the index does not map to it", b.id.value);
    }
  }
  if (keyed != num_cached()) return errorf("{} blocks keyed but the index holds {}", keyed, num_cached());
  return {};
}

}  // namespace helix
