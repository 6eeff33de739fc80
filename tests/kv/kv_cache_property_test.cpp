// Seeded random operation sequences against KvCacheManager, checked after every operation against an
// independent model: used + free = total, each ref count = number of tables holding the block, the free
// queue = exactly the blocks at ref 0, and every sequence reads back its own tokens through its table
// (so prefix hits, forks, copy-on-write and rollbacks never hand a sequence someone else's K/V).
#include <map>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "kv/kv_cache_manager.h"

namespace helix {
namespace {

class Model {
 public:
  Model(uint32_t seed, int32_t num_blocks, int32_t block_size)
      : rng_(seed), num_blocks_(num_blocks), block_size_(block_size),
        slots_(static_cast<size_t>(num_blocks) * static_cast<size_t>(block_size), -1) {
    KvCacheConfig c;
    c.num_blocks = num_blocks;
    c.block_size = block_size;
    manager_ = std::make_unique<KvCacheManager>(std::move(KvCacheManager::create(c).value()));
  }

  void step() {
    const int op = pick(0, 9);
    if (seqs_.empty() || op <= 1) return admit();
    const int64_t seq = random_seq();
    switch (op) {
      case 2: case 3: case 4: return grow(seq);
      case 5: return fork(seq);
      case 6: return truncate(seq);
      case 7: return cache(seq);
      default: return release(seq);
    }
  }

  // Independent checks, then the manager's own.
  void check() const {
    const KvCacheManager& m = *manager_;
    ASSERT_EQ(m.num_used_blocks() + m.num_free_blocks(), num_blocks_);
    std::vector<int32_t> holders(static_cast<size_t>(num_blocks_), 0);
    for (const auto& [id, toks] : seqs_) {
      const BlockTable* t = m.table(SeqId{id});
      ASSERT_NE(t, nullptr) << "sequence " << id;
      ASSERT_EQ(t->num_tokens(), static_cast<int64_t>(toks.size())) << "sequence " << id;
      ASSERT_EQ(t->num_blocks(), (t->num_tokens() + block_size_ - 1) / block_size_);
      for (int32_t b : t->ids()) ++holders[static_cast<size_t>(b)];
      for (size_t pos = 0; pos < toks.size(); ++pos)
        ASSERT_EQ(slot(t->block(static_cast<int32_t>(pos / block_size_)), pos % block_size_), toks[pos])
            << "sequence " << id << " position " << pos << " reads another sequence's K/V";
    }
    std::set<int32_t> at_zero;
    int32_t used = 0;
    for (int32_t b = 0; b < num_blocks_; ++b) {
      ASSERT_EQ(m.ref_count(BlockId{b}), holders[static_cast<size_t>(b)]) << "block " << b;
      if (holders[static_cast<size_t>(b)] == 0) at_zero.insert(b);
      used += holders[static_cast<size_t>(b)] > 0;
    }
    ASSERT_EQ(used, m.num_used_blocks());
    std::set<int32_t> queued;
    for (BlockId b : m.free_queue_order()) ASSERT_TRUE(queued.insert(b.value).second) << "block " << b.value;
    ASSERT_EQ(queued, at_zero);
    const Status s = m.check_invariants();
    ASSERT_TRUE(s) << s.error().message;
  }

  int64_t allocation_failures() const { return failures_; }
  int64_t hit_tokens() const { return manager_->prefix_stats().hit_tokens; }
  int64_t copies() const { return copies_; }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  int64_t random_seq() {
    auto it = seqs_.begin();
    std::advance(it, pick(0, static_cast<int>(seqs_.size()) - 1));
    return it->first;
  }
  int32_t& slot(BlockId b, size_t s) { return slots_[static_cast<size_t>(b.value) * block_size_ + s]; }
  int32_t slot(BlockId b, size_t s) const { return slots_[static_cast<size_t>(b.value) * block_size_ + s]; }
  // Tokens from a tiny vocabulary over a few shared starts, so prompts often share cached prefixes.
  int32_t token() { return pick(0, 2); }

  // "Computes" tokens [from, size) of a sequence: writes them into its slots. A write must only ever land
  // in a block the sequence holds alone.
  void write(int64_t seq, size_t from) {
    const BlockTable* t = manager_->table(SeqId{seq});
    const auto& toks = seqs_[seq];
    for (size_t pos = from; pos < toks.size(); ++pos) {
      const BlockId b = t->block(static_cast<int32_t>(pos / block_size_));
      ASSERT_EQ(manager_->ref_count(b), 1) << "sequence " << seq << " writes into shared block " << b.value;
      ASSERT_FALSE(manager_->is_cached(b)) << "sequence " << seq << " overwrites cached block " << b.value;
      slot(b, pos % block_size_) = toks[pos];
    }
  }

  void apply(const SlotAllocation& a) {
    for (const BlockCopy& c : a.copies) {
      for (int32_t s = 0; s < c.n_slots; ++s) slot(c.dst, s) = slot(c.src, s);
      ++copies_;
    }
  }

