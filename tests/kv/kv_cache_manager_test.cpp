// Exact KvCacheManager behaviour: block ids, ref counts, free order, prefix hits, copy-on-write, rollback.
#include "kv/kv_cache_manager.h"

#include <numeric>
#include <vector>

#include <gtest/gtest.h>

namespace helix {
namespace {

std::vector<int32_t> ids(const std::vector<BlockId>& blocks) {
  std::vector<int32_t> out;
  for (BlockId b : blocks) out.push_back(b.value);
  return out;
}

std::vector<int32_t> table_of(const KvCacheManager& m, int64_t seq) {
  const BlockTable* t = m.table(SeqId{seq});
  if (!t) return {};
  return {t->ids().begin(), t->ids().end()};
}

std::vector<int32_t> tokens(int32_t from, int32_t n) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), from);
  return t;
}

KvCacheManager make(int32_t num_blocks, int32_t block_size, bool prefix = true) {
  KvCacheConfig c;
  c.num_blocks = num_blocks;
  c.block_size = block_size;
  c.enable_prefix_caching = prefix;
  return std::move(KvCacheManager::create(c).value());
}

// Adds a sequence, looks its prompt up, allocates the rest, and caches its full blocks.
PrefixHit admit(KvCacheManager& m, int64_t seq, const std::vector<int32_t>& prompt) {
  EXPECT_TRUE(m.add_sequence(SeqId{seq}));
  PrefixHit hit = m.find_cached_prefix(prompt);
  auto r = m.allocate_slots(SeqId{seq}, static_cast<int64_t>(prompt.size()) - hit.num_tokens, hit);
  EXPECT_TRUE(r) << r.error().message;
  EXPECT_TRUE(m.cache_full_blocks(SeqId{seq}, prompt));
  return hit;
}

TEST(KvCacheManager, ConfigErrorsNameTheFlag) {
  KvCacheConfig c;
  c.num_blocks = 0;
  auto m = KvCacheManager::create(c);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().param, "--num-blocks");
  c.num_blocks = 8;
  c.block_size = 0;
  m = KvCacheManager::create(c);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().param, "block_size");
}

