#include "kv/kv_cache_manager.h"

#include <algorithm>

#include "kv/kv_storage.h"
#include "kv/memory_math.h"

namespace helix {

Status KvCacheConfig::validate() const {
  if (num_blocks < 1 || num_blocks > kMaxNumBlocks)
    return make_error(fmt::format("--num-blocks: must be between 1 and {}, got {}", kMaxNumBlocks, num_blocks),
                      "--num-blocks");
  if (block_size < 1 || block_size > kMaxBlockSize)
    return make_error(fmt::format("block_size: must be between 1 and {}, got {}", kMaxBlockSize, block_size),
                      "block_size");
  return {};
}

Result<KvCacheManager> KvCacheManager::create(const KvCacheConfig& config, KvStorage* storage) {
  HELIX_TRY(config.validate());
  if (storage && (storage->num_blocks() != config.num_blocks || storage->block_size() != config.block_size))
    return errorf("kv storage has {} blocks of {} tokens, the cache manager expects {} of {}", storage->num_blocks(),
                  storage->block_size(), config.num_blocks, config.block_size);
  return KvCacheManager(config, storage);
}

KvCacheManager::KvCacheManager(const KvCacheConfig& config, KvStorage* storage)
    : config_(config), storage_(storage), pool_(std::make_unique<BlockPool>(config.num_blocks, config.block_size)) {}

void KvCacheManager::set_event_sink(KvEventSink sink) {
  sink_ = sink;
  pool_->set_event_sink(std::move(sink));
}

void KvCacheManager::emit(KvEventType type, SeqId seq, std::vector<BlockId> blocks) const {
  if (sink_ && !blocks.empty()) sink_(KvEvent{type, seq, std::move(blocks)});
}

Result<KvCacheManager::Sequence*> KvCacheManager::find(SeqId seq, const char* what) {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end()) return errorf("{}: unknown sequence {}", what, seq.value);
  return &it->second;
}

Result<const KvCacheManager::Sequence*> KvCacheManager::find(SeqId seq, const char* what) const {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end()) return errorf("{}: unknown sequence {}", what, seq.value);
  return &it->second;
}

const BlockTable* KvCacheManager::table(SeqId seq) const {
  const auto it = seqs_.find(seq);
  return it == seqs_.end() ? nullptr : &it->second.table;
}

Status KvCacheManager::add_sequence(SeqId seq, uint64_t extra_key) {
  if (!seq.valid()) return errorf("add_sequence: invalid sequence id {}", seq.value);
  const auto [it, inserted] = seqs_.try_emplace(seq, config_.block_size);
  if (!inserted) return errorf("add_sequence: sequence {} already exists", seq.value);
  it->second.extra_key = extra_key;
  return {};
}

PrefixHit KvCacheManager::find_cached_prefix(std::span<const int32_t> prompt, uint64_t extra_key) {
  PrefixHit hit;
  hit.extra_key = extra_key;
  ++prefix_stats_.lookups;
  prefix_stats_.queried_tokens += static_cast<int64_t>(prompt.size());
  if (!config_.enable_prefix_caching || prompt.empty()) return hit;
  const size_t bs = static_cast<size_t>(config_.block_size);
  // Stop before the last prompt token: at least one token must be computed to produce logits.
  const size_t max_blocks = (prompt.size() - 1) / bs;
  BlockKey parent = kRootKey;
  for (size_t i = 0; i < max_blocks; ++i) {
    const auto tokens = prompt.subspan(i * bs, bs);
    const BlockKey key = hash_block_tokens(parent, tokens, extra_key);
    const auto block = pool_->find_cached(key, tokens);
    if (!block) break;
    hit.blocks.push_back(*block);
    hit.keys.push_back(key);
    parent = key;
  }
  hit.num_tokens = static_cast<int64_t>(hit.blocks.size() * bs);
  prefix_stats_.hit_tokens += hit.num_tokens;
  return hit;
}

bool KvCacheManager::needs_copy_on_write(const Sequence& s) const {
  const BlockTable& t = s.table;
  if (t.num_blocks() == 0 || t.last_block_fill() >= config_.block_size) return false;
  return pool_->block(t.block(t.num_blocks() - 1)).ref_count > 1;
}

namespace {

struct Plan {
  int32_t new_blocks = 0;   // appended to the table
  bool copy_last = false;   // last block shared and about to be written
  int32_t adopted_free = 0;  // hit blocks now in the free queue (a touch takes them out)
  int32_t needed() const { return new_blocks + (copy_last ? 1 : 0) + adopted_free; }
};

}  // namespace