  // Same as before the failed call: tables, refs and the free queue.
  struct State {
    std::vector<int32_t> refs, queue;
    std::map<int64_t, std::vector<int32_t>> tables;
    bool operator==(const State&) const = default;
  };
  State state() const {
    State s;
    for (int32_t b = 0; b < num_blocks_; ++b) s.refs.push_back(manager_->ref_count(BlockId{b}));
    for (BlockId b : manager_->free_queue_order()) s.queue.push_back(b.value);
    for (const auto& [id, toks] : seqs_) {
      const auto ids = manager_->table(SeqId{id})->ids();
      s.tables[id] = {ids.begin(), ids.end()};
    }
    return s;
  }

  void admit() {
    const int64_t seq = next_seq_++;
    std::vector<int32_t> prompt;
    const int n = pick(1, 3 * block_size_ + 2);
    const int shared_start = pick(0, 3);
    for (int i = 0; i < n; ++i) prompt.push_back(i < 2 * block_size_ ? (shared_start + i) % 3 : token());
    ASSERT_TRUE(manager_->add_sequence(SeqId{seq}));
    const PrefixHit hit = manager_->find_cached_prefix(prompt);
    ASSERT_LT(hit.num_tokens, static_cast<int64_t>(prompt.size()));
    const State before = state();
    auto r = manager_->allocate_slots(SeqId{seq}, static_cast<int64_t>(prompt.size()) - hit.num_tokens, hit);
    if (!r) {
      ++failures_;
      ASSERT_NE(r.error().message.find("free of"), std::string::npos) << r.error().message;
      ASSERT_TRUE(state() == before) << "failed allocation changed state";
      ASSERT_TRUE(manager_->free_sequence(SeqId{seq}));
      return;
    }
    apply(*r);
    seqs_[seq] = prompt;
    // The adopted blocks must already hold this prompt's tokens.
    write(seq, static_cast<size_t>(hit.num_tokens));
    if (pick(0, 1)) {
      ASSERT_TRUE(manager_->cache_full_blocks(SeqId{seq}, prompt));
    }
  }

  void grow(int64_t seq) {
    const int n = pick(1, block_size_ + 1);
    const State before = state();
    auto r = manager_->allocate_slots(SeqId{seq}, n);
    if (!r) {
      ++failures_;
      ASSERT_TRUE(state() == before) << "failed allocation changed state";
      return;
    }
    apply(*r);
    const size_t from = seqs_[seq].size();
    for (int i = 0; i < n; ++i) seqs_[seq].push_back(token());
    write(seq, from);
  }

  void fork(int64_t parent) {
    const int64_t child = next_seq_++;
    ASSERT_TRUE(manager_->fork(SeqId{parent}, SeqId{child}));
    seqs_[child] = seqs_[parent];
  }

  void truncate(int64_t seq) {
    auto& toks = seqs_[seq];
    const size_t keep = static_cast<size_t>(pick(0, static_cast<int>(toks.size())));
    ASSERT_TRUE(manager_->truncate(SeqId{seq}, static_cast<int64_t>(keep)));
    toks.resize(keep);
  }

  void cache(int64_t seq) {
    const auto& toks = seqs_[seq];
    const size_t n = static_cast<size_t>(pick(0, static_cast<int>(toks.size())));
    const Status s = manager_->cache_full_blocks(SeqId{seq}, std::span<const int32_t>(toks).first(n));
    ASSERT_TRUE(s) << s.error().message;
  }

  void release(int64_t seq) {
    ASSERT_TRUE(manager_->free_sequence(SeqId{seq}));
    seqs_.erase(seq);
  }

  std::mt19937 rng_;
  int32_t num_blocks_;
  int32_t block_size_;
  std::unique_ptr<KvCacheManager> manager_;
  std::map<int64_t, std::vector<int32_t>> seqs_;  // the tokens each sequence holds
  std::vector<int32_t> slots_;  // [block][slot]: the token whose K/V a slot holds (-1: never written)
  int64_t next_seq_ = 0;
  int64_t failures_ = 0;
  int64_t copies_ = 0;
};

TEST(KvCacheProperty, RandomOperationSequencesKeepEveryInvariant) {
  const int32_t block_sizes[] = {1, 2, 3, 4, 16};
  int64_t failures = 0, hits = 0, copies = 0;
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 pick(seed);
    const int32_t block_size = block_sizes[seed % 5];
    const int32_t num_blocks = std::uniform_int_distribution<int32_t>(4, 40)(pick);
    Model model(seed, num_blocks, block_size);
    for (int step = 0; step < 300; ++step) {
      model.step();
      model.check();
      if (testing::Test::HasFatalFailure()) {
        ADD_FAILURE() << "seed " << seed << " (block_size " << block_size << ", num_blocks " << num_blocks
                      << "), step " << step;
        return;
      }
    }
    failures += model.allocation_failures();
    hits += model.hit_tokens();
    copies += model.copies();
  }
  // The runs must have exercised exhaustion, prefix hits and copy-on-write, or they proved little.
  EXPECT_GT(failures, 0);
  EXPECT_GT(hits, 0);
  EXPECT_GT(copies, 0);
}

}  // namespace
}  // namespace helix
