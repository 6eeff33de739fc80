// Exact block-pool behaviour, in the manner of vLLM's tests/v1/core/test_prefix_caching.py: block ids
// handed out in order, free order, ref counts, evict on reuse.
#include "kv/block_pool.h"

#include <vector>

#include <gtest/gtest.h>

namespace helix {
namespace {

std::vector<int32_t> ids(const std::vector<BlockId>& blocks) {
  std::vector<int32_t> out;
  for (BlockId b : blocks) out.push_back(b.value);
  return out;
}

std::vector<int32_t> iota_tokens(int32_t from, int32_t n) {
  std::vector<int32_t> t;
  for (int32_t i = 0; i < n; ++i) t.push_back(from + i);
  return t;
}

TEST(BlockPool, AllocatesInIdOrderWithRefOne) {
  BlockPool pool(10, 4);
  auto a = pool.allocate(3);
  ASSERT_TRUE(a);
  EXPECT_EQ(ids(*a), (std::vector<int32_t>{0, 1, 2}));
  for (BlockId b : *a) EXPECT_EQ(pool.block(b).ref_count, 1);
  EXPECT_EQ(pool.num_free(), 7);
  EXPECT_EQ(pool.num_used(), 3);
  EXPECT_DOUBLE_EQ(pool.usage(), 0.3);
  auto b = pool.allocate(2);
  EXPECT_EQ(ids(*b), (std::vector<int32_t>{3, 4}));
  EXPECT_TRUE(pool.check_invariants());
}

TEST(BlockPool, FreedBlocksGoToTheTailInTheOrderGiven) {
  BlockPool pool(6, 4);
  auto a = *pool.allocate(4);  // 0 1 2 3; free queue 4 5
  const BlockId order[] = {a[2], a[0]};
  pool.free(order);
  EXPECT_EQ(ids(pool.free_queue_order()), (std::vector<int32_t>{4, 5, 2, 0}));
  EXPECT_EQ(ids(*pool.allocate(3)), (std::vector<int32_t>{4, 5, 2}));  // least recently freed first
  EXPECT_TRUE(pool.check_invariants());
}

TEST(BlockPool, SharedBlockIsFreeOnlyWhenTheLastHolderLetsGo) {
  BlockPool pool(4, 4);
  auto a = *pool.allocate(1);
  pool.touch(a);
  EXPECT_EQ(pool.block(a[0]).ref_count, 2);
  pool.free(a);
  EXPECT_EQ(pool.block(a[0]).ref_count, 1);
  EXPECT_EQ(pool.num_free(), 3);
  pool.free(a);
  EXPECT_EQ(pool.block(a[0]).ref_count, 0);
  EXPECT_EQ(pool.num_free(), 4);
  EXPECT_EQ(ids(pool.free_queue_order()), (std::vector<int32_t>{1, 2, 3, 0}));
}

TEST(BlockPool, AllOrNothingAndTheErrorNamesNeededVersusFree) {
  BlockPool pool(5, 4);
  ASSERT_TRUE(pool.allocate(3));
  const auto before = pool.free_queue_order();
  auto r = pool.allocate(3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "allocate: need 3 blocks, 2 free of 5");
  EXPECT_EQ(pool.free_queue_order(), before);
  EXPECT_EQ(pool.num_free(), 2);
  EXPECT_TRUE(pool.allocate(2));
  EXPECT_FALSE(pool.allocate(1));
  EXPECT_TRUE(pool.allocate(0));
}

TEST(BlockPool, CachedFreeBlockIsFoundTouchedOutOfTheQueueThenEvictedOnReuse) {
  BlockPool pool(4, 2);
  auto a = *pool.allocate(2);  // 0 1
  const auto t0 = iota_tokens(10, 2), t1 = iota_tokens(20, 2);
  const BlockKey k0 = hash_block_tokens(kRootKey, t0, 0);
  const BlockKey k1 = hash_block_tokens(k0, t1, 0);
  EXPECT_TRUE(pool.cache_full_block(a[0], k0, t0));
  EXPECT_TRUE(pool.cache_full_block(a[1], k1, t1));
  EXPECT_EQ(pool.num_cached(), 2);
  const BlockId tail_first[] = {a[1], a[0]};
  pool.free(tail_first);
  EXPECT_EQ(ids(pool.free_queue_order()), (std::vector<int32_t>{2, 3, 1, 0}));
  // A freed block keeps its key: still findable.
  ASSERT_EQ(pool.find_cached(k0, t0), a[0]);
  EXPECT_EQ(pool.find_cached(k0, t1), std::nullopt);  // same key, other tokens: no hit
  // A hit on a free cached block takes it out of the middle of the queue.
  const BlockId hit[] = {a[0]};
  pool.touch(hit);
  EXPECT_EQ(pool.block(a[0]).ref_count, 1);
  EXPECT_EQ(ids(pool.free_queue_order()), (std::vector<int32_t>{2, 3, 1}));
  // Reusing block 1 (third in the queue) drops it from the index.
  std::vector<KvEvent> events;
  pool.set_event_sink([&](const KvEvent& e) { events.push_back(e); });
  EXPECT_EQ(ids(*pool.allocate(3)), (std::vector<int32_t>{2, 3, 1}));
  EXPECT_EQ(pool.find_cached(k1, t1), std::nullopt);
  EXPECT_FALSE(pool.is_cached(a[1]));
  EXPECT_TRUE(pool.is_cached(a[0]));
  EXPECT_EQ(pool.num_cached(), 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, KvEventType::Evict);
  EXPECT_EQ(ids(events[0].blocks), (std::vector<int32_t>{1}));
  EXPECT_TRUE(pool.check_invariants());
}

TEST(BlockPool, DuplicatePrefixIsNotIndexedTwice) {
  BlockPool pool(4, 2);
  auto a = *pool.allocate(2);
  const auto t = iota_tokens(1, 2);
  const BlockKey k = hash_block_tokens(kRootKey, t, 0);
  EXPECT_TRUE(pool.cache_full_block(a[0], k, t));
  EXPECT_FALSE(pool.cache_full_block(a[1], k, t));
  EXPECT_EQ(pool.find_cached(k, t), a[0]);
  EXPECT_FALSE(pool.is_cached(a[1]));
  EXPECT_TRUE(pool.check_invariants());
}

TEST(BlockPoolDeathTest, DoubleFreeAborts) {
  BlockPool pool(2, 4);
  auto a = *pool.allocate(1);
  pool.free(a);
  EXPECT_DEATH(pool.free(a), "double free of block 0");
}

TEST(BlockKey, DependsOnParentTokensAndExtraKey) {
  const auto t = iota_tokens(5, 16);
  const BlockKey a = hash_block_tokens(kRootKey, t, 0);
  EXPECT_EQ(a, hash_block_tokens(kRootKey, t, 0));
  EXPECT_NE(a, kRootKey);
  EXPECT_NE(a, hash_block_tokens(kRootKey, t, 1));
  EXPECT_NE(a, hash_block_tokens(a, t, 0));
  auto u = t;
  u[15] = 6;
  EXPECT_NE(a, hash_block_tokens(kRootKey, u, 0));
  EXPECT_NE(a.hi, a.lo);  // independent lanes
}

}  // namespace
}  // namespace helix