Result<int32_t> KvCacheManager::num_blocks_needed(SeqId seq, int64_t n_new_tokens, const PrefixHit& hit) const {
  const auto s = find(seq, "num_blocks_needed");
  if (!s) return Unexpected{s.error()};
  if (n_new_tokens < 0) return errorf("num_blocks_needed: sequence {}: {} new tokens", seq.value, n_new_tokens);
  const BlockTable& t = (*s)->table;
  int32_t adopted_free = 0;
  for (BlockId b : hit.blocks) adopted_free += pool_->block(b).ref_count == 0 ? 1 : 0;
  const int64_t total = t.num_tokens() + hit.num_tokens + n_new_tokens;
  const int64_t have = t.num_blocks() + static_cast<int64_t>(hit.blocks.size());
  const int64_t fresh = std::max<int64_t>(0, blocks_for_tokens(total, config_.block_size) - have);
  const bool copy = n_new_tokens > 0 && hit.blocks.empty() && needs_copy_on_write(**s);
  return static_cast<int32_t>(std::min<int64_t>(fresh + (copy ? 1 : 0) + adopted_free, INT32_MAX));
}

Result<SlotAllocation> KvCacheManager::allocate_slots(SeqId seq, int64_t n_new_tokens, const PrefixHit& hit) {
  auto found = find(seq, "allocate_slots");
  if (!found) return Unexpected{found.error()};
  Sequence& s = **found;
  BlockTable& t = s.table;
  if (n_new_tokens < 0) return errorf("allocate_slots: sequence {}: {} new tokens", seq.value, n_new_tokens);

  // Validate the hit: it must start an empty sequence and still be cached (an allocation since the lookup
  // may have evicted its blocks).
  if (!hit.blocks.empty()) {
    if (t.num_tokens() != 0)
      return errorf("allocate_slots: sequence {} already holds {} tokens; a prefix hit must come first", seq.value,
                    t.num_tokens());
    if (hit.extra_key != s.extra_key || hit.keys.size() != hit.blocks.size() ||
        hit.num_tokens != static_cast<int64_t>(hit.blocks.size()) * config_.block_size)
      return errorf("allocate_slots: sequence {}: prefix hit does not belong to this sequence", seq.value);
    for (size_t i = 0; i < hit.blocks.size(); ++i) {
      if (hit.blocks[i].value < 0 || hit.blocks[i].value >= num_total_blocks())
        return errorf("allocate_slots: sequence {}: prefix hit names block {}", seq.value, hit.blocks[i].value);
      const KvBlock& b = pool_->block(hit.blocks[i]);
      if (!b.key || *b.key != hit.keys[i])
        return errorf("allocate_slots: sequence {}: prefix hit is stale (block {} was evicted); look it up again",
                      seq.value, b.id.value);
    }
  }

  const int64_t total = t.num_tokens() + hit.num_tokens + n_new_tokens;
  if (total > int64_t{num_total_blocks()} * config_.block_size)
    return errorf("allocate_slots: sequence {} needs {} blocks for {} tokens, the pool has {}", seq.value,
                  blocks_for_tokens(total, config_.block_size), total, num_total_blocks());
  Plan plan;
  for (BlockId b : hit.blocks) plan.adopted_free += pool_->block(b).ref_count == 0 ? 1 : 0;
  plan.new_blocks = static_cast<int32_t>(blocks_for_tokens(total, config_.block_size) - t.num_blocks() -
                                         static_cast<int64_t>(hit.blocks.size()));
  plan.new_blocks = std::max(plan.new_blocks, 0);
  plan.copy_last = n_new_tokens > 0 && hit.blocks.empty() && needs_copy_on_write(s);
  if (plan.needed() > num_free_blocks())
    return errorf("allocate_slots: sequence {} needs {} more blocks for {} tokens, {} free of {}", seq.value,
                  plan.needed() - plan.adopted_free, n_new_tokens + hit.num_tokens,
                  num_free_blocks() - plan.adopted_free, num_total_blocks());

  // From here on nothing can fail.
  SlotAllocation result;
  if (!hit.blocks.empty()) {
    pool_->touch(hit.blocks);
    for (BlockId b : hit.blocks) t.append(b);
    s.keys = hit.keys;
    t.set_num_tokens(hit.num_tokens);
    emit(KvEventType::PrefixHit, seq, hit.blocks);
  }
  if (n_new_tokens > 0 && t.num_blocks() > 0 && t.last_block_fill() < config_.block_size) {
    const int32_t last = t.num_blocks() - 1;
    const BlockId old = t.block(last);
    if (plan.copy_last) {
      const BlockId copy = pool_->allocate(1).value().front();
      const int32_t fill = t.last_block_fill();
      if (storage_) storage_->copy_slots(old, copy, fill);
      t.set(last, copy);
      const BlockId released[] = {old};
      pool_->free(released);
      result.copies.push_back(BlockCopy{old, copy, fill});
      emit(KvEventType::CopyOnWrite, seq, {old, copy});
    } else if (pool_->is_cached(old)) {
      // Ours alone but still indexed (a rollback cut into it): its slots are about to change.
      pool_->uncache(old);
    }
  }
  if (plan.new_blocks > 0) {
    result.new_blocks = pool_->allocate(plan.new_blocks).value();
    for (BlockId b : result.new_blocks) t.append(b);
    emit(KvEventType::Allocate, seq, result.new_blocks);
  }
  t.set_num_tokens(total);
  return result;
}

