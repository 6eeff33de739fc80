// KvCacheManager: the sequence-level API over the block pool. Each sequence has a block table; blocks are
// taken only when the last one is full, shared by reference (prefix hits, forks) and copied before a
// sequence writes into a block someone else still holds (copy-on-write).
//
// Typical use by the engine, per request:
//   hit = find_cached_prefix(prompt)               // longest run of cached full blocks, < prompt length
//   add_sequence(seq); allocate_slots(seq, prompt.size() - hit.num_tokens, hit)  // all or nothing
//   ... compute K/V for tokens [hit.num_tokens, prompt.size()), write them at slot_of(seq, pos) ...
//   cache_full_blocks(seq, tokens_so_far)          // make the now-full blocks findable
//   allocate_slots(seq, 1) per decoded token; truncate(seq, n) to roll back rejected draft tokens
//   free_sequence(seq)
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "common/result.h"
#include "kv/block_key.h"
#include "kv/block_pool.h"
#include "kv/block_table.h"
#include "kv/kv_event.h"
#include "kv/kv_ids.h"
#include "kv/kv_snapshot.h"

namespace helix {

class KvStorage;

struct KvCacheConfig {
  int32_t num_blocks = 1024;
  int32_t block_size = 16;
  bool enable_prefix_caching = true;
  Status validate() const;  // errors name "--num-blocks" / "block_size"
};

// A run of cached full blocks matching the start of a prompt. Pass it to allocate_slots to adopt them.
struct PrefixHit {
  std::vector<BlockId> blocks;
  std::vector<BlockKey> keys;  // keys[i] is blocks[i]'s prefix key (parents of the blocks computed next)
  int64_t num_tokens = 0;      // blocks.size() * block_size
  uint64_t extra_key = 0;
};

// K/V slots copied from a shared block into a private one.
struct BlockCopy {
  BlockId src;
  BlockId dst;
  int32_t n_slots = 0;
};

struct SlotAllocation {
  std::vector<BlockId> new_blocks;  // appended to the table, in order
  std::vector<BlockCopy> copies;    // copy-on-write done (in KvStorage when one is attached)
};

// Where a token's K/V goes.
struct SlotRef {
  BlockId block;
  int32_t slot = 0;
};

class KvCacheManager {
 public:
  // storage (optional, not owned) must have config's num_blocks and block_size; copy-on-write copies
  // slots there. Without one the manager tracks metadata only and reports copies for the caller to do.
  static Result<KvCacheManager> create(const KvCacheConfig& config, KvStorage* storage = nullptr);

  // extra_key separates prefixes that must not be shared although their tokens match (model, adapter).
  Status add_sequence(SeqId seq, uint64_t extra_key = 0);
  bool has_sequence(SeqId seq) const { return seqs_.count(seq) != 0; }

  // Longest run of cached full blocks matching prompt's start, stopping before the last prompt token so it
  // is still computed (its logits are needed). Counts lookups, queried and hit tokens. Touches nothing.
  PrefixHit find_cached_prefix(std::span<const int32_t> prompt, uint64_t extra_key = 0);

  // Blocks allocate_slots would take from the free queue (including cached free blocks a hit would adopt).
  Result<int32_t> num_blocks_needed(SeqId seq, int64_t n_new_tokens, const PrefixHit& hit = {}) const;
  // Makes room for n_new_tokens more tokens: adopts `hit` first (the sequence must be empty), then takes a
  // new block only when the last one is full, and copies the last block first if it is shared and will be
  // written. All or nothing: on failure nothing changes and the error names blocks needed vs free.
  Result<SlotAllocation> allocate_slots(SeqId seq, int64_t n_new_tokens, const PrefixHit& hit = {});

  // The child shares all the parent's blocks (ref_count++); either copies a shared block before writing it.
  Status fork(SeqId parent, SeqId child);
  // Rolls back to the first n_tokens tokens; blocks then holding no token are freed (last block first).
  Status truncate(SeqId seq, int64_t n_tokens);
  // Releases every block, last first, so a sequence's tail is evicted before the prefix others may share.
  Status free_sequence(SeqId seq);
  // After K/V of token_ids (the sequence's first tokens, all computed) are written: registers the full
  // blocks among them as cached prefixes. token_ids.size() must not exceed the sequence's tokens.
  Status cache_full_blocks(SeqId seq, std::span<const int32_t> token_ids);

  // Where the token at `pos` (0-based, < num_tokens) of a sequence lives.
  Result<SlotRef> slot_of(SeqId seq, int64_t pos) const;
  const BlockTable* table(SeqId seq) const;  // nullptr if unknown

  // Exact accounting.
  int32_t num_total_blocks() const { return pool_->num_total(); }
  int32_t num_free_blocks() const { return pool_->num_free(); }
  int32_t num_used_blocks() const { return pool_->num_used(); }
  int32_t num_cached_blocks() const { return pool_->num_cached(); }
  double usage() const { return pool_->usage(); }
  int32_t block_size() const { return config_.block_size; }
  int32_t ref_count(BlockId block) const { return pool_->block(block).ref_count; }
  bool is_cached(BlockId block) const { return pool_->is_cached(block); }
  std::vector<BlockId> free_queue_order() const { return pool_->free_queue_order(); }
  const PrefixCacheStats& prefix_stats() const { return prefix_stats_; }
  size_t num_sequences() const { return seqs_.size(); }
  KvSnapshot snapshot() const;

  // Recomputes everything from the tables: used + free = total, each ref count = tables holding the block,
  // the free queue = exactly the blocks at ref 0, the index = exactly the keyed blocks. Describes the first
  // violation found.
  Status check_invariants() const;

  void set_event_sink(KvEventSink sink);

 private:
  struct Sequence {
    explicit Sequence(int32_t block_size) : table(block_size) {}
    BlockTable table;
    std::vector<BlockKey> keys;  // prefix keys of the leading full blocks already cached (or adopted)
    uint64_t extra_key = 0;
  };

  KvCacheManager(const KvCacheConfig& config, KvStorage* storage);
  Result<Sequence*> find(SeqId seq, const char* what);
  Result<const Sequence*> find(SeqId seq, const char* what) const;
  // Whether writing the next token needs the last block copied first, and the fill to copy.
  bool needs_copy_on_write(const Sequence& s) const;
  void emit(KvEventType type, SeqId seq, std::vector<BlockId> blocks) const;

  KvCacheConfig config_;
  KvStorage* storage_ = nullptr;
  std::unique_ptr<BlockPool> pool_;
  std::map<SeqId, Sequence> seqs_;  // ordered: snapshots list sequences by id
  PrefixCacheStats prefix_stats_;
  KvEventSink sink_;
};

}  // namespace helix
