// KvSnapshot: the whole cache's state at one moment, exact, for /kv/blocks and the tests.
#pragma once

#include <cstdint>
#include <vector>

namespace helix {

struct PrefixCacheStats {
  int64_t lookups = 0;        // find_cached_prefix calls
  int64_t queried_tokens = 0;  // prompt tokens looked up
  int64_t hit_tokens = 0;      // tokens served from cached blocks
};

struct KvBlockInfo {
  int32_t id = 0;
  int32_t ref_count = 0;
  int32_t tokens_filled = 0;  // the most any owner has written (block_size for a cached free block)
  bool cached = false;        // a findable full prefix block
  bool free = false;          // in the free queue (may still be cached)
  std::vector<int64_t> owners;  // sequence ids holding it, ascending
};

struct KvSeqInfo {
  int64_t seq = 0;
  int64_t num_tokens = 0;
  int32_t last_block_fill = 0;
  int32_t num_cached_blocks = 0;  // leading blocks whose prefix keys are known
  std::vector<int32_t> block_ids;
};

struct KvSnapshot {
  int32_t block_size = 0;
  int32_t num_blocks = 0;
  int32_t used_blocks = 0;
  int32_t free_blocks = 0;
  int32_t cached_blocks = 0;
  double usage = 0.0;  // used / total, 0..1
  PrefixCacheStats prefix;
  std::vector<KvBlockInfo> blocks;  // indexed by block id
  std::vector<KvSeqInfo> sequences;  // ascending seq id
  std::vector<int32_t> free_queue;   // head (next evicted) to tail
};

}  // namespace helix
