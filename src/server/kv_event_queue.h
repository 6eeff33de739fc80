// KvEventQueue: the buffer between the engine thread, which publishes KV events and must never wait, and one
// /kv/events client, which reads at its own pace. Bounded: past `capacity` the oldest events are dropped and
// counted, so a slow client costs memory up to its bound and learns how many it missed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "kv/kv_event.h"

namespace helix::server {

struct TimedKvEvent {
  KvEvent event;
  int64_t timestamp_ms = 0;  // since the Unix epoch, taken when published
};

class KvEventQueue {
 public:
  explicit KvEventQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Engine thread: O(1), takes the lock only briefly.
  void push(const KvEvent& event);

  // Waits up to `timeout` for events; moves every queued one into `out` and returns how many were dropped
  // since the last call.
  uint64_t pop_all(std::vector<TimedKvEvent>& out, std::chrono::milliseconds timeout);

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<TimedKvEvent> events_;
  uint64_t dropped_ = 0;
};

}  // namespace helix::server
