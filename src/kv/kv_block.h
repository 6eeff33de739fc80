// KvBlock: bare metadata of one pool block. The K/V bytes live in KvStorage; the pool and the free queue
// only move these records around.
#pragma once

#include <cstdint>
#include <optional>

#include "kv/block_key.h"
#include "kv/kv_ids.h"

namespace helix {

struct KvBlock {
  BlockId id;
  int32_t ref_count = 0;       // block tables holding this block; 0 = in the free queue
  std::optional<BlockKey> key;  // set while the block is a cached full prefix block (kept after free)
  // Free-queue links (block indices, -1 = none). Intrusive so a prefix hit on a free block unlinks it in O(1).
  int32_t prev_free = -1;
  int32_t next_free = -1;
  bool in_free_queue = false;
};

}  // namespace helix
