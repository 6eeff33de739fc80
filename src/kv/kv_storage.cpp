#include "kv/kv_storage.h"

#include <cstdlib>
#include <cstring>
#include <limits>

#include "common/fp16.h"
#include "kv/memory_math.h"

namespace helix {
namespace {

constexpr size_t kAlignBytes = 64;  // a cache line: every row of a 64-value f16 head starts on one

}  // namespace

void KvStorage::FreeDeleter::operator()(std::byte* p) const { std::free(p); }

Result<KvStorage> KvStorage::create(const ModelShape& shape, int64_t num_blocks, int64_t block_size) {
  HELIX_TRY(shape.validate());
  if (shape.kv_dtype != DType::F32 && shape.kv_dtype != DType::F16)
    return make_error(fmt::format("kv_dtype: the paged cache stores f32 or f16, got {}", dtype_name(shape.kv_dtype)),
                      "kv_dtype");
  if (num_blocks < 1 || num_blocks > kMaxNumBlocks)
    return make_error(fmt::format("--num-blocks: must be between 1 and {}, got {}", kMaxNumBlocks, num_blocks),
                      "--num-blocks");
  if (block_size < 1 || block_size > kMaxBlockSize)
    return make_error(fmt::format("block_size: must be between 1 and {}, got {}", kMaxBlockSize, block_size),
                      "block_size");
  if (shape.n_layers > std::numeric_limits<int32_t>::max() || shape.head_dim > std::numeric_limits<int32_t>::max() ||
      shape.n_kv_heads > std::numeric_limits<int32_t>::max())
    return make_error("model: shape too large for a KV pool", "model");

  KvStorage s;
  s.num_blocks_ = num_blocks;
  s.block_size_ = static_cast<int32_t>(block_size);
  s.n_layers_ = static_cast<int32_t>(shape.n_layers);
  s.n_kv_heads_ = static_cast<int32_t>(shape.n_kv_heads);
  s.head_dim_ = static_cast<int32_t>(shape.head_dim);
  s.dtype_ = shape.kv_dtype;
  s.row_bytes_ = dtype_bytes_for(shape.kv_dtype, shape.head_dim);
  const int64_t per_token = shape.kv_bytes_per_token();
  if (per_token > std::numeric_limits<int64_t>::max() / 4 / (num_blocks * block_size))
    return make_error("--num-blocks: pool size overflows", "--num-blocks");
  s.half_bytes_ = s.n_kv_heads_ * block_size * s.row_bytes_;
  s.block_bytes_ = 2 * s.half_bytes_;
  s.layer_bytes_ = num_blocks * s.block_bytes_;

  const int64_t total = s.bytes();
  const size_t rounded = (static_cast<size_t>(total) + kAlignBytes - 1) / kAlignBytes * kAlignBytes;
  auto* p = static_cast<std::byte*>(std::aligned_alloc(kAlignBytes, rounded));
  if (!p)
    return make_error(fmt::format("--num-blocks: cannot allocate {} blocks ({:.2f} MiB of KV cache)", num_blocks,
                                  static_cast<double>(total) / kBytesPerMiB),
                      "--num-blocks");
  std::memset(p, 0, rounded);  // touches every page: the pool is real memory from the start
  s.data_.reset(p);
  return s;
}

Result<int64_t> KvStorage::num_blocks_for_budget(const ModelShape& shape, int64_t budget_mib, int64_t block_size) {
  HELIX_TRY(shape.validate());
  if (budget_mib < 1) return make_error(fmt::format("--kv-budget-mib: must be > 0, got {}", budget_mib), "--kv-budget-mib");
  if (block_size < 1 || block_size > kMaxBlockSize)
    return make_error(fmt::format("block_size: must be between 1 and {}, got {}", kMaxBlockSize, block_size),
                      "block_size");
  if (budget_mib > (int64_t{1} << 30))
    return make_error(fmt::format("--kv-budget-mib: {} MiB is absurdly large", budget_mib), "--kv-budget-mib");
  const int64_t block_bytes = block_size * shape.kv_bytes_per_token();
  const int64_t blocks = budget_mib * kBytesPerMiB / block_bytes;
  if (blocks < 1)
    return make_error(fmt::format("--kv-budget-mib: {} MiB holds no block of {} tokens ({} bytes each for {})",
                                  budget_mib, block_size, block_bytes, shape.name),
                      "--kv-budget-mib");
  if (blocks > kMaxNumBlocks)
    return make_error(fmt::format("--kv-budget-mib: {} MiB makes {} blocks, more than the {} allowed", budget_mib,
                                  blocks, kMaxNumBlocks),
                      "--kv-budget-mib");
  return blocks;
}

void KvStorage::check_slot(int32_t layer, BlockId block, int32_t slot) const {
  HELIX_CHECK(layer >= 0 && layer < n_layers_ && block.value >= 0 && block.value < num_blocks_ && slot >= 0 &&
                  slot < block_size_,
              "KV slot (layer {}, block {}, slot {}) outside a pool of {} layers x {} blocks x {} slots", layer,
              block.value, slot, n_layers_, num_blocks_, block_size_);
}

std::byte* KvStorage::slot_ptr(int32_t layer, BlockId block, bool value, int32_t head, int32_t slot) const {
  return data_.get() + layer * layer_bytes_ + block.value * block_bytes_ + (value ? half_bytes_ : 0) +
         (int64_t{head} * block_size_ + slot) * row_bytes_;
}

void KvStorage::write_token(int32_t layer, BlockId block, int32_t slot, std::span<const float> k,
                            std::span<const float> v) {
  check_slot(layer, block, slot);
  const size_t n = static_cast<size_t>(n_kv_heads_) * static_cast<size_t>(head_dim_);
  HELIX_CHECK(k.size() == n && v.size() == n, "write_token: K has {} values, V {}, expected {}", k.size(), v.size(), n);
  for (int side = 0; side < 2; ++side) {
    const float* src = side == 0 ? k.data() : v.data();
    for (int32_t h = 0; h < n_kv_heads_; ++h) {
      std::byte* dst = slot_ptr(layer, block, side == 1, h, slot);
      const float* row = src + static_cast<size_t>(h) * static_cast<size_t>(head_dim_);
      if (dtype_ == DType::F32) {
        std::memcpy(dst, row, static_cast<size_t>(row_bytes_));
      } else {
        auto* out = reinterpret_cast<uint16_t*>(dst);
        for (int32_t d = 0; d < head_dim_; ++d) out[d] = f32_to_fp16(row[d]);
      }
    }
  }
}

void KvStorage::read_token(int32_t layer, BlockId block, int32_t slot, std::span<float> k, std::span<float> v) const {
  check_slot(layer, block, slot);
  const size_t n = static_cast<size_t>(n_kv_heads_) * static_cast<size_t>(head_dim_);
  HELIX_CHECK(k.size() == n && v.size() == n, "read_token: K has {} values, V {}, expected {}", k.size(), v.size(), n);
  for (int side = 0; side < 2; ++side) {
    float* dst = side == 0 ? k.data() : v.data();
    for (int32_t h = 0; h < n_kv_heads_; ++h) {
      const std::byte* src = slot_ptr(layer, block, side == 1, h, slot);
      float* row = dst + static_cast<size_t>(h) * static_cast<size_t>(head_dim_);
      if (dtype_ == DType::F32) {
        std::memcpy(row, src, static_cast<size_t>(row_bytes_));
      } else {
        const auto* in = reinterpret_cast<const uint16_t*>(src);
        for (int32_t d = 0; d < head_dim_; ++d) row[d] = fp16_to_f32(in[d]);
      }
    }
  }
}

void KvStorage::copy_slots(BlockId src, BlockId dst, int32_t n_slots) {
  HELIX_CHECK(n_slots >= 0 && n_slots <= block_size_, "copy_slots: {} slots, blocks hold {}", n_slots, block_size_);
  if (n_slots == 0) return;
  check_slot(0, src, 0);
  check_slot(0, dst, 0);
  HELIX_CHECK(src != dst, "copy_slots: block {} onto itself", src.value);
  // Each head's slots are contiguous, so a prefix of slots is one memcpy per (layer, K|V, head).
  const size_t n_bytes = static_cast<size_t>(n_slots) * static_cast<size_t>(row_bytes_);
  for (int32_t layer = 0; layer < n_layers_; ++layer)
    for (int side = 0; side < 2; ++side)
      for (int32_t h = 0; h < n_kv_heads_; ++h)
        std::memcpy(slot_ptr(layer, dst, side == 1, h, 0), slot_ptr(layer, src, side == 1, h, 0), n_bytes);
}

void KvStorage::zero_block(BlockId block) {
  check_slot(0, block, 0);
  // A block's K and V halves are adjacent within a layer: one memset per layer.
  for (int32_t layer = 0; layer < n_layers_; ++layer)
    std::memset(data_.get() + layer * layer_bytes_ + block.value * block_bytes_, 0, static_cast<size_t>(block_bytes_));
}

PagedKv KvStorage::layer(int32_t layer) const {
  HELIX_CHECK(layer >= 0 && layer < n_layers_, "layer {} of {}", layer, n_layers_);
  PagedKv view;
  view.k = data_.get() + layer * layer_bytes_;
  view.v = view.k + half_bytes_;
  view.dtype = dtype_;
  view.block_stride_bytes = block_bytes_;
  view.head_stride_bytes = int64_t{block_size_} * row_bytes_;
  view.slot_stride_bytes = row_bytes_;
  view.block_size = block_size_;
  view.n_kv_heads = n_kv_heads_;
  view.head_dim = head_dim_;
  return view;
}

}  // namespace helix
