// RequestQueue: the waiting sequences in admission order (FCFS). New requests join the back; a preempted
// sequence goes back to the front, so it is readmitted before anything that arrived after it.
#pragma once

#include <cstddef>
#include <deque>

#include "engine/request.h"

namespace helix {

class RequestQueue {
 public:
  void push_back(Sequence* seq) { queue_.push_back(seq); }
  void push_front(Sequence* seq) { queue_.push_front(seq); }
  Sequence* front() const { return queue_.front(); }
  void pop_front() { queue_.pop_front(); }
  // Removes a sequence wherever it is (cancel); false if it is not queued.
  bool remove(const Sequence* seq);

  bool empty() const { return queue_.empty(); }
  size_t size() const { return queue_.size(); }
  auto begin() const { return queue_.begin(); }
  auto end() const { return queue_.end(); }

 private:
  std::deque<Sequence*> queue_;
};

}  // namespace helix
