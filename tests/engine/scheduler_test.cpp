// Scheduler decisions without a model: exact block ids, chunks, preemption order, prefix hits, forks and
// the contiguous baseline, over a KvCacheManager with no storage. A "step" here is schedule(), then
// commit(), then one appended token per sequence whose tokens are all computed (what sampling would add).
#include "engine/scheduler.h"

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "engine/contiguous_kv_policy.h"

namespace helix {
namespace {

std::vector<int32_t> iota_tokens(int32_t from, int32_t n) {
  std::vector<int32_t> t;
  for (int32_t i = 0; i < n; ++i) t.push_back(from + i);
  return t;
}

struct Fixture {
  explicit Fixture(int32_t num_blocks, bool prefix_caching = false, SchedulerConfig config = {})
      : kv(make_kv(num_blocks, prefix_caching)), policy(kv, prefix_caching), scheduler(policy, config) {}

  static KvCacheManager make_kv(int32_t num_blocks, bool prefix_caching) {
    KvCacheConfig c;
    c.num_blocks = num_blocks;
    c.block_size = 16;
    c.enable_prefix_caching = prefix_caching;
    return std::move(*KvCacheManager::create(c));
  }

  Sequence* add(std::vector<int32_t> prompt, bool queue = true) {
    seqs.push_back(std::make_unique<Sequence>(SeqId{static_cast<int64_t>(seqs.size())}, 0, std::move(prompt),
                                              SamplingParams{}));
    if (queue) scheduler.add(seqs.back().get());
    return seqs.back().get();
  }

  std::vector<int32_t> table(const Sequence* s) const {
    const BlockTable* t = kv.table(s->id);
    return t ? std::vector<int32_t>(t->ids().begin(), t->ids().end()) : std::vector<int32_t>{};
  }

  // commit, then a new token for every sequence that has caught up.
  void finish_step(const SchedulerOutput& out) {
    scheduler.commit(out);
    for (const ScheduledChunk& c : out.chunks)
      if (c.seq->computed == c.seq->num_tokens()) c.seq->tokens.push_back(1000 + static_cast<int32_t>(c.seq->id.value));
  }

  KvCacheManager kv;
  PagedKvPolicy policy;
  Scheduler scheduler;
  std::vector<std::unique_ptr<Sequence>> seqs;
};

struct Chunk {
  int64_t seq, start, n;
  bool operator==(const Chunk&) const = default;
};

std::vector<Chunk> chunks(const SchedulerOutput& out) {
  std::vector<Chunk> c;
  for (const ScheduledChunk& s : out.chunks) c.push_back({s.seq->id.value, s.start_pos, s.n_tokens});
  return c;
}

TEST(Scheduler, AdmitsInOrderAndTakesBlocksOnDemand) {
  Fixture f(6);
  Sequence* a = f.add(iota_tokens(0, 20));
  Sequence* b = f.add(iota_tokens(100, 20));
  auto out = f.scheduler.schedule();
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 0, 20}, {1, 0, 20}}));
  EXPECT_TRUE(out.chunks[0].admitted && out.chunks[1].admitted);
  EXPECT_EQ(out.num_tokens, 40);
  // 20 tokens = 2 blocks each, handed out in id order.
  EXPECT_EQ(f.table(a), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(f.table(b), (std::vector<int32_t>{2, 3}));
  f.finish_step(out);
  EXPECT_EQ(a->computed, 20);
  // Decode: one token each; 21 tokens still fit 2 blocks, so nothing new is taken.
  out = f.scheduler.schedule();
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 20, 1}, {1, 20, 1}}));
  EXPECT_FALSE(out.chunks[0].admitted);
  EXPECT_EQ(f.kv.num_used_blocks(), 4);
  EXPECT_TRUE(f.kv.check_invariants());
}

TEST(Scheduler, ChunksPromptsWithinTheStepBudget) {
  SchedulerConfig c;
  c.max_step_tokens = 16;
  Fixture f(8, false, c);
  f.add(iota_tokens(0, 40));
  f.add(iota_tokens(100, 10));
  // 40 prompt tokens in steps of 16, 16, 8; the second request gets what the third step leaves (8 of 10).
  auto out = f.scheduler.schedule();
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 0, 16}}));
  f.finish_step(out);
  out = f.scheduler.schedule();
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 16, 16}}));
  f.finish_step(out);
  out = f.scheduler.schedule();
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 32, 8}, {1, 0, 8}}));
  f.finish_step(out);
  // The first has its token (41 tokens), the second two prompt tokens left.
  out = f.scheduler.schedule();
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 40, 1}, {1, 8, 2}}));
}

