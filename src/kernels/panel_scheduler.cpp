#include "kernels/panel_scheduler.h"

#include <algorithm>

#include "common/result.h"

namespace helix {

void PanelScheduler::reset(std::span<const int64_t> call_panels, int n_homes) {
  HELIX_CHECK(n_homes >= 1 && !call_panels.empty(), "PanelScheduler: {} homes, {} calls", n_homes, call_panels.size());
  call_start_.assign(1, 0);
  for (const int64_t panels : call_panels) call_start_.push_back(call_start_.back() + panels);
  const int64_t total = call_start_.back();
  HELIX_CHECK(total < (int64_t{1} << 31), "PanelScheduler: {} panels is too many", total);
  if (capacity_ < n_homes) {
    homes_ = std::make_unique<Home[]>(static_cast<size_t>(n_homes));
    capacity_ = n_homes;
  }
  n_homes_ = n_homes;
  for (int h = 0; h < n_homes; ++h)
    homes_[h].range.store(pack(total * h / n_homes, total * (h + 1) / n_homes), std::memory_order_relaxed);
}

int PanelScheduler::call_of(int64_t panel) const {
  // Few calls (three at most in a forward pass): a linear scan.
  int c = 0;
  while (call_start_[c + 1] <= panel) ++c;
  return c;
}

PanelScheduler::Piece PanelScheduler::local(int64_t begin, int64_t end, int64_t reach) const {
  const int c = call_of(begin);
  return Piece{c, begin - call_start_[c], end - call_start_[c], std::min(reach, call_start_[c + 1]) - call_start_[c]};
}

bool PanelScheduler::take_own(int home, Piece* piece) {
  std::atomic<uint64_t>& range = homes_[home].range;
  uint64_t r = range.load(std::memory_order_acquire);
  for (;;) {
    const int64_t next = next_of(r), end = end_of(r);
    if (next >= end) return false;
    const int64_t boundary = call_start_[call_of(next) + 1];
    const int64_t take = std::min({std::max<int64_t>(1, (end - next) / 4), boundary - next, end - next});
    if (range.compare_exchange_weak(r, pack(next + take, end), std::memory_order_acq_rel, std::memory_order_acquire)) {
      *piece = local(next, next + take, end);
      return true;
    }
  }
}

bool PanelScheduler::steal(Piece* piece) {
  for (;;) {
    int victim = -1;
    int64_t most = 0;
    for (int h = 0; h < n_homes_; ++h) {
      const uint64_t r = homes_[h].range.load(std::memory_order_acquire);
      if (end_of(r) - next_of(r) > most) most = end_of(r) - next_of(r), victim = h;
    }
    if (victim < 0) return false;
    std::atomic<uint64_t>& range = homes_[victim].range;
    uint64_t r = range.load(std::memory_order_acquire);
    const int64_t next = next_of(r), end = end_of(r);
    if (next >= end) continue;  // emptied meanwhile: look again
    const int64_t boundary = call_start_[call_of(end - 1)];
    const int64_t take = std::min({std::max<int64_t>(1, (end - next) / 4), end - boundary, end - next});
    if (range.compare_exchange_strong(r, pack(next, end - take), std::memory_order_acq_rel, std::memory_order_acquire)) {
      *piece = local(end - take, end, end);
      return true;
    }
  }
}

}  // namespace helix
