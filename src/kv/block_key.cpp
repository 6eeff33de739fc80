#include "kv/block_key.h"

namespace helix {
namespace {

// The splitmix64 / murmur3 finalizer: a bijection on 64 bits with full avalanche.
constexpr uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// One lane: absorbs each value through the finalizer with a lane-specific multiplier, so the two lanes
// are independent functions of the same input.
struct Lane {
  uint64_t state;
  uint64_t multiplier;
  void absorb(uint64_t value) { state = mix64((state ^ value) * multiplier + 0x9e3779b97f4a7c15ull); }
};

}  // namespace

BlockKey hash_block_tokens(const BlockKey& parent, std::span<const int32_t> tokens, uint64_t extra_key) {
  Lane a{0x243f6a8885a308d3ull, 0xff51afd7ed558ccdull};  // seeds: digits of pi
  Lane b{0x13198a2e03707344ull, 0xc4ceb9fe1a85ec53ull};
  for (Lane* lane : {&a, &b}) {
    lane->absorb(parent.hi);
    lane->absorb(parent.lo);
    lane->absorb(extra_key);
    lane->absorb(tokens.size());  // a length prefix keeps (parent, tokens) pairs unambiguous
    for (int32_t token : tokens) lane->absorb(static_cast<uint32_t>(token));
  }
  // The root key (0, 0) is reserved for "no parent"; a real key of zero is astronomically unlikely, but
  // make it impossible.
  BlockKey key{a.state, b.state};
  if (key == kRootKey) key.lo = 1;
  return key;
}

}  // namespace helix