TEST(Scheduler, PreemptsTheLatestAdmittedAndRequeuesItAtTheFront) {
  Fixture f(6);
  Sequence* a = f.add(iota_tokens(0, 30));
  Sequence* b = f.add(iota_tokens(100, 30));
  Sequence* c = f.add(iota_tokens(200, 30));
  auto out = f.scheduler.schedule();  // 2 blocks each: the pool is full
  EXPECT_EQ(f.table(c), (std::vector<int32_t>{4, 5}));
  f.finish_step(out);                 // 31 tokens each
  out = f.scheduler.schedule();       // writes position 30: still block 2 of 2
  f.finish_step(out);                 // 32 tokens each
  out = f.scheduler.schedule();       // position 31
  f.finish_step(out);                 // 33 tokens each: position 32 needs a third block
  ASSERT_EQ(f.kv.num_free_blocks(), 0);

  out = f.scheduler.schedule();
  // a finds no block: c (admitted last) is preempted; its blocks go back last first (5, 4); a takes 5, b 4.
  ASSERT_EQ(out.preempted.size(), 1u);
  EXPECT_EQ(out.preempted[0], c);
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 32, 1}, {1, 32, 1}}));
  EXPECT_EQ(f.table(a), (std::vector<int32_t>{0, 1, 5}));
  EXPECT_EQ(f.table(b), (std::vector<int32_t>{2, 3, 4}));
  EXPECT_FALSE(f.kv.has_sequence(c->id));
  EXPECT_EQ(c->computed, 0);
  EXPECT_EQ(c->num_tokens(), 33);  // its generated tokens are kept
  EXPECT_EQ(c->preemptions, 1);
  ASSERT_EQ(f.scheduler.waiting().size(), 1u);
  EXPECT_EQ(f.scheduler.waiting().front(), c);
  f.finish_step(out);

  // Nothing free: c waits while a and b decode.
  out = f.scheduler.schedule();
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 33, 1}, {1, 33, 1}}));
  f.finish_step(out);

  // a finishes: its blocks come back at once (5, 1, 0) and c recomputes its 33 tokens in them.
  f.scheduler.finish(a);
  EXPECT_EQ(f.kv.num_free_blocks(), 3);
  out = f.scheduler.schedule();
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{1, 34, 1}, {2, 0, 33}}));
  EXPECT_EQ(f.table(c), (std::vector<int32_t>{5, 1, 0}));
  EXPECT_TRUE(f.kv.check_invariants());
}

TEST(Scheduler, AStepThatPreemptsAdmitsNoOne) {
  Fixture f(4);
  Sequence* a = f.add(iota_tokens(0, 16));
  Sequence* b = f.add(iota_tokens(100, 16));
  auto out = f.scheduler.schedule();  // a [0], b [1]
  f.finish_step(out);                 // 17 tokens each: a second block each
  out = f.scheduler.schedule();       // a [0, 2], b [1, 3]
  EXPECT_EQ(f.table(b), (std::vector<int32_t>{1, 3}));
  f.finish_step(out);
  f.add(iota_tokens(300, 1));         // would fit once anything is freed
  for (int i = 0; i < 15; ++i) {      // positions 17..31 fill the second blocks
    out = f.scheduler.schedule();
    ASSERT_TRUE(out.preempted.empty());
    f.finish_step(out);
  }
  out = f.scheduler.schedule();  // 33 tokens: b is preempted for a, and the new one is not admitted
  ASSERT_EQ(out.preempted.size(), 1u);
  EXPECT_EQ(out.preempted[0], b);
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 32, 1}}));
  EXPECT_EQ(f.kv.num_free_blocks(), 1);
  // b waits at the front, before the later request.
  std::vector<int64_t> waiting;
  for (Sequence* s : f.scheduler.waiting()) waiting.push_back(s->id.value);
  EXPECT_EQ(waiting, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(f.table(a), (std::vector<int32_t>{0, 2, 3}));
}

