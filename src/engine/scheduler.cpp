#include "engine/scheduler.h"

#include <algorithm>

namespace helix {

Scheduler::Scheduler(KvPolicy& policy, SchedulerConfig config) : policy_(policy), config_(config) {}

void Scheduler::add(Sequence* seq) {
  seq->running = false;
  waiting_.push_back(seq);
}

int32_t Scheduler::running_seats() const {
  int32_t seats = 0;
  for (const Sequence* s : running_) seats += s->seats();
  return seats;
}

void Scheduler::preempt(Sequence* seq) {
  if (sink_) {
    const BlockTable* table = policy_.kv().table(seq->id);
    HELIX_CHECK(table != nullptr, "preempt: sequence {} holds no blocks", seq->id.value);
    std::vector<BlockId> blocks;
    for (int32_t i = 0; i < table->num_blocks(); ++i) blocks.push_back(table->block(i));
    sink_(KvEvent{KvEventType::Preempt, seq->id, std::move(blocks)});
  }
  policy_.release(*seq);
  seq->computed = 0;
  seq->kv_tokens = 0;
  seq->running = false;
  ++seq->preemptions;
  waiting_.push_front(seq);
}

SchedulerOutput Scheduler::schedule() {
  SchedulerOutput out;
  int64_t budget = config_.max_step_tokens;

  // 1. Running sequences.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Sequence* seq = running_[i];
    const int64_t n = std::min({seq->pending_tokens(), budget, config_.max_chunk_tokens});
    if (n <= 0) {
      ++i;
      continue;
    }
    bool room = false;
    for (;;) {
      if (policy_.grow(*seq, n)) {
        room = true;
        break;
      }
      Sequence* victim = running_.back();
      running_.pop_back();
      preempt(victim);
      out.preempted.push_back(victim);
      if (victim == seq) break;
    }
    if (!room) break;
    out.chunks.push_back(ScheduledChunk{seq, seq->computed, n, false});
    seq->kv_tokens = seq->computed + n;
    budget -= n;
    out.num_tokens += n;
    ++i;
  }

  // 2. Waiting sequences, unless this step preempted (what was just freed goes to the running first).
  if (out.preempted.empty()) {
    int32_t seats = running_seats();
    while (!waiting_.empty() && budget > 0) {
      Sequence* seq = waiting_.front();
      if (seats + seq->seats() > config_.max_running) break;
      const PrefixHit hit = policy_.lookup(*seq);
      const int64_t n = std::min({seq->num_tokens() - hit.num_tokens, budget, config_.max_chunk_tokens});
      // Nothing running: nobody to protect with the watermark, and a lone request always fits the pool.
      const int32_t reserve = running_.empty() ? 0 : config_.watermark_blocks;
      if (!policy_.admit(*seq, hit, n, reserve)) break;
      waiting_.pop_front();
      seq->running = true;
      seq->computed = hit.num_tokens;
      seq->kv_tokens = hit.num_tokens + n;
      running_.push_back(seq);
      seats += seq->seats();
      out.chunks.push_back(ScheduledChunk{seq, hit.num_tokens, n, true});
      budget -= n;
      out.num_tokens += n;
    }
  }
  return out;
}

void Scheduler::commit(const SchedulerOutput& out) {
  for (const ScheduledChunk& c : out.chunks) {
    HELIX_CHECK(c.seq->computed == c.start_pos, "commit: sequence {} computed {} but its chunk started at {}",
                c.seq->id.value, c.seq->computed, c.start_pos);
    c.seq->computed += c.n_tokens;
    policy_.computed(*c.seq);
  }
}

void Scheduler::fork(Sequence& parent, std::span<Sequence* const> children) {
  const auto it = std::find(running_.begin(), running_.end(), &parent);
  HELIX_CHECK(it != running_.end(), "fork: sequence {} is not running", parent.id.value);
  HELIX_CHECK(parent.forks_pending == static_cast<int32_t>(children.size()),
              "fork: sequence {} expects {} forks, got {}", parent.id.value, parent.forks_pending, children.size());
  for (Sequence* child : children) {
    policy_.fork(parent, *child);
    child->computed = parent.computed;
    child->kv_tokens = parent.kv_tokens;
    child->running = true;
  }
  parent.forks_pending = 0;
  running_.insert(it + 1, children.begin(), children.end());
}

void Scheduler::finish(Sequence* seq) {
  const auto it = std::find(running_.begin(), running_.end(), seq);
  if (it != running_.end()) {
    running_.erase(it);
    policy_.release(*seq);
  } else {
    waiting_.remove(seq);  // a waiting sequence holds no blocks
  }
  seq->running = false;
  seq->kv_tokens = 0;
}

}  // namespace helix
