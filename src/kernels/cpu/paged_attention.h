// Paged attention on the CPU: one sequence, one layer, K/V read from scattered pool blocks through the
// sequence's block table. The kernel sees raw memory and strides only; it knows nothing of the allocator.
//
// Query token i (0 <= i < n_queries) sits at position first_pos + i and attends to keys 0 .. first_pos + i
// (causal). Decode is n_queries = 1 at pos; prompt processing passes the whole chunk in one call so every
// K/V block is read once per KV head for all its queries. Query head h reads KV head h / (n_heads /
// n_kv_heads) (grouped-query attention). Scores are scaled by 1/sqrt(head_dim); the softmax is computed
// online in one pass over the blocks, so K and V are each read exactly once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/dtype.h"

namespace helix {

// One layer's K and V in a paged pool. Element (block b, kv head g, slot s, dim d) of K is at
//   k + b * block_stride_bytes + g * head_stride_bytes + s * slot_stride_bytes + d * dtype size,
// and the same for V from v. head_dim values of one slot are contiguous.
struct PagedKv {
  const std::byte* k = nullptr;
  const std::byte* v = nullptr;
  DType dtype = DType::F32;  // F32 or F16
  int64_t block_stride_bytes = 0;
  int64_t head_stride_bytes = 0;
  int64_t slot_stride_bytes = 0;
  int32_t block_size = 0;  // slots per block
  int32_t n_kv_heads = 0;
  int32_t head_dim = 0;
};

struct AttentionQueries {
  std::span<const float> q;  // [n_queries][n_heads][head_dim]
  int32_t n_queries = 1;
  int32_t n_heads = 0;
  int64_t first_pos = 0;  // position of query 0; the block table must cover first_pos + n_queries tokens
};

enum class AttentionIsa : uint8_t { Scalar, Avx2, Avx512 };

std::string_view attention_isa_name(AttentionIsa isa);
bool attention_isa_supported(AttentionIsa isa);  // by this CPU
// Chosen once: HELIX_ISA=scalar|avx2|avx512 if set (falls back, with a warning, when the CPU lacks it),
// else the best the CPU supports.
AttentionIsa attention_isa();

// out: [n_queries][n_heads][head_dim]. Shapes and table coverage are checked; a mismatch is a bug and aborts.
void paged_attention(const AttentionQueries& queries, const PagedKv& kv, std::span<const int32_t> block_table,
                     std::span<float> out);
// The same with an explicit code path (tests compare each against the scalar reference).
void paged_attention_isa(AttentionIsa isa, const AttentionQueries& queries, const PagedKv& kv,
                         std::span<const int32_t> block_table, std::span<float> out);

}  // namespace helix
