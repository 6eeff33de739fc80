#include "kernels/panel_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

namespace helix {
namespace {

using Piece = PanelScheduler::Piece;

std::vector<std::pair<int64_t, int64_t>> spans(const std::vector<Piece>& pieces) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const Piece& p : pieces) out.emplace_back(p.begin, p.end);
  return out;
}

// The owner takes a quarter of what is left, at least one panel, front to back: one sequential stream whose
// last pieces are single panels.
TEST(PanelScheduler, OwnerTakesShrinkingPiecesFromTheFront) {
  PanelScheduler s;
  const int64_t panels[] = {64};
  s.reset(panels, 2);
  ASSERT_EQ(s.homes(), 2);
  std::vector<Piece> got;
  Piece p;
  while (s.take_own(0, &p)) got.push_back(p);
  const std::vector<std::pair<int64_t, int64_t>> want = {{0, 8},   {8, 14},  {14, 18}, {18, 21}, {21, 23},
                                                         {23, 25}, {25, 26}, {26, 27}, {27, 28}, {28, 29},
                                                         {29, 30}, {30, 31}, {31, 32}};
  EXPECT_EQ(spans(got), want);
  for (const Piece& piece : got) {
    EXPECT_EQ(piece.call, 0);
    EXPECT_EQ(piece.reach, 32) << "the rest of the home is the owner's likely next work";
  }
}

// A thief takes from the back of the fullest home, and only what it took is its reach.
TEST(PanelScheduler, ThiefTakesFromTheBackOfTheFullestHome) {
  PanelScheduler s;
  const int64_t panels[] = {64};
  s.reset(panels, 2);
  Piece p;
  ASSERT_TRUE(s.take_own(0, &p));  // home 0: 24 left, home 1: 32 left
  ASSERT_TRUE(s.steal(&p));
  EXPECT_EQ(std::make_pair(p.begin, p.end), std::make_pair(int64_t{56}, int64_t{64}));
  EXPECT_EQ(p.reach, 64);
  ASSERT_TRUE(s.steal(&p));  // home 0: 24 left, home 1: 24 left: the first of equals
  EXPECT_EQ(std::make_pair(p.begin, p.end), std::make_pair(int64_t{26}, int64_t{32}));
  ASSERT_TRUE(s.take_own(1, &p));  // the owner of home 1 still starts at its front
  EXPECT_EQ(std::make_pair(p.begin, p.end), std::make_pair(int64_t{32}, int64_t{38}));
}

// Panels are numbered across calls, but a piece never spans two, and its numbers are the call's own.
TEST(PanelScheduler, PiecesStayInsideOneCall) {
  PanelScheduler s;
  const int64_t panels[] = {3, 5};
  s.reset(panels, 1);
  std::vector<Piece> got;
  Piece p;
  while (s.take_own(0, &p)) got.push_back(p);
  ASSERT_EQ(got.size(), 7u);  // 2 + 1 in call 0, then single panels (a quarter of <= 5 left)
  EXPECT_EQ(got[0].call, 0);
  EXPECT_EQ(std::make_pair(got[0].begin, got[0].end), std::make_pair(int64_t{0}, int64_t{2}));
  EXPECT_EQ(got[0].reach, 3) << "reach stops at the call's end";
  EXPECT_EQ(std::make_pair(got[1].begin, got[1].end), std::make_pair(int64_t{2}, int64_t{3}));
  for (size_t i = 2; i < got.size(); ++i) {
    EXPECT_EQ(got[i].call, 1);
    EXPECT_EQ(got[i].begin, static_cast<int64_t>(i) - 2);
    EXPECT_EQ(got[i].end, got[i].begin + 1);
    EXPECT_EQ(got[i].reach, 5);
  }
  EXPECT_FALSE(s.steal(&p));
}

TEST(PanelScheduler, ThiefStopsAtACallBoundary) {
  PanelScheduler s;
  const int64_t panels[] = {30, 2};
  s.reset(panels, 1);
  Piece p;
  ASSERT_TRUE(s.steal(&p));  // 32 left: a quarter would be 8, but the last call has only 2
  EXPECT_EQ(p.call, 1);
  EXPECT_EQ(std::make_pair(p.begin, p.end), std::make_pair(int64_t{0}, int64_t{2}));
  ASSERT_TRUE(s.steal(&p));  // 30 left in call 0: 7 from its back
  EXPECT_EQ(p.call, 0);
  EXPECT_EQ(std::make_pair(p.begin, p.end), std::make_pair(int64_t{23}, int64_t{30}));
}

TEST(PanelScheduler, MoreHomesThanPanels) {
  PanelScheduler s;
  const int64_t panels[] = {1};
  s.reset(panels, 4);
  Piece p;
  int taken = 0;
  for (int h = 0; h < 4; ++h)
    while (s.take_own(h, &p)) ++taken;
  EXPECT_EQ(taken, 1);
  EXPECT_FALSE(s.steal(&p));
}

// Owners and thieves racing on real threads: every panel is run exactly once.
TEST(PanelScheduler, EveryPanelOnceUnderRaces) {
  PanelScheduler s;
  for (int rep = 0; rep < 300; ++rep) {
    const int threads = 2 + rep % 3;
    const std::vector<int64_t> panels = {128 + rep % 7, 16, 16 + rep % 5};
    std::vector<int64_t> start = {0};
    for (int64_t n : panels) start.push_back(start.back() + n);
    std::vector<std::atomic<int>> runs(static_cast<size_t>(start.back()));
    s.reset(panels, threads);
    std::atomic<int> bad{0};
    auto work = [&](int home) {
      Piece p;
      auto run = [&] {
        if (p.begin < 0 || p.end > panels[p.call] || p.begin >= p.end || p.reach < p.end) bad.fetch_add(1);
        for (int64_t i = p.begin; i < p.end; ++i) runs[start[p.call] + i].fetch_add(1);
      };
      // Home 0's owner arrives late, so its home is stolen from while it works.
      if (home == 0) std::this_thread::yield();
      while (s.take_own(home, &p)) run();
      while (s.steal(&p)) run();
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
    for (std::thread& t : pool) t.join();
    ASSERT_EQ(bad.load(), 0);
    for (size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i].load(), 1) << "rep " << rep << " panel " << i;
  }
}

}  // namespace
}  // namespace helix