Status KvCacheManager::fork(SeqId parent, SeqId child) {
  auto p = find(parent, "fork");
  if (!p) return Unexpected{p.error()};
  if (!child.valid()) return errorf("fork: invalid child sequence id {}", child.value);
  if (seqs_.count(child)) return errorf("fork: child sequence {} already exists", child.value);
  Sequence copy = **p;
  std::vector<BlockId> shared;
  for (int32_t i = 0; i < copy.table.num_blocks(); ++i) shared.push_back(copy.table.block(i));
  pool_->touch(shared);
  seqs_.emplace(child, std::move(copy));
  emit(KvEventType::Fork, child, std::move(shared));
  return {};
}

Status KvCacheManager::truncate(SeqId seq, int64_t n_tokens) {
  auto found = find(seq, "truncate");
  if (!found) return Unexpected{found.error()};
  Sequence& s = **found;
  BlockTable& t = s.table;
  if (n_tokens < 0 || n_tokens > t.num_tokens())
    return errorf("truncate: sequence {} holds {} tokens, cannot keep {}", seq.value, t.num_tokens(), n_tokens);
  const int32_t keep = static_cast<int32_t>(blocks_for_tokens(n_tokens, config_.block_size));
  std::vector<BlockId> released;
  for (int32_t i = t.num_blocks() - 1; i >= keep; --i) released.push_back(t.block(i));
  pool_->free(released);
  t.resize_blocks(keep);
  t.set_num_tokens(n_tokens);
  const size_t full = static_cast<size_t>(n_tokens / config_.block_size);
  if (s.keys.size() > full) s.keys.resize(full);
  emit(KvEventType::Free, seq, std::move(released));
  return {};
}

Status KvCacheManager::free_sequence(SeqId seq) {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end()) return errorf("free_sequence: unknown sequence {}", seq.value);
  const BlockTable& t = it->second.table;
  std::vector<BlockId> released;
  for (int32_t i = t.num_blocks() - 1; i >= 0; --i) released.push_back(t.block(i));
  pool_->free(released);
  seqs_.erase(it);
  emit(KvEventType::Free, seq, std::move(released));
  return {};
}

Status KvCacheManager::cache_full_blocks(SeqId seq, std::span<const int32_t> token_ids) {
  auto found = find(seq, "cache_full_blocks");
  if (!found) return Unexpected{found.error()};
  Sequence& s = **found;
  const BlockTable& t = s.table;
  if (static_cast<int64_t>(token_ids.size()) > t.num_tokens())
    return errorf("cache_full_blocks: sequence {} holds {} tokens, got {} token ids", seq.value, t.num_tokens(),
                  token_ids.size());
  if (!config_.enable_prefix_caching) return {};
  const size_t bs = static_cast<size_t>(config_.block_size);
  const size_t full = token_ids.size() / bs;
  std::vector<BlockId> cached;
  for (size_t i = s.keys.size(); i < full; ++i) {
    const BlockKey parent = i == 0 ? kRootKey : s.keys[i - 1];
    const auto tokens = token_ids.subspan(i * bs, bs);
    const BlockKey key = hash_block_tokens(parent, tokens, s.extra_key);
    const BlockId block = t.block(static_cast<int32_t>(i));
    const KvBlock& meta = pool_->block(block);
    if (meta.key) {
      // Shared with a fork that cached it first: it must hold the same prefix.
      if (*meta.key != key)
        return errorf("cache_full_blocks: sequence {}: block {} (index {}) holds a different prefix than the tokens "
                      "given",
                      seq.value, block.value, i);
    } else if (pool_->cache_full_block(block, key, tokens)) {
      cached.push_back(block);
    }
    s.keys.push_back(key);
  }
  emit(KvEventType::Cache, seq, std::move(cached));
  return {};
}

