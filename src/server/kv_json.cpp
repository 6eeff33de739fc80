#include "server/kv_json.h"

namespace helix::server {

using nlohmann::json;

json kv_snapshot_json(const KvSnapshot& s) {
  json blocks = json::array();
  for (const KvBlockInfo& b : s.blocks)
    blocks.push_back({{"id", b.id},
                      {"ref_count", b.ref_count},
                      {"tokens_filled", b.tokens_filled},
                      {"cached", b.cached},
                      {"free", b.free},
                      {"owners", b.owners}});
  json sequences = json::array();
  for (const KvSeqInfo& q : s.sequences)
    sequences.push_back({{"seq", q.seq},
                         {"num_tokens", q.num_tokens},
                         {"last_block_fill", q.last_block_fill},
                         {"num_cached_blocks", q.num_cached_blocks},
                         {"block_ids", q.block_ids}});
  return {{"block_size", s.block_size},
          {"num_blocks", s.num_blocks},
          {"used_blocks", s.used_blocks},
          {"free_blocks", s.free_blocks},
          {"cached_blocks", s.cached_blocks},
          {"usage", s.usage},
          {"prefix_cache",
           {{"lookups", s.prefix.lookups},
            {"queried_tokens", s.prefix.queried_tokens},
            {"hit_tokens", s.prefix.hit_tokens}}},
          {"blocks", std::move(blocks)},
          {"sequences", std::move(sequences)},
          {"free_queue", s.free_queue}};
}

json draft_kv_json(const KvSnapshot& s) {
  json sequences = json::array();
  for (const KvSeqInfo& q : s.sequences)
    sequences.push_back({{"seq", q.seq}, {"num_tokens", q.num_tokens}, {"block_ids", q.block_ids}});
  return {{"block_size", s.block_size},
          {"num_blocks", s.num_blocks},
          {"used_blocks", s.used_blocks},
          {"free_blocks", s.free_blocks},
          {"usage", s.usage},
          {"sequences", std::move(sequences)}};
}

json kv_event_json(const KvEvent& e, uint64_t index, int64_t timestamp_ms) {
  json blocks = json::array();
  for (BlockId b : e.blocks) blocks.push_back(b.value);
  return {{"index", index},
          {"type", std::string(kv_event_name(e.type))},
          {"seq", e.seq.valid() ? json(e.seq.value) : json(nullptr)},
          {"blocks", std::move(blocks)},
          {"timestamp", timestamp_ms}};
}

}  // namespace helix::server
