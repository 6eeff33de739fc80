// The state of a request while the engine serves it.
//  - RequestState: what the client side and the engine thread share (the event stream, cancel flag, usage).
//    Thread-safe; the engine only ever appends to it, so it never waits on a client.
//  - Request: the engine thread's bookkeeping for one request (timings, choices left, its sequences).
//  - Sequence: one choice of a request as the scheduler sees it: tokens, how many of them have K/V in the
//    cache, and the sampler whose random state must survive a preemption.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/serving_engine.h"
#include "engine/speculative/proposer.h"
#include "kv/kv_ids.h"
#include "model/sampler.h"

namespace helix {

using EngineClock = std::chrono::steady_clock;

// Wakes the engine thread (a submission, a cancel). Shared with handles so one that outlives the engine
// still has something to poke.
class EngineSignal {
 public:
  void notify();
  // Waits until notified (or `timeout` passes), then clears the flag.
  void wait(std::chrono::milliseconds timeout);
  void clear();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool pending_ = false;
};

class RequestState {
 public:
  RequestState(uint64_t id, int32_t n_choices, std::shared_ptr<EngineSignal> signal);

  uint64_t id() const { return id_; }

  // Client side.
  bool next(TokenEvent& event, std::chrono::milliseconds timeout);
  bool finished() const;
  void cancel();
  RequestUsage usage() const;

  // Engine side: never blocks beyond the short internal lock.
  bool cancel_requested() const { return cancel_.load(std::memory_order_acquire); }
  void push_token(int32_t index, int32_t token, TokenSource source = TokenSource::Target);
  // Ends choice `index` (each choice ends exactly once).
  void finish_choice(int32_t index, FinishKind kind, std::string error = {});
  void set_prompt_usage(int64_t prompt_tokens, int64_t cached_prompt_tokens);
  void add_completion_tokens(int64_t n);
  void add_target_forward();
  // Sizes the accepted-per-step histogram for spec_tokens drafts per step.
  void init_speculation(int32_t spec_tokens);
  void add_verification(int32_t proposed, int32_t accepted);

 private:
  const uint64_t id_;
  std::shared_ptr<EngineSignal> signal_;
  std::atomic<bool> cancel_{false};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<TokenEvent> events_;
  int32_t choices_left_;
  RequestUsage usage_;
};

struct Request;

struct Sequence {
  Sequence(SeqId id, int32_t choice, std::vector<int32_t> prompt, SamplingParams sampling);

  SeqId id;
  Request* request = nullptr;   // the owner (null in scheduler tests)
  int32_t choice = 0;           // index of this choice in the request's output
  std::vector<int32_t> tokens;  // prompt + generated tokens still to be fed back (all but an ending one)
  int64_t prompt_len = 0;
  int64_t computed = 0;         // leading tokens whose K/V are in the cache
  int64_t kv_tokens = 0;        // leading tokens with slots allocated (computed + those in this step)
  int64_t generated = 0;        // tokens sampled so far (an ending stop token included)
  int32_t forks_pending = 0;    // choices to fork from this one when its prompt is computed (paged, n > 1)
  int32_t preemptions = 0;
  bool running = false;
  Sampler sampler;              // its random state travels with the sequence through preemptions
  EngineClock::time_point last_token_time{};
  // Speculative decoding. For one step, `drafts` tokens are appended to `tokens` so the scheduler schedules
  // and budgets them like any others; verification cuts `tokens` back to the context plus the kept drafts.
  int32_t drafts = 0;
  Proposal proposal;              // this step's drafts (and their distributions when sampled)
  bool proposed = false;          // the proposer was asked this step: it expects on_accept
  bool in_proposer = false;       // the proposer holds state for this sequence (dropped on preemption)
  std::vector<int32_t> verified;  // this step's verified tokens: accepted drafts, then the target's token
  int32_t verified_accepted = 0;
  int32_t verified_proposed = 0;

  int64_t num_tokens() const { return static_cast<int64_t>(tokens.size()); }
  int64_t pending_tokens() const { return num_tokens() - computed; }
  // Running seats this sequence takes once its forks exist.
  int32_t seats() const { return 1 + forks_pending; }
};

struct Request {
  uint64_t id = 0;
  std::shared_ptr<RequestState> state;
  RequestParams params;
  EngineClock::time_point submitted{};
  bool admitted = false;          // first admission done (usage and prompt counters recorded)
  bool first_token_sent = false;
  int32_t choices_left = 0;
  std::vector<bool> choice_done;  // per choice: its finish event was sent
  bool cancelled = false;
  SpecMethod spec = SpecMethod::None;  // resolved at submission
  int32_t spec_tokens = 0;
  uint64_t last_forward_step = 0;       // the last engine step that computed tokens of this request
  std::vector<std::unique_ptr<Sequence>> sequences;
};

}  // namespace helix
