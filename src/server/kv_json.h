// JSON of the KV cache for /kv/blocks (the block map now) and /kv/events (one event).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "kv/kv_event.h"
#include "kv/kv_snapshot.h"

namespace helix::server {

// Totals (block_size, num_blocks, used/free/cached blocks, usage 0..1), prefix-cache counters, every block
// {id, ref_count, tokens_filled, cached, free, owners}, every sequence {seq, num_tokens, last_block_fill,
// num_cached_blocks, block_ids} and the free queue (next evicted first).
nlohmann::json kv_snapshot_json(const KvSnapshot& s);

// The draft model's pool, smaller: totals (block_size, num_blocks, used/free blocks, usage) and every sequence
// {seq (the target's sequence id), num_tokens, block_ids}.
nlohmann::json draft_kv_json(const KvSnapshot& s);

// {"index", "type", "seq" (null for pool events), "blocks", "timestamp" (ms since the Unix epoch)}.
nlohmann::json kv_event_json(const KvEvent& e, uint64_t index, int64_t timestamp_ms);

}  // namespace helix::server
