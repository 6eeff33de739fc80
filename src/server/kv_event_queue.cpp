#include "server/kv_event_queue.h"

namespace helix::server {

void KvEventQueue::push(const KvEvent& event) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  TimedKvEvent item{event, std::chrono::duration_cast<std::chrono::milliseconds>(now).count()};
  {
    std::lock_guard lock(mutex_);
    if (events_.size() >= capacity_) {
      events_.pop_front();
      ++dropped_;
    }
    events_.push_back(std::move(item));
  }
  ready_.notify_one();
}

uint64_t KvEventQueue::pop_all(std::vector<TimedKvEvent>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [this] { return !events_.empty() || dropped_ > 0; });
  for (auto& e : events_) out.push_back(std::move(e));
  events_.clear();
  const uint64_t dropped = dropped_;
  dropped_ = 0;
  return dropped;
}

}  // namespace helix::server
