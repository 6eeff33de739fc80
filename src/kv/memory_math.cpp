#include "kv/memory_math.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace helix {

double round2(double value) { return std::round(value * 100.0) / 100.0; }

double MemoryComparison::saved_percent() const {
  return traditional_bytes == 0 ? 0.0 : 100.0 * static_cast<double>(saved_bytes) / traditional_bytes;
}

double MemoryComparison::utilization_percent() const {
  return num_blocks == 0 ? 0.0 : 100.0 * static_cast<double>(blocks_used) / num_blocks;
}

namespace {

Status check_range(const char* param, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi)
    return make_error(fmt::format("{}: must be between {} and {}, got {}", param, lo, hi, value), param);
  return {};
}

}  // namespace

Result<MemoryComparison> compare_memory(const MemoryQuery& q) {
  HELIX_TRY(q.shape.validate());
  const int64_t max_seq_len = q.max_seq_len.value_or(q.shape.context_length);
  HELIX_TRY(check_range("max_seq_len", max_seq_len, 1, q.shape.context_length));
  HELIX_TRY(check_range("sequence_length", q.sequence_length, 1, max_seq_len));
  HELIX_TRY(check_range("block_size", q.block_size, 1, kMaxBlockSize));
  HELIX_TRY(check_range("num_blocks", q.num_blocks, 1, kMaxNumBlocks));
  HELIX_TRY(check_range("batch_size", q.batch_size, 1, kMaxBatchSize));

  MemoryComparison c;
  c.model = q.shape.name;
  c.kv_dtype = std::string(dtype_name(q.shape.kv_dtype));
  c.kv_bytes_per_token = q.shape.kv_bytes_per_token();
  c.sequence_length = q.sequence_length;
  c.max_seq_len = max_seq_len;
  c.batch_size = q.batch_size;
  c.block_size = q.block_size;
  c.num_blocks = q.num_blocks;

  const int64_t blocks_per_sequence = blocks_for_tokens(q.sequence_length, q.block_size);
  c.blocks_used = q.batch_size * blocks_per_sequence;
  if (c.blocks_used > q.num_blocks)
    return make_error(fmt::format("num_blocks: {} sequence{} of {} tokens need{} {} blocks of {} tokens, the pool has {}",
                                  q.batch_size, q.batch_size == 1 ? "" : "s", q.sequence_length,
                                  q.batch_size == 1 ? "s" : "", c.blocks_used, q.block_size, q.num_blocks),
                      "num_blocks");
  // Sizes are bounded above (2^31 per shape field, 2^24 blocks of 2^12 tokens), so these products fit in
  // int64 except for absurd shapes; guard the largest one explicitly.
  const int64_t max_bytes = std::numeric_limits<int64_t>::max() / 4;
  if (c.kv_bytes_per_token > max_bytes / (q.num_blocks * q.block_size) ||
      c.kv_bytes_per_token > max_bytes / (q.batch_size * max_seq_len))
    return make_error("model: KV bytes per token too large for this pool", "model");

  c.traditional_bytes = q.batch_size * max_seq_len * c.kv_bytes_per_token;
  c.paged_bytes = c.blocks_used * q.block_size * c.kv_bytes_per_token;
  c.saved_bytes = c.traditional_bytes - c.paged_bytes;
  c.blocks_free = q.num_blocks - c.blocks_used;
  c.pool_tokens = q.num_blocks * q.block_size;
  c.pool_bytes = c.pool_tokens * c.kv_bytes_per_token;
  c.traditional_wasted_tokens = q.batch_size * (max_seq_len - q.sequence_length);
  c.paged_wasted_tokens = q.batch_size * (blocks_per_sequence * q.block_size - q.sequence_length);

  const Capacity cap = kv_capacity(q.shape, c.pool_bytes, q.sequence_length, max_seq_len, q.block_size);
  c.sequences_fit_traditional = cap.contiguous_sequences;
  c.sequences_fit_paged = cap.paged_sequences;
  return c;
}

Capacity kv_capacity(const ModelShape& shape, int64_t budget_bytes, int64_t sequence_length, int64_t max_seq_len,
                     int64_t block_size) {
  Capacity cap;
  const int64_t per_token = shape.kv_bytes_per_token();
  if (per_token <= 0 || budget_bytes <= 0 || sequence_length <= 0 || max_seq_len <= 0 || block_size <= 0) return cap;
  cap.contiguous_sequences = budget_bytes / (max_seq_len * per_token);
  cap.pool_blocks = budget_bytes / (block_size * per_token);
  cap.paged_sequences = cap.pool_blocks / blocks_for_tokens(sequence_length, block_size);
  return cap;
}

}  // namespace helix