TEST(KvCacheManager, TakesANewBlockOnlyWhenTheLastIsFull) {
  auto m = make(10, 4);
  ASSERT_TRUE(m.add_sequence(SeqId{1}));
  auto a = m.allocate_slots(SeqId{1}, 6);  // ceil(6/4) = 2 blocks
  ASSERT_TRUE(a);
  EXPECT_EQ(ids(a->new_blocks), (std::vector<int32_t>{0, 1}));
  EXPECT_TRUE(a->copies.empty());
  EXPECT_EQ(m.table(SeqId{1})->last_block_fill(), 2);
  a = m.allocate_slots(SeqId{1}, 2);  // fills block 1: no new block
  EXPECT_TRUE(a->new_blocks.empty());
  EXPECT_EQ(m.table(SeqId{1})->last_block_fill(), 4);
  a = m.allocate_slots(SeqId{1}, 1);
  EXPECT_EQ(ids(a->new_blocks), (std::vector<int32_t>{2}));
  EXPECT_EQ(m.table(SeqId{1})->num_tokens(), 9);
  EXPECT_EQ(m.table(SeqId{1})->last_block_fill(), 1);
  EXPECT_EQ(m.num_used_blocks(), 3);
  EXPECT_EQ(m.num_free_blocks(), 7);
  EXPECT_DOUBLE_EQ(m.usage(), 0.3);
  auto slot = m.slot_of(SeqId{1}, 6);  // block index 1, slot 2
  ASSERT_TRUE(slot);
  EXPECT_EQ(slot->block.value, 1);
  EXPECT_EQ(slot->slot, 2);
  EXPECT_FALSE(m.slot_of(SeqId{1}, 9));
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, ExhaustionIsAnErrorValueAndChangesNothing) {
  auto m = make(4, 4);
  ASSERT_TRUE(m.add_sequence(SeqId{1}));
  ASSERT_TRUE(m.add_sequence(SeqId{2}));
  ASSERT_TRUE(m.allocate_slots(SeqId{1}, 10));  // 3 blocks
  const auto queue_before = ids(m.free_queue_order());
  auto r = m.allocate_slots(SeqId{2}, 8);  // 2 blocks, 1 free
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "allocate_slots: sequence 2 needs 2 more blocks for 8 tokens, 1 free of 4");
  EXPECT_EQ(m.num_blocks_needed(SeqId{2}, 8).value(), 2);
  EXPECT_EQ(m.table(SeqId{2})->num_tokens(), 0);
  EXPECT_EQ(m.table(SeqId{2})->num_blocks(), 0);
  EXPECT_EQ(ids(m.free_queue_order()), queue_before);
  // Filling the last block of sequence 1 needs no block; a 13th token does.
  EXPECT_TRUE(m.allocate_slots(SeqId{1}, 2));
  EXPECT_TRUE(m.allocate_slots(SeqId{2}, 4));
  EXPECT_FALSE(m.allocate_slots(SeqId{1}, 1));
  EXPECT_EQ(m.table(SeqId{1})->num_tokens(), 12);
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, BadCallsAreErrorsNotCrashes) {
  auto m = make(4, 4);
  EXPECT_FALSE(m.allocate_slots(SeqId{9}, 1));
  EXPECT_FALSE(m.free_sequence(SeqId{9}));
  EXPECT_FALSE(m.truncate(SeqId{9}, 0));
  EXPECT_FALSE(m.fork(SeqId{9}, SeqId{10}));
  EXPECT_FALSE(m.add_sequence(SeqId{-1}));
  ASSERT_TRUE(m.add_sequence(SeqId{1}));
  EXPECT_FALSE(m.add_sequence(SeqId{1}));
  EXPECT_FALSE(m.allocate_slots(SeqId{1}, -1));
  EXPECT_FALSE(m.allocate_slots(SeqId{1}, 17));  // more than the whole pool
  ASSERT_TRUE(m.allocate_slots(SeqId{1}, 3));
  EXPECT_FALSE(m.truncate(SeqId{1}, 4));
  EXPECT_FALSE(m.fork(SeqId{1}, SeqId{1}));
  EXPECT_FALSE(m.cache_full_blocks(SeqId{1}, tokens(0, 5)));  // more tokens than held
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, PrefixHitsReuseExactBlockIdsAndStopBeforeTheLastToken) {
  auto m = make(10, 4);
  const auto a = tokens(0, 14);  // 3 full blocks + 2 tokens
  EXPECT_EQ(admit(m, 1, a).num_tokens, 0);
  EXPECT_EQ(table_of(m, 1), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(m.num_cached_blocks(), 3);  // the partial block 3 is not cached
  EXPECT_TRUE(m.is_cached(BlockId{2}));
  EXPECT_FALSE(m.is_cached(BlockId{3}));

  // Same 12-token start, other tail: hits blocks 0 1 2 and takes one new block.
  auto b = tokens(0, 12);
  b.insert(b.end(), {100, 101, 102});
  const PrefixHit hit = admit(m, 2, b);
  EXPECT_EQ(ids(hit.blocks), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(hit.num_tokens, 12);
  EXPECT_EQ(table_of(m, 2), (std::vector<int32_t>{0, 1, 2, 4}));
  EXPECT_EQ(m.ref_count(BlockId{0}), 2);
  EXPECT_EQ(m.ref_count(BlockId{2}), 2);
  EXPECT_EQ(m.ref_count(BlockId{3}), 1);
  EXPECT_EQ(m.ref_count(BlockId{4}), 1);

  // A prompt of exactly the 3 cached blocks hits only 2: the last token must still be computed.
  EXPECT_EQ(m.find_cached_prefix(tokens(0, 12)).num_tokens, 8);
  EXPECT_EQ(m.find_cached_prefix(tokens(0, 13)).num_tokens, 12);
  EXPECT_EQ(m.find_cached_prefix(tokens(1, 13)).num_tokens, 0);  // different first block
  EXPECT_EQ(m.find_cached_prefix(tokens(0, 13), /*extra_key=*/7).num_tokens, 0);  // other model / adapter
  EXPECT_EQ(m.find_cached_prefix({}).num_tokens, 0);
  // Lookups: 2 admissions + 5 here; queried 14 + 15 + 12 + 13 + 13 + 13 + 0; hit 12 + 8 + 12.
  EXPECT_EQ(m.prefix_stats().lookups, 7);
  EXPECT_EQ(m.prefix_stats().queried_tokens, 80);
  EXPECT_EQ(m.prefix_stats().hit_tokens, 32);

  // Frees go last block first: sequence 1 releases 3 2 1 0, only 3 reaches ref 0.
  ASSERT_TRUE(m.free_sequence(SeqId{1}));
  EXPECT_EQ(ids(m.free_queue_order()), (std::vector<int32_t>{5, 6, 7, 8, 9, 3}));
  ASSERT_TRUE(m.free_sequence(SeqId{2}));
  EXPECT_EQ(ids(m.free_queue_order()), (std::vector<int32_t>{5, 6, 7, 8, 9, 3, 4, 2, 1, 0}));
  EXPECT_EQ(m.num_cached_blocks(), 3);  // freed blocks keep their keys

  // The same prompt again: the freed cached blocks 0 1 2 come back, the new block is the queue's head.
  const PrefixHit again = admit(m, 3, a);
  EXPECT_EQ(ids(again.blocks), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(table_of(m, 3), (std::vector<int32_t>{0, 1, 2, 5}));
  EXPECT_EQ(ids(m.free_queue_order()), (std::vector<int32_t>{6, 7, 8, 9, 3, 4}));
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, CachedFreeBlocksAreEvictedWhenReused) {
  auto m = make(6, 4);
  admit(m, 1, tokens(0, 9));  // blocks 0 1 (cached) 2
  ASSERT_TRUE(m.free_sequence(SeqId{1}));
  EXPECT_EQ(ids(m.free_queue_order()), (std::vector<int32_t>{3, 4, 5, 2, 1, 0}));
  std::vector<KvEvent> events;
  m.set_event_sink([&](const KvEvent& e) { events.push_back(e); });
  ASSERT_TRUE(m.add_sequence(SeqId{2}));
  // 5 blocks: 3 4 5 2 1, evicting cached block 1 but not 0.
  auto r = m.allocate_slots(SeqId{2}, 20);
  ASSERT_TRUE(r);
  EXPECT_EQ(ids(r->new_blocks), (std::vector<int32_t>{3, 4, 5, 2, 1}));
  EXPECT_FALSE(m.is_cached(BlockId{1}));
  EXPECT_TRUE(m.is_cached(BlockId{0}));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, KvEventType::Evict);
  EXPECT_EQ(ids(events[0].blocks), (std::vector<int32_t>{1}));
  EXPECT_EQ(events[1].type, KvEventType::Allocate);
  EXPECT_EQ(events[1].seq.value, 2);
  // Only the first block is still findable.
  EXPECT_EQ(ids(m.find_cached_prefix(tokens(0, 9)).blocks), (std::vector<int32_t>{0}));
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, PrefixHitOnFreeBlocksCountsThemAsTakenAndFailsAtomically) {
  auto m = make(4, 4);
  const auto p = tokens(0, 9);
  admit(m, 1, p);  // blocks 0 1 cached, 2 partial
  ASSERT_TRUE(m.free_sequence(SeqId{1}));  // queue 3 2 1 0
  ASSERT_TRUE(m.add_sequence(SeqId{9}));
  ASSERT_TRUE(m.allocate_slots(SeqId{9}, 8));  // takes 3 and 2; queue 1 0
  ASSERT_TRUE(m.add_sequence(SeqId{2}));
  const PrefixHit hit = m.find_cached_prefix(p);
  ASSERT_EQ(ids(hit.blocks), (std::vector<int32_t>{0, 1}));
  // Adopting 0 and 1 empties the free queue, and one more block is needed.
  EXPECT_EQ(m.num_blocks_needed(SeqId{2}, 1, hit).value(), 3);
  auto r = m.allocate_slots(SeqId{2}, 1, hit);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "allocate_slots: sequence 2 needs 1 more blocks for 9 tokens, 0 free of 4");
  EXPECT_EQ(m.ref_count(BlockId{0}), 0);
  EXPECT_EQ(m.ref_count(BlockId{1}), 0);
  EXPECT_EQ(ids(m.free_queue_order()), (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(m.table(SeqId{2})->num_blocks(), 0);
  // With room, the hit is adopted: refs 0 -> 1, out of the free queue.
  ASSERT_TRUE(m.free_sequence(SeqId{9}));
  r = m.allocate_slots(SeqId{2}, 1, hit);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(table_of(m, 2), (std::vector<int32_t>{0, 1, 2}));  // queue 1 0 2 3, minus the hit: head is 2
  EXPECT_EQ(m.ref_count(BlockId{0}), 1);
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, StalePrefixHitIsRefused) {
  auto m = make(3, 2);
  admit(m, 1, tokens(0, 3));  // block 0 cached, 1 partial
  ASSERT_TRUE(m.free_sequence(SeqId{1}));  // queue 2 1 0
  const PrefixHit hit = m.find_cached_prefix(tokens(0, 3));
  ASSERT_EQ(hit.blocks.size(), 1u);
  ASSERT_TRUE(m.add_sequence(SeqId{2}));
  ASSERT_TRUE(m.allocate_slots(SeqId{2}, 6));  // reuses (evicts) block 0
  ASSERT_TRUE(m.add_sequence(SeqId{3}));
  auto r = m.allocate_slots(SeqId{3}, 1, hit);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("stale"), std::string::npos) << r.error().message;
  EXPECT_EQ(m.ref_count(BlockId{0}), 1);
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, ForkSharesEveryBlockAndFreesInOrder) {
  auto m = make(8, 4);
  ASSERT_TRUE(m.add_sequence(SeqId{1}));
  ASSERT_TRUE(m.allocate_slots(SeqId{1}, 8));  // 0 1, both full
  ASSERT_TRUE(m.fork(SeqId{1}, SeqId{2}));
  EXPECT_EQ(table_of(m, 2), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(m.ref_count(BlockId{0}), 2);
  EXPECT_EQ(m.ref_count(BlockId{1}), 2);
  EXPECT_EQ(m.num_used_blocks(), 2);
  // The last block is full: the next token goes into a new block, no copy.
  auto r = m.allocate_slots(SeqId{2}, 1);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->copies.empty());
  EXPECT_EQ(table_of(m, 2), (std::vector<int32_t>{0, 1, 2}));
  ASSERT_TRUE(m.free_sequence(SeqId{1}));
  EXPECT_EQ(m.ref_count(BlockId{0}), 1);
  EXPECT_EQ(ids(m.free_queue_order()), (std::vector<int32_t>{3, 4, 5, 6, 7}));
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, CopyOnWriteOfASharedPartialBlock) {
  auto m = make(8, 4);
  ASSERT_TRUE(m.add_sequence(SeqId{1}));
  ASSERT_TRUE(m.allocate_slots(SeqId{1}, 6));  // 0 1; block 1 holds 2 tokens
  ASSERT_TRUE(m.fork(SeqId{1}, SeqId{2}));
  std::vector<KvEvent> events;
  m.set_event_sink([&](const KvEvent& e) { events.push_back(e); });
  EXPECT_EQ(m.num_blocks_needed(SeqId{2}, 1).value(), 1);
  auto r = m.allocate_slots(SeqId{2}, 1);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->copies.size(), 1u);
  EXPECT_EQ(r->copies[0].src.value, 1);
  EXPECT_EQ(r->copies[0].dst.value, 2);
  EXPECT_EQ(r->copies[0].n_slots, 2);
  EXPECT_TRUE(r->new_blocks.empty());
  EXPECT_EQ(table_of(m, 2), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(m.ref_count(BlockId{0}), 2);
  EXPECT_EQ(m.ref_count(BlockId{1}), 1);
  EXPECT_EQ(m.ref_count(BlockId{2}), 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, KvEventType::CopyOnWrite);
  EXPECT_EQ(ids(events[0].blocks), (std::vector<int32_t>{1, 2}));
  // The parent now holds block 1 alone and writes into it in place.
  r = m.allocate_slots(SeqId{1}, 3);  // fills block 1, then one token in a new block
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->copies.empty());
  EXPECT_EQ(table_of(m, 1), (std::vector<int32_t>{0, 1, 3}));
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, CopyOnWriteNeedsAFreeBlockOrFailsCleanly) {
  auto m = make(2, 4);
  ASSERT_TRUE(m.add_sequence(SeqId{1}));
  ASSERT_TRUE(m.allocate_slots(SeqId{1}, 5));  // 0 1, pool full
  ASSERT_TRUE(m.fork(SeqId{1}, SeqId{2}));
  auto r = m.allocate_slots(SeqId{2}, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "allocate_slots: sequence 2 needs 1 more blocks for 1 tokens, 0 free of 2");
  EXPECT_EQ(table_of(m, 2), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(m.ref_count(BlockId{1}), 2);
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, TruncateFreesExactlyTheBlocksLeftWithoutTokens) {
  auto m = make(10, 4);
  ASSERT_TRUE(m.add_sequence(SeqId{1}));
  ASSERT_TRUE(m.allocate_slots(SeqId{1}, 10));  // 0 1 2; block 2 holds tokens 8 9
  ASSERT_TRUE(m.truncate(SeqId{1}, 8));
  EXPECT_EQ(table_of(m, 1), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(m.table(SeqId{1})->last_block_fill(), 4);
  ASSERT_TRUE(m.truncate(SeqId{1}, 5));  // block 1 still holds token 4
  EXPECT_EQ(table_of(m, 1), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(m.table(SeqId{1})->last_block_fill(), 1);
  ASSERT_TRUE(m.truncate(SeqId{1}, 4));
  EXPECT_EQ(table_of(m, 1), (std::vector<int32_t>{0}));
  ASSERT_TRUE(m.truncate(SeqId{1}, 0));
  EXPECT_TRUE(table_of(m, 1).empty());
  EXPECT_EQ(ids(m.free_queue_order()), (std::vector<int32_t>{3, 4, 5, 6, 7, 8, 9, 2, 1, 0}));
  // Growing again after a rollback reuses the queue's head.
  ASSERT_TRUE(m.allocate_slots(SeqId{1}, 1));
  EXPECT_EQ(table_of(m, 1), (std::vector<int32_t>{3}));
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, TruncateOfAForkOnlyDropsItsOwnReferences) {
  auto m = make(8, 4);
  ASSERT_TRUE(m.add_sequence(SeqId{1}));
  ASSERT_TRUE(m.allocate_slots(SeqId{1}, 12));  // 0 1 2
  ASSERT_TRUE(m.fork(SeqId{1}, SeqId{2}));
  ASSERT_TRUE(m.truncate(SeqId{2}, 3));
  EXPECT_EQ(table_of(m, 2), (std::vector<int32_t>{0}));
  EXPECT_EQ(m.ref_count(BlockId{0}), 2);
  EXPECT_EQ(m.ref_count(BlockId{1}), 1);
  EXPECT_EQ(m.ref_count(BlockId{2}), 1);
  EXPECT_EQ(m.num_free_blocks(), 5);
  // Block 0 is now a partial, shared block for sequence 2: writing copies it.
  auto r = m.allocate_slots(SeqId{2}, 1);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->copies.size(), 1u);
  EXPECT_EQ(r->copies[0].n_slots, 3);
  EXPECT_EQ(table_of(m, 2), (std::vector<int32_t>{3}));
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, RollbackIntoACachedBlockUncachesItBeforeRewriting) {
  auto m = make(8, 4);
  admit(m, 1, tokens(0, 9));  // 0 1 cached, 2 partial
  ASSERT_TRUE(m.truncate(SeqId{1}, 6));  // block 1 keeps tokens 4 5 of 0..7
  EXPECT_TRUE(m.is_cached(BlockId{1}));  // its slots are intact until written
  EXPECT_EQ(m.find_cached_prefix(tokens(0, 9)).num_tokens, 8);
  ASSERT_TRUE(m.allocate_slots(SeqId{1}, 1));  // writes slot 2 of block 1
  EXPECT_FALSE(m.is_cached(BlockId{1}));
  EXPECT_TRUE(m.is_cached(BlockId{0}));
  EXPECT_EQ(m.find_cached_prefix(tokens(0, 9)).num_tokens, 4);
  // The rewritten block becomes cacheable again under its new content.
  std::vector<int32_t> now = tokens(0, 6);
  now.insert(now.end(), {50, 51});
  ASSERT_TRUE(m.allocate_slots(SeqId{1}, 1));
  ASSERT_TRUE(m.cache_full_blocks(SeqId{1}, now));
  EXPECT_TRUE(m.is_cached(BlockId{1}));
  now.push_back(0);
  EXPECT_EQ(ids(m.find_cached_prefix(now).blocks), (std::vector<int32_t>{0, 1}));
  EXPECT_TRUE(m.check_invariants());
}

TEST(KvCacheManager, PrefixCachingOff) {
  auto m = make(8, 4, /*prefix=*/false);
  admit(m, 1, tokens(0, 9));
  EXPECT_EQ(m.num_cached_blocks(), 0);
  EXPECT_EQ(m.find_cached_prefix(tokens(0, 9)).num_tokens, 0);
}

TEST(KvCacheManager, EventsTellTheStory) {
  auto m = make(8, 2);
  std::vector<KvEvent> events;
  m.set_event_sink([&](const KvEvent& e) { events.push_back(e); });
  admit(m, 1, tokens(0, 5));  // allocate 0 1 2, cache 0 1
  admit(m, 2, tokens(0, 5));  // hit 0 1, allocate 3
  ASSERT_TRUE(m.fork(SeqId{2}, SeqId{3}));
  ASSERT_TRUE(m.allocate_slots(SeqId{3}, 1));  // block 3 shared and partial: cow to 4
  ASSERT_TRUE(m.free_sequence(SeqId{3}));
  std::vector<std::string> seen;
  for (const KvEvent& e : events) {
    std::string line = fmt::format("{} {}:", kv_event_name(e.type), e.seq.value);
    for (BlockId b : e.blocks) line += fmt::format(" {}", b.value);
    seen.push_back(line);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"allocate 1: 0 1 2", "cache 1: 0 1", "prefix_hit 2: 0 1",
                                            "allocate 2: 3", "fork 3: 0 1 3", "cow 3: 3 4", "free 3: 4 1 0"}));
}

TEST(KvCacheManager, SnapshotIsExact) {
  auto m = make(6, 4);
  admit(m, 1, tokens(0, 6));   // 0 (cached) 1
  admit(m, 2, tokens(0, 7));   // hit 0, new 2
  const KvSnapshot s = m.snapshot();
  EXPECT_EQ(s.block_size, 4);
  EXPECT_EQ(s.num_blocks, 6);
  EXPECT_EQ(s.used_blocks, 3);
  EXPECT_EQ(s.free_blocks, 3);
  EXPECT_EQ(s.cached_blocks, 1);
  EXPECT_DOUBLE_EQ(s.usage, 0.5);
  ASSERT_EQ(s.blocks.size(), 6u);
  EXPECT_EQ(s.blocks[0].owners, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(s.blocks[0].ref_count, 2);
  EXPECT_EQ(s.blocks[0].tokens_filled, 4);
  EXPECT_TRUE(s.blocks[0].cached);
  EXPECT_EQ(s.blocks[1].owners, (std::vector<int64_t>{1}));
  EXPECT_EQ(s.blocks[1].tokens_filled, 2);
  EXPECT_EQ(s.blocks[2].tokens_filled, 3);
  EXPECT_FALSE(s.blocks[2].cached);
  EXPECT_TRUE(s.blocks[3].free);
  EXPECT_TRUE(s.blocks[3].owners.empty());
  EXPECT_EQ(s.blocks[3].tokens_filled, 0);
  ASSERT_EQ(s.sequences.size(), 2u);
  EXPECT_EQ(s.sequences[1].seq, 2);
  EXPECT_EQ(s.sequences[1].block_ids, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(s.sequences[1].last_block_fill, 3);
  EXPECT_EQ(s.sequences[1].num_cached_blocks, 1);
  EXPECT_EQ(s.free_queue, (std::vector<int32_t>{3, 4, 5}));
  EXPECT_EQ(s.prefix.hit_tokens, 4);
}

}  // namespace
}  // namespace helix