TEST(Scheduler, WatermarkHoldsBackAdmissionOnlyWhileSomethingRuns) {
  SchedulerConfig c;
  c.watermark_blocks = 2;
  Fixture f(6, false, c);
  f.add(iota_tokens(0, 20));
  f.add(iota_tokens(100, 20));
  f.add(iota_tokens(200, 20));
  auto out = f.scheduler.schedule();
  // 6 free: the first takes 2 (nothing ran, no watermark); the second leaves 2 = the watermark; the third
  // would leave 0 < 2.
  EXPECT_EQ(out.chunks.size(), 2u);
  EXPECT_EQ(f.scheduler.waiting().size(), 1u);
  EXPECT_EQ(f.kv.num_free_blocks(), 2);
}

TEST(Scheduler, MaxRunningCountsForksNotYetMade) {
  SchedulerConfig c;
  c.max_running = 3;
  Fixture f(16, false, c);
  Sequence* a = f.add(iota_tokens(0, 5));
  a->forks_pending = 2;  // n = 3
  f.add(iota_tokens(100, 5));
  auto out = f.scheduler.schedule();
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 0, 5}}));
  EXPECT_EQ(f.scheduler.waiting().size(), 1u);
}

TEST(Scheduler, ForkSharesBlocksAndCopiesTheSharedLastBlockOnWrite) {
  Fixture f(8);
  Sequence* a = f.add(iota_tokens(0, 20));
  a->forks_pending = 2;
  auto out = f.scheduler.schedule();  // a: [0, 1], the second block holding 4 tokens
  f.scheduler.commit(out);
  Sequence* b = f.add(a->tokens, false);
  Sequence* c = f.add(a->tokens, false);
  std::vector<Sequence*> children = {b, c};
  f.scheduler.fork(*a, children);
  EXPECT_EQ(a->forks_pending, 0);
  EXPECT_EQ(f.kv.ref_count(BlockId{0}), 3);
  EXPECT_EQ(f.kv.ref_count(BlockId{1}), 3);
  EXPECT_EQ(f.kv.num_used_blocks(), 2);  // three sequences, one prompt's worth of blocks
  std::vector<int64_t> running;
  for (Sequence* s : f.scheduler.running()) running.push_back(s->id.value);
  EXPECT_EQ(running, (std::vector<int64_t>{0, 1, 2}));
  for (Sequence* s : {a, b, c}) s->tokens.push_back(7);

  out = f.scheduler.schedule();
  // Each writes position 20 into block 1: a and b copy it first (2, 3); c, then its only holder, writes in place.
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 20, 1}, {1, 20, 1}, {2, 20, 1}}));
  EXPECT_EQ(f.table(a), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(f.table(b), (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(f.table(c), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(f.kv.ref_count(BlockId{0}), 3);
  EXPECT_EQ(f.kv.num_used_blocks(), 4);  // vs 6 for three unshared sequences
  EXPECT_TRUE(f.kv.check_invariants());
}

TEST(Scheduler, AdmissionAdoptsTheCachedPrefix) {
  Fixture f(6, true);
  Sequence* a = f.add(iota_tokens(0, 40));
  auto out = f.scheduler.schedule();  // a: [0, 1, 2]
  f.finish_step(out);                 // blocks 0 and 1 are full and now cached
  EXPECT_EQ(f.kv.num_cached_blocks(), 2);
  std::vector<int32_t> prompt = iota_tokens(0, 32);
  for (int32_t t : {900, 901, 902, 903, 904}) prompt.push_back(t);
  Sequence* b = f.add(prompt);
  out = f.scheduler.schedule();
  // b adopts blocks 0 and 1 (32 tokens) and computes only its last 5 tokens, in one new block.
  EXPECT_EQ(chunks(out), (std::vector<Chunk>{{0, 40, 1}, {1, 32, 5}}));
  EXPECT_TRUE(out.chunks[1].admitted);
  EXPECT_EQ(f.table(a), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(f.table(b), (std::vector<int32_t>{0, 1, 3}));
  EXPECT_EQ(f.kv.ref_count(BlockId{0}), 2);
  EXPECT_EQ(f.kv.num_used_blocks(), 4);  // vs 6 without sharing
  EXPECT_EQ(b->computed, 32);
  EXPECT_TRUE(f.kv.check_invariants());
}

TEST(Scheduler, FinishGivesBlocksBackAtOnce) {
  Fixture f(6);
  Sequence* a = f.add(iota_tokens(0, 40));
  Sequence* b = f.add(iota_tokens(100, 3));
  auto out = f.scheduler.schedule();
  EXPECT_EQ(f.kv.num_used_blocks(), 4);
  f.scheduler.finish(a);
  EXPECT_EQ(f.kv.num_used_blocks(), 1);
  EXPECT_FALSE(f.kv.has_sequence(a->id));
  EXPECT_EQ(f.scheduler.running().size(), 1u);
  f.scheduler.finish(b);
  EXPECT_EQ(f.kv.num_used_blocks(), 0);
  EXPECT_FALSE(f.scheduler.has_work());
}

TEST(Scheduler, ContiguousReservesMaxSeqLenPerSequence) {
  KvCacheManager kv = Fixture::make_kv(6, false);
  ContiguousKvPolicy policy(kv, nullptr, 48);  // 48 tokens = 3 blocks per sequence
  Scheduler scheduler(policy, SchedulerConfig{});
  std::vector<std::unique_ptr<Sequence>> seqs;
  for (int i = 0; i < 3; ++i) {
    seqs.push_back(std::make_unique<Sequence>(SeqId{i}, 0, iota_tokens(100 * i, 5), SamplingParams{}));
    scheduler.add(seqs.back().get());
  }
  auto out = scheduler.schedule();
  // 5 tokens each, but each takes a whole reservation: two fit, the third waits.
  ASSERT_EQ(out.chunks.size(), 2u);
  EXPECT_EQ(out.chunks[1].n_tokens, 5);
  EXPECT_EQ(kv.table(SeqId{0})->num_blocks(), 3);
  EXPECT_EQ(kv.table(SeqId{1})->ids()[0], 3);
  EXPECT_EQ(kv.num_free_blocks(), 0);
  EXPECT_EQ(scheduler.waiting().size(), 1u);
  scheduler.commit(out);
  // Decoding never takes a block or preempts.
  for (int step = 0; step < 40; ++step) {
    for (int i = 0; i < 2; ++i) seqs[i]->tokens.push_back(1);
    out = scheduler.schedule();
    ASSERT_TRUE(out.preempted.empty());
    ASSERT_EQ(out.chunks.size(), 2u);
    scheduler.commit(out);
  }
  EXPECT_EQ(seqs[0]->kv_tokens, 45);
  scheduler.finish(seqs[0].get());  // blocks 2, 1, 0 back: the third sequence takes them
  out = scheduler.schedule();
  EXPECT_EQ(out.chunks.back().seq, seqs[2].get());
  EXPECT_EQ(std::vector<int32_t>(kv.table(SeqId{2})->ids().begin(), kv.table(SeqId{2})->ids().end()),
            (std::vector<int32_t>{2, 1, 0}));
}

}  // namespace
}  // namespace helix

namespace helix {
namespace {

// Seeded random runs on a tiny pool: arrivals, prompts sharing prefixes, forks, cancels and finishes in any
// order. After every step the cache is consistent, waiting sequences hold no blocks, running ones hold
// exactly their tokens' blocks, and every sequence ends within a bounded number of steps.
TEST(SchedulerProperty, RandomWorkloadsKeepTheCacheConsistentAndFinish) {
  size_t total_preemptions = 0, total_forks = 0, total_hits = 0, total_steps = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Rng rng(seed);
    SchedulerConfig config;
    config.max_step_tokens = 8 + static_cast<int64_t>(rng.next() % 24);
    config.max_chunk_tokens = 4 + static_cast<int64_t>(rng.next() % 16);
    config.max_running = 2 + static_cast<int32_t>(rng.next() % 6);
    config.watermark_blocks = static_cast<int32_t>(rng.next() % 2);
    KvCacheConfig kc;
    kc.num_blocks = 12;
    kc.block_size = 4;  // 48 slots
    kc.enable_prefix_caching = rng.next() % 2 == 0;
    KvCacheManager kv = std::move(*KvCacheManager::create(kc));
    PagedKvPolicy policy(kv, kc.enable_prefix_caching);
    Scheduler scheduler(policy, config);

    struct Item {
      std::unique_ptr<Sequence> seq;
      int64_t target = 0;  // tokens when it finishes
      bool done = false;
    };
    std::vector<Item> items;
    const std::vector<int32_t> shared_prefix = iota_tokens(500, 12);
    auto new_sequence = [&](std::vector<int32_t> tokens, int64_t target) -> Sequence* {
      items.push_back({std::make_unique<Sequence>(SeqId{static_cast<int64_t>(items.size())}, 0, std::move(tokens),
                                                  SamplingParams{}),
                       target});
      return items.back().seq.get();
    };
    int arrivals = 0;
    for (int step = 0; step < 2000; ++step) {
      if (arrivals < 16 && rng.next() % 3 == 0) {
        ++arrivals;
        const int64_t prompt_len = 1 + static_cast<int64_t>(rng.next() % 20);
        std::vector<int32_t> prompt;
        for (int64_t i = 0; i < prompt_len; ++i)
          prompt.push_back(rng.next() % 2 == 0 && i < 12 ? shared_prefix[static_cast<size_t>(i)]
                                                         : static_cast<int32_t>(rng.next() % 50));
        // At most 24 tokens: a running parent and one fork still fit 12 blocks of 4 alone.
        const int64_t target = std::min<int64_t>(24, prompt_len + 1 + static_cast<int64_t>(rng.next() % 16));
        Sequence* s = new_sequence(std::move(prompt), std::max(target, prompt_len + 1));
        s->forks_pending = rng.next() % 4 == 0 ? 1 : 0;
        scheduler.add(s);
      }
      if (rng.next() % 10 == 0) {  // cancel someone
        std::vector<Item*> live;
        for (Item& it : items)
          if (!it.done && it.seq->forks_pending == 0) live.push_back(&it);
        if (!live.empty()) {
          Item* victim = live[rng.next() % live.size()];
          scheduler.finish(victim->seq.get());
          victim->done = true;
        }
      }
      const SchedulerOutput out = scheduler.schedule();
      scheduler.commit(out);
      ++total_steps;
      total_preemptions += out.preempted.size();
      for (const ScheduledChunk& c : out.chunks) {
        Sequence* s = c.seq;
        if (c.admitted && c.start_pos > 0) ++total_hits;
        if (s->computed < s->num_tokens()) continue;
        if (s->forks_pending > 0) {
          Sequence* child = new_sequence(s->tokens, items[static_cast<size_t>(s->id.value)].target);
          std::vector<Sequence*> children = {child};
          scheduler.fork(*s, children);
          ++total_forks;
        }
      }
      for (Item& it : items) {
        Sequence* s = it.seq.get();
        if (it.done || !s->running || s->computed < s->num_tokens() || s->forks_pending > 0) continue;
        if (s->num_tokens() >= it.target) {
          scheduler.finish(s);
          it.done = true;
        } else {
          s->tokens.push_back(static_cast<int32_t>(rng.next() % 50));
        }
      }
      const auto st = kv.check_invariants();
      ASSERT_TRUE(st.has_value()) << "step " << step << ": " << st.error().message;
      int32_t seats = 0;
      int64_t blocks_held = 0;
      for (const Sequence* s : scheduler.running()) {
        seats += s->seats();
        const BlockTable* t = kv.table(s->id);
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(t->num_tokens(), s->kv_tokens);
        blocks_held += t->num_blocks();
      }
      EXPECT_LE(seats, config.max_running);
      EXPECT_GE(blocks_held, kv.num_used_blocks());  // shared blocks counted per holder
      for (const Sequence* s : scheduler.waiting()) {
        EXPECT_FALSE(kv.has_sequence(s->id));
        EXPECT_EQ(s->computed, 0);
      }
      if (arrivals == 16 && !scheduler.has_work()) break;
    }
    EXPECT_FALSE(scheduler.has_work()) << "work left after 2000 steps";
    for (const Item& it : items) EXPECT_TRUE(it.done) << "sequence " << it.seq->id.value;
    EXPECT_EQ(kv.num_used_blocks(), 0);
  }
  // The runs did exercise what they are meant to.
  EXPECT_GT(total_preemptions, 0u);
  EXPECT_GT(total_forks, 0u);
  EXPECT_GT(total_hits, 0u);
  std::printf("%zu steps, %zu preemptions, %zu forks, %zu prefix hits\n", total_steps, total_preemptions, total_forks,
              total_hits);
}

}  // namespace
}  // namespace helix
