#include "engine/request_queue.h"

#include <algorithm>

namespace helix {

bool RequestQueue::remove(const Sequence* seq) {
  const auto it = std::find(queue_.begin(), queue_.end(), seq);
  if (it == queue_.end()) return false;
  queue_.erase(it);
  return true;
}

}  // namespace helix
