// BlockTable: one sequence's logical-to-physical map. Token t lives in block ids()[t / block_size] at
// slot t % block_size. The ids are raw int32 so the attention kernels take them as a span directly.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv/kv_ids.h"

namespace helix {

class BlockTable {
 public:
  explicit BlockTable(int32_t block_size) : block_size_(block_size) {}

  std::span<const int32_t> ids() const { return ids_; }
  int32_t num_blocks() const { return static_cast<int32_t>(ids_.size()); }
  BlockId block(int32_t index) const { return BlockId{ids_[static_cast<size_t>(index)]}; }
  int64_t num_tokens() const { return num_tokens_; }
  int32_t block_size() const { return block_size_; }
  // Slots that hold K/V for this sequence.
  int64_t capacity_tokens() const { return int64_t{num_blocks()} * block_size_; }
  // Tokens in the last block (0 for an empty table; block_size when it is full).
  int32_t last_block_fill() const {
    return ids_.empty() ? 0 : static_cast<int32_t>(num_tokens_ - int64_t{num_blocks() - 1} * block_size_);
  }
  // Tokens held by block `index` of this table.
  int32_t fill_of(int32_t index) const {
    const int64_t left = num_tokens_ - int64_t{index} * block_size_;
    return static_cast<int32_t>(left <= 0 ? 0 : (left >= block_size_ ? block_size_ : left));
  }

  void append(BlockId id) { ids_.push_back(id.value); }
  void set(int32_t index, BlockId id) { ids_[static_cast<size_t>(index)] = id.value; }
  void resize_blocks(int32_t n) { ids_.resize(static_cast<size_t>(n)); }
  void set_num_tokens(int64_t n) { num_tokens_ = n; }

 private:
  int32_t block_size_;
  std::vector<int32_t> ids_;
  int64_t num_tokens_ = 0;
};

}  // namespace helix
