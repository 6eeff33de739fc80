// Scheduler: iteration-level (continuous) batching over a KvPolicy, after vLLM v1's scheduler. There are no
// prefill and decode phases: every sequence has `computed` tokens with K/V in the cache and catches up to
// its token count within each step's token budget (a prompt in chunks, then one token per step).
//
// One step (schedule):
//  1. Running sequences, oldest admission first, each takes its pending tokens (capped by the budget and
//     the prefill chunk). When blocks run out, the latest admitted running sequence is preempted: its blocks
//     are freed, its computed count reset (its tokens, generated ones included, are kept) and it goes back
//     to the front of the waiting queue, to be recomputed when readmitted. If the sequence itself is the
//     latest, it is the one preempted.
//  2. Unless step 1 preempted, waiting sequences are admitted in order while blocks allow (keeping a
//     watermark of free blocks while anything runs), the running seats and the budget allow. Admission adopts
//     the longest cached prefix; computing starts past it.
// It makes decisions only: the engine runs the forward pass, then calls commit().
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/kv_policy.h"
#include "engine/request_queue.h"
#include "kv/kv_event.h"

namespace helix {

struct SchedulerConfig {
  int64_t max_step_tokens = 512;  // tokens in one forward step, over every sequence
  int64_t max_chunk_tokens = 512;  // most tokens one sequence computes in one step
  int32_t max_running = 256;       // running sequences (a request's pending forks count)
  int32_t watermark_blocks = 0;    // kept free when admitting while something runs
};

// A slice of one sequence's tokens to compute this step: tokens[start_pos, start_pos + n_tokens).
struct ScheduledChunk {
  Sequence* seq = nullptr;
  int64_t start_pos = 0;
  int64_t n_tokens = 0;
  bool admitted = false;  // admitted this step; start_pos is then the prefix-cache hit
};

struct SchedulerOutput {
  std::vector<ScheduledChunk> chunks;  // running sequences in admission order, then the newly admitted
  std::vector<Sequence*> preempted;    // in the order they were preempted
  int64_t num_tokens = 0;
  bool empty() const { return chunks.empty(); }
};

class Scheduler {
 public:
  Scheduler(KvPolicy& policy, SchedulerConfig config);

  const SchedulerConfig& config() const { return config_; }
  KvPolicy& policy() { return policy_; }

  // A new sequence joins the back of the waiting queue.
  void add(Sequence* seq);
  SchedulerOutput schedule();
  // The step computed every chunk of `out`: advances computed counts and caches the now-full blocks.
  void commit(const SchedulerOutput& out);
  // Children share the parent's blocks and run right after it (they were admitted with it).
  void fork(Sequence& parent, std::span<Sequence* const> children);
  // Removes a sequence wherever it is; its blocks are given back at once (finish, cancel).
  void finish(Sequence* seq);

  const std::vector<Sequence*>& running() const { return running_; }
  const RequestQueue& waiting() const { return waiting_; }
  bool has_work() const { return !running_.empty() || !waiting_.empty(); }

  // Receives a Preempt event (with the blocks about to be freed) for each preemption.
  void set_event_sink(KvEventSink sink) { sink_ = std::move(sink); }

 private:
  void preempt(Sequence* seq);
  int32_t running_seats() const;

  KvPolicy& policy_;
  SchedulerConfig config_;
  std::vector<Sequence*> running_;  // admission order (forks right after their parent)
  RequestQueue waiting_;
  KvEventSink sink_;
};

}  // namespace helix
