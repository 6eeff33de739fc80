// BlockPool: owns every block's metadata, the free queue (eviction order) and the prefix index
// (key -> cached block). It knows nothing of sequences; KvCacheManager builds block tables on top.
//
// A freed block keeps its key and stays findable until it is reused: allocation pops the free queue's
// head and, if that block was a cached prefix, drops it from the index (evict on reuse).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "kv/block_key.h"
#include "kv/free_block_queue.h"
#include "kv/kv_block.h"
#include "kv/kv_event.h"

namespace helix {

class BlockPool {
 public:
  // num_blocks and block_size must be > 0 (validated by KvCacheConfig).
  BlockPool(int32_t num_blocks, int32_t block_size);
  BlockPool(const BlockPool&) = delete;  // the free queue points into blocks_
  BlockPool& operator=(const BlockPool&) = delete;

  // Takes n blocks from the free queue's head, each with ref_count 1. All or nothing: on failure nothing
  // changes and the error names blocks needed vs free.
  Result<std::vector<BlockId>> allocate(int32_t n);
  // ref_count-- for each; blocks reaching 0 go to the free queue's tail in the order given (first given,
  // first evicted). Freeing a block at ref_count 0 is a bug and aborts.
  void free(std::span<const BlockId> blocks);
  // ref_count++ for each; a block at 0 (a prefix hit on a freed cached block) leaves the free queue.
  void touch(std::span<const BlockId> blocks);

  // Registers a full block under `key`, remembering its tokens. Returns false (and indexes nothing) when
  // another block already holds that prefix: the duplicate stays private to its sequence.
  bool cache_full_block(BlockId block, const BlockKey& key, std::span<const int32_t> tokens);
  // The cached block for `key` whose stored tokens equal `tokens`, if any. Does not touch it.
  std::optional<BlockId> find_cached(const BlockKey& key, std::span<const int32_t> tokens) const;
  // Drops a block from the prefix index (before its slots are overwritten).
  void uncache(BlockId block);

  int32_t num_total() const { return static_cast<int32_t>(blocks_.size()); }
  int32_t num_free() const { return free_queue_.size(); }
  int32_t num_used() const { return num_total() - num_free(); }
  int32_t num_cached() const { return static_cast<int32_t>(index_.size()); }
  double usage() const { return static_cast<double>(num_used()) / num_total(); }  // 0..1
  int32_t block_size() const { return block_size_; }

  const KvBlock& block(BlockId id) const;
  bool is_cached(BlockId id) const { return block(id).key.has_value(); }
  // Tokens of a cached block (empty if the block is not cached).
  std::span<const int32_t> cached_tokens(BlockId id) const;
  std::vector<BlockId> free_queue_order() const { return free_queue_.to_vector(); }

  // The free queue holds exactly the blocks at ref_count 0, once each, with consistent links; the index
  // maps exactly the keyed blocks. Describes the first violation found.
  Status check_invariants() const;

  // Pool-level events (Evict) go here.
  void set_event_sink(KvEventSink sink) { sink_ = std::move(sink); }

 private:
  KvBlock& mutable_block(BlockId id);

  int32_t block_size_;
  std::vector<KvBlock> blocks_;
  FreeBlockQueue free_queue_;
  std::unordered_map<BlockKey, BlockId> index_;
  std::vector<int32_t> tokens_;  // [num_blocks][block_size]: the token ids of cached blocks
  KvEventSink sink_;
};

}  // namespace helix
