// FreeBlockQueue: the free blocks as an intrusive doubly-linked list threaded through the pool's KvBlock
// array. Its order is the eviction order: the head is taken first (least recently freed), freed blocks go
// to the tail, and a prefix hit unlinks a cached free block from the middle. All three are O(1).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv/kv_block.h"

namespace helix {

class FreeBlockQueue {
 public:
  // Links every block of `blocks` in id order. `blocks` must outlive the queue and never move.
  explicit FreeBlockQueue(std::span<KvBlock> blocks);

  int32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  BlockId pop_front();
  void push_back(BlockId id);
  void remove(BlockId id);  // unlinks a block from anywhere in the queue

  // Head-to-tail order (for tests and the snapshot; O(n)).
  std::vector<BlockId> to_vector() const;

 private:
  KvBlock& at(BlockId id);

  std::span<KvBlock> blocks_;
  int32_t head_ = -1;
  int32_t tail_ = -1;
  int32_t size_ = 0;
};

}  // namespace helix
