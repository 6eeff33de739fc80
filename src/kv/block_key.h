// Prefix-cache keys. A full block's key hashes its parent's key, its token ids and an extra key (model or
// adapter identity), so equal keys mean equal whole prefixes, not just equal blocks.
//
// Collisions: the key is 128 bits (two independently seeded 64-bit lanes), and a cached block also keeps
// its token ids, which a lookup compares. A wrong prefix hit would need two different prefixes whose
// parent keys collide in all 128 bits while their last blocks hold identical tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace helix {

struct BlockKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  constexpr bool operator==(const BlockKey&) const = default;
};

// The first block of a sequence has no parent: its parent key is kRootKey.
inline constexpr BlockKey kRootKey{0, 0};

// Key of a full block: hash(parent key, token ids, extra key).
BlockKey hash_block_tokens(const BlockKey& parent, std::span<const int32_t> tokens, uint64_t extra_key);

}  // namespace helix

template <>
struct std::hash<helix::BlockKey> {
  // The lanes are already well mixed; either one alone is a good bucket index.
  size_t operator()(const helix::BlockKey& key) const noexcept { return static_cast<size_t>(key.lo ^ key.hi); }
};
