// Ids are types: a block id cannot be passed where a sequence id is expected.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace helix {

// Index of a block in the pool (0 .. num_blocks-1). Block tables hold the raw int32 values, which is what
// the attention kernels read.
struct BlockId {
  int32_t value = -1;
  constexpr bool valid() const { return value >= 0; }
  constexpr auto operator<=>(const BlockId&) const = default;
};

// A sequence the cache holds K/V for (one request, or one branch of a request when sampling in parallel).
struct SeqId {
  int64_t value = -1;
  constexpr bool valid() const { return value >= 0; }
  constexpr auto operator<=>(const SeqId&) const = default;
};

}  // namespace helix

template <>
struct std::hash<helix::BlockId> {
  size_t operator()(helix::BlockId id) const noexcept { return std::hash<int32_t>{}(id.value); }
};

template <>
struct std::hash<helix::SeqId> {
  size_t operator()(helix::SeqId id) const noexcept { return std::hash<int64_t>{}(id.value); }
};
