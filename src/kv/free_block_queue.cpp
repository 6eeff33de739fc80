#include "kv/free_block_queue.h"

#include "common/result.h"

namespace helix {

FreeBlockQueue::FreeBlockQueue(std::span<KvBlock> blocks) : blocks_(blocks) {
  for (KvBlock& block : blocks_) push_back(block.id);
}

KvBlock& FreeBlockQueue::at(BlockId id) {
  HELIX_CHECK(id.value >= 0 && static_cast<size_t>(id.value) < blocks_.size(), "block {} outside a pool of {}",
              id.value, blocks_.size());
  return blocks_[static_cast<size_t>(id.value)];
}

BlockId FreeBlockQueue::pop_front() {
  HELIX_CHECK(head_ >= 0, "pop_front on an empty free queue (size {})", size_);
  const BlockId id{head_};
  remove(id);
  return id;
}

void FreeBlockQueue::push_back(BlockId id) {
  KvBlock& block = at(id);
  HELIX_CHECK(!block.in_free_queue, "block {} appended to the free queue twice (ref_count {})", id.value,
              block.ref_count);
  block.prev_free = tail_;
  block.next_free = -1;
  if (tail_ >= 0)
    blocks_[static_cast<size_t>(tail_)].next_free = id.value;
  else
    head_ = id.value;
  tail_ = id.value;
  block.in_free_queue = true;
  ++size_;
}

void FreeBlockQueue::remove(BlockId id) {
  KvBlock& block = at(id);
  HELIX_CHECK(block.in_free_queue, "block {} removed from the free queue but not in it (ref_count {})", id.value,
              block.ref_count);
  if (block.prev_free >= 0)
    blocks_[static_cast<size_t>(block.prev_free)].next_free = block.next_free;
  else
    head_ = block.next_free;
  if (block.next_free >= 0)
    blocks_[static_cast<size_t>(block.next_free)].prev_free = block.prev_free;
  else
    tail_ = block.prev_free;
  block.prev_free = -1;
  block.next_free = -1;
  block.in_free_queue = false;
  --size_;
}

std::vector<BlockId> FreeBlockQueue::to_vector() const {
  std::vector<BlockId> order;
  order.reserve(static_cast<size_t>(size_));
  for (int32_t i = head_; i >= 0; i = blocks_[static_cast<size_t>(i)].next_free) order.push_back(BlockId{i});
  return order;
}

}  // namespace helix
