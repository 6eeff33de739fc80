// Shares the rows of one parallel dispatch (one matrix, q/k/v sharing an input, a prepack), in panels of a few
// rows, among threads.
//
// A decode step is ~110 dispatches, each ending at a barrier, so a thread that finishes early idles until the
// slowest one is done. Equal static shares leave that idle time whenever the two cores stream at different
// rates (they do: the machine's other tenants take bandwidth unevenly); many small dynamic ranges fix the
// balance but turn every range start into a cold memory stream. Here each thread owns one contiguous home
// range and takes it from the front in shrinking pieces (a quarter of what is left), so its reads stay one
// sequential stream; a thread whose home is empty steals shrinking pieces from the back of the fullest home.
// The last pieces are single panels, so threads finish within about one panel of each other.
//
// Panels are numbered across the calls of the dispatch in order; a piece never spans two calls.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace helix {

class PanelScheduler {
 public:
  struct Piece {
    int call = 0;
    int64_t begin = 0;  // panels, numbered within the call
    int64_t end = 0;
    int64_t reach = 0;  // panels of this call the taker will most likely take next are below this
  };

  // call_panels[i]: panels of call i. Homes: one contiguous range per thread, as equal as panels allow.
  void reset(std::span<const int64_t> call_panels, int n_homes);

  // The next piece of home `home` for its owner (from the front). False: the home is empty.
  bool take_own(int home, Piece* piece);
  // A piece from the back of the home with most panels left. False: every home is empty.
  bool steal(Piece* piece);

  int homes() const { return n_homes_; }

 private:
  // next (low 32 bits) and end (high 32 bits) of a home's unclaimed range; owner and thieves move them
  // together with one compare-exchange, so no panel is taken twice.
  struct alignas(64) Home {
    std::atomic<uint64_t> range{0};
  };
  static uint64_t pack(int64_t next, int64_t end) { return static_cast<uint64_t>(end) << 32 | static_cast<uint64_t>(next); }
  static int64_t next_of(uint64_t r) { return static_cast<int64_t>(r & 0xffffffffu); }
  static int64_t end_of(uint64_t r) { return static_cast<int64_t>(r >> 32); }
  int call_of(int64_t panel) const;  // the call holding global panel `panel`
  Piece local(int64_t begin, int64_t end, int64_t reach) const;

  std::vector<int64_t> call_start_;  // global index of each call's first panel, then the total
  std::unique_ptr<Home[]> homes_;  // atomics cannot live in a resizable vector
  int n_homes_ = 0;
  int capacity_ = 0;
};

}  // namespace helix
