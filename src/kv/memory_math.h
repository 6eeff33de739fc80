// Exact KV-cache memory arithmetic: a contiguous cache that reserves max_seq_len per sequence versus a
// paged cache that takes fixed-size blocks on demand. All byte figures are exact integers; the "mib"
// figures divide by 2^20. See design NOTES.md section 1 for the pinned reference case.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.h"
#include "model/model_shape.h"

namespace helix {

inline constexpr int64_t kBytesPerMiB = int64_t{1} << 20;
inline constexpr int64_t kDefaultBlockSize = 16;
inline constexpr int64_t kDefaultNumBlocks = 1024;
inline constexpr int64_t kDefaultSequenceLength = 128;
inline constexpr int64_t kMaxBlockSize = 4096;
inline constexpr int64_t kMaxNumBlocks = int64_t{1} << 24;
inline constexpr int64_t kMaxBatchSize = 1 << 16;

// Blocks a sequence of `tokens` tokens holds: ceil(tokens / block_size).
constexpr int64_t blocks_for_tokens(int64_t tokens, int64_t block_size) {
  return (tokens + block_size - 1) / block_size;
}

struct MemoryQuery {
  ModelShape shape;                               // includes kv_dtype
  int64_t sequence_length = kDefaultSequenceLength;  // tokens held by each sequence
  std::optional<int64_t> max_seq_len;             // unset: the model's context length
  int64_t block_size = kDefaultBlockSize;         // tokens per block
  int64_t num_blocks = kDefaultNumBlocks;         // blocks in the paged pool
  int64_t batch_size = 1;                         // sequences, all of sequence_length tokens
};

struct MemoryComparison {
  std::string model;
  std::string kv_dtype;
  int64_t kv_bytes_per_token = 0;
  int64_t sequence_length = 0;
  int64_t max_seq_len = 0;
  int64_t batch_size = 0;
  int64_t block_size = 0;
  int64_t num_blocks = 0;

  int64_t traditional_bytes = 0;  // batch * max_seq_len * per_token
  int64_t paged_bytes = 0;        // blocks_used * block_size * per_token
  int64_t saved_bytes = 0;        // traditional - paged (negative only if rounding up to a block exceeds max_seq_len)
  int64_t blocks_used = 0;        // batch * ceil(sequence_length / block_size)
  int64_t blocks_free = 0;        // num_blocks - blocks_used
  int64_t pool_bytes = 0;         // num_blocks * block_size * per_token
  int64_t pool_tokens = 0;        // num_blocks * block_size
  int64_t traditional_wasted_tokens = 0;  // reserved slots holding no token
  int64_t paged_wasted_tokens = 0;        // unfilled tail slots of last blocks

  // How many sequences of sequence_length tokens the pool's bytes hold under each scheme.
  int64_t sequences_fit_traditional = 0;  // pool_bytes / (max_seq_len * per_token)
  int64_t sequences_fit_paged = 0;        // num_blocks / ceil(sequence_length / block_size)

  double traditional_mib() const { return static_cast<double>(traditional_bytes) / kBytesPerMiB; }
  double paged_mib() const { return static_cast<double>(paged_bytes) / kBytesPerMiB; }
  double saved_mib() const { return static_cast<double>(saved_bytes) / kBytesPerMiB; }
  double pool_mib() const { return static_cast<double>(pool_bytes) / kBytesPerMiB; }
  double saved_percent() const;        // 100 * saved / traditional
  double utilization_percent() const;  // 100 * blocks_used / num_blocks
};

// Validates the query (every error names its parameter) and computes the comparison.
Result<MemoryComparison> compare_memory(const MemoryQuery& query);

// Capacity: how many sequences of `sequence_length` tokens fit in `budget_bytes` of KV memory.
struct Capacity {
  int64_t contiguous_sequences = 0;  // budget / (max_seq_len * per_token)
  int64_t paged_sequences = 0;       // (budget / (block_size * per_token)) / ceil(len / block_size)
  int64_t pool_blocks = 0;           // whole blocks the budget holds
};
Capacity kv_capacity(const ModelShape& shape, int64_t budget_bytes, int64_t sequence_length, int64_t max_seq_len,
                     int64_t block_size);

// Rounds to 2 decimals, as the API reports percentages and MiB.
double round2(double value);

}  // namespace helix