Result<SlotRef> KvCacheManager::slot_of(SeqId seq, int64_t pos) const {
  const auto s = find(seq, "slot_of");
  if (!s) return Unexpected{s.error()};
  const BlockTable& t = (*s)->table;
  if (pos < 0 || pos >= t.num_tokens())
    return errorf("slot_of: sequence {} holds {} tokens, no position {}", seq.value, t.num_tokens(), pos);
  return SlotRef{t.block(static_cast<int32_t>(pos / config_.block_size)),
                 static_cast<int32_t>(pos % config_.block_size)};
}

KvSnapshot KvCacheManager::snapshot() const {
  KvSnapshot snap;
  snap.block_size = config_.block_size;
  snap.num_blocks = num_total_blocks();
  snap.used_blocks = num_used_blocks();
  snap.free_blocks = num_free_blocks();
  snap.cached_blocks = num_cached_blocks();
  snap.usage = usage();
  snap.prefix = prefix_stats_;
  snap.blocks.resize(static_cast<size_t>(snap.num_blocks));
  for (int32_t i = 0; i < snap.num_blocks; ++i) {
    const KvBlock& b = pool_->block(BlockId{i});
    KvBlockInfo& info = snap.blocks[static_cast<size_t>(i)];
    info.id = i;
    info.ref_count = b.ref_count;
    info.cached = b.key.has_value();
    info.free = b.in_free_queue;
    if (info.free && info.cached) info.tokens_filled = config_.block_size;
  }
  for (const auto& [id, s] : seqs_) {
    KvSeqInfo seq_info;
    seq_info.seq = id.value;
    seq_info.num_tokens = s.table.num_tokens();
    seq_info.last_block_fill = s.table.last_block_fill();
    seq_info.num_cached_blocks = static_cast<int32_t>(s.keys.size());
    seq_info.block_ids.assign(s.table.ids().begin(), s.table.ids().end());
    for (int32_t i = 0; i < s.table.num_blocks(); ++i) {
      KvBlockInfo& info = snap.blocks[static_cast<size_t>(s.table.block(i).value)];
      info.owners.push_back(id.value);  // seqs_ is ordered, so owners come out ascending
      info.tokens_filled = std::max(info.tokens_filled, s.table.fill_of(i));
    }
    snap.sequences.push_back(std::move(seq_info));
  }
  for (BlockId b : pool_->free_queue_order()) snap.free_queue.push_back(b.value);
  return snap;
}

Status KvCacheManager::check_invariants() const {
  HELIX_TRY(pool_->check_invariants());
  std::vector<int32_t> holders(static_cast<size_t>(num_total_blocks()), 0);
  for (const auto& [id, s] : seqs_) {
    const BlockTable& t = s.table;
    if (t.num_blocks() != blocks_for_tokens(t.num_tokens(), config_.block_size))
      return errorf("sequence {}: {} tokens in {} blocks of {}", id.value, t.num_tokens(), t.num_blocks(),
                    config_.block_size);
    if (static_cast<int64_t>(s.keys.size()) > t.num_tokens() / config_.block_size)
      return errorf("sequence {}: {} prefix keys for {} tokens", id.value, s.keys.size(), t.num_tokens());
    for (int32_t i = 0; i < t.num_blocks(); ++i) {
      const BlockId b = t.block(i);
      if (b.value < 0 || b.value >= num_total_blocks())
        return errorf("sequence {}: block table names block {}", id.value, b.value);
      const auto before = t.ids().first(static_cast<size_t>(i));
      if (std::find(before.begin(), before.end(), b.value) != before.end())
        return errorf("sequence {}: block {} twice in its table", id.value, b.value);
      ++holders[static_cast<size_t>(b.value)];
    }
  }
  int32_t used = 0;
  for (int32_t i = 0; i < num_total_blocks(); ++i) {
    const int32_t refs = pool_->block(BlockId{i}).ref_count;
    if (refs != holders[static_cast<size_t>(i)])
      return errorf("block {}: ref_count {} but {} tables hold it", i, refs, holders[static_cast<size_t>(i)]);
    used += refs > 0 ? 1 : 0;
  }
  if (used != num_used_blocks() || num_used_blocks() + num_free_blocks() != num_total_blocks())
    return errorf("accounting: {} blocks held, used {} + free {} != total {}", used, num_used_blocks(),
                  num_free_blocks(), num_total_blocks());
  return {};
}

}  // namespace helix
