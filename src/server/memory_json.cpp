#include "server/memory_json.h"

namespace helix {

nlohmann::json memory_comparison_json(const MemoryComparison& c) {
  nlohmann::json j;
  // The contract: these ten fields, with these names and meanings ("mb" = MiB).
  j["traditional_memory_mb"] = round2(c.traditional_mib());
  j["paged_memory_mb"] = round2(c.paged_mib());
  j["memory_saved_mb"] = round2(c.saved_mib());
  j["memory_saved_percent"] = round2(c.saved_percent());
  j["num_blocks"] = c.num_blocks;
  j["block_size"] = c.block_size;
  j["blocks_used"] = c.blocks_used;
  j["blocks_free"] = c.blocks_free;
  j["utilization_percent"] = round2(c.utilization_percent());
  j["sequence_length"] = c.sequence_length;
  // Extras: inputs echoed, exact bytes, waste and capacity.
  j["model"] = c.model;
  j["kv_dtype"] = c.kv_dtype;
  j["max_seq_len"] = c.max_seq_len;
  j["batch_size"] = c.batch_size;
  j["kv_bytes_per_token"] = c.kv_bytes_per_token;
  j["traditional_bytes"] = c.traditional_bytes;
  j["paged_bytes"] = c.paged_bytes;
  j["memory_saved_bytes"] = c.saved_bytes;
  j["pool_bytes"] = c.pool_bytes;
  j["pool_memory_mb"] = round2(c.pool_mib());
  j["pool_tokens"] = c.pool_tokens;
  j["traditional_wasted_tokens"] = c.traditional_wasted_tokens;
  j["paged_wasted_tokens"] = c.paged_wasted_tokens;
  j["sequences_fit_traditional"] = c.sequences_fit_traditional;
  j["sequences_fit_paged"] = c.sequences_fit_paged;
  return j;
}

}  // namespace helix
