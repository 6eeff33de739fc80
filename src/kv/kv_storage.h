// KvStorage: the pool's K/V memory, allocated and zeroed once for num_blocks blocks.
//
// Layout (chosen for the attention kernel, which walks one layer's blocks for one KV head at a time):
//
//   [layer][block][K|V][kv_head][slot][head_dim]
//
// One layer's blocks are packed together, and within a block each KV head's slots are contiguous, so the
// kernel reads block_size * head_dim consecutive values per (block, head). Sizes:
//   row_bytes   = dtype bytes of head_dim values          (one slot of one head)
//   half_bytes  = n_kv_heads * block_size * row_bytes     (K, or V, of one block in one layer)
//   block_bytes = 2 * half_bytes                          (one block in one layer)
//   layer_bytes = num_blocks * block_bytes
//   bytes()     = n_layers * layer_bytes = num_blocks * block_size * kv_bytes_per_token   (memory_math.h)
// Rows are whole dtype blocks, so a quantized KV type (q8_0: 32 values per block) needs head_dim % 32 == 0.
// Today f32 and f16 are stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "common/dtype.h"
#include "common/result.h"
#include "kernels/cpu/paged_attention.h"
#include "kv/kv_ids.h"
#include "model/model_shape.h"

namespace helix {

class KvStorage {
 public:
  // Errors name the culprit: "kv_dtype: ...", "--num-blocks: ...", "block_size: ...".
  static Result<KvStorage> create(const ModelShape& shape, int64_t num_blocks, int64_t block_size);
  // Whole blocks a budget of budget_mib MiB holds: budget / (block_size * kv_bytes_per_token).
  static Result<int64_t> num_blocks_for_budget(const ModelShape& shape, int64_t budget_mib, int64_t block_size);

  int64_t bytes() const { return n_layers_ * layer_bytes_; }
  int64_t num_blocks() const { return num_blocks_; }
  int32_t block_size() const { return block_size_; }
  int32_t n_layers() const { return n_layers_; }
  int32_t n_kv_heads() const { return n_kv_heads_; }
  int32_t head_dim() const { return head_dim_; }
  DType dtype() const { return dtype_; }
  int64_t row_bytes() const { return row_bytes_; }
  int64_t block_bytes() const { return block_bytes_; }  // one block, one layer, K and V

  // Writes one token's K and V ([n_kv_heads][head_dim] f32 each) for a layer at (block, slot), converting
  // to the storage dtype. Out-of-range arguments are bugs and abort.
  void write_token(int32_t layer, BlockId block, int32_t slot, std::span<const float> k, std::span<const float> v);
  // Reads them back as f32 (tests, debugging).
  void read_token(int32_t layer, BlockId block, int32_t slot, std::span<float> k, std::span<float> v) const;
  // Copies slots [0, n_slots) of every layer's K and V from src to dst (copy-on-write).
  void copy_slots(BlockId src, BlockId dst, int32_t n_slots);
  // Zeroes every layer's K and V of a block (a contiguous reservation is written when taken, as a device
  // allocation would be).
  void zero_block(BlockId block);

  // The kernel's view of one layer.
  PagedKv layer(int32_t layer) const;
  std::span<const std::byte> raw() const { return {data_.get(), static_cast<size_t>(bytes())}; }

 private:
  struct FreeDeleter {
    void operator()(std::byte* p) const;
  };
  KvStorage() = default;
  std::byte* slot_ptr(int32_t layer, BlockId block, bool value, int32_t head, int32_t slot) const;
  void check_slot(int32_t layer, BlockId block, int32_t slot) const;

  std::unique_ptr<std::byte[], FreeDeleter> data_;
  int64_t num_blocks_ = 0;
  int32_t block_size_ = 0;
  int32_t n_layers_ = 0;
  int32_t n_kv_heads_ = 0;
  int32_t head_dim_ = 0;
  DType dtype_ = DType::F32;
  int64_t row_bytes_ = 0;
  int64_t half_bytes_ = 0;
  int64_t block_bytes_ = 0;
  int64_t layer_bytes_ = 0;
};

}  // namespace helix
