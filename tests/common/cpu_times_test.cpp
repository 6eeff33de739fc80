#include "common/cpu_times.h"

#include <gtest/gtest.h>

namespace helix {
namespace {

TEST(CpuTimes, ParsesTheAggregateLine) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const auto t = parse_proc_stat("cpu  3111341 1934 361673 846800 14433 0 1572 179456 7 9\ncpu0 1 2 3 4 5 6 7 8 0 0\n");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->steal_ticks, 179456);
  EXPECT_EQ(t->total_ticks, 3111341 + 1934 + 361673 + 846800 + 14433 + 0 + 1572 + 179456);  // guest is inside user
  // Exactly the 8 columns up to steal are enough.
  const auto short_line = parse_proc_stat("cpu 1 2 3 4 5 6 7 8");
  ASSERT_TRUE(short_line.has_value());
  EXPECT_EQ(short_line->steal_ticks, 8);
  EXPECT_EQ(short_line->total_ticks, 36);
}

TEST(CpuTimes, RejectsWhatIsNotTheLine) {
  for (const char* text : {"", "cpu", "cpu0 1 2 3 4 5 6 7 8", "cpu 1 2 3 4 5 6 7", "cpu 1 2 3 4 5 6 7\n8",
                           "cpu 1 2 x 4 5 6 7 8", "cpu 1 2 3 4 5 6 7 -8", "intr 1 2 3 4 5 6 7 8"})
    EXPECT_FALSE(parse_proc_stat(text).has_value()) << "'" << text << "'";
}

TEST(CpuTimes, StealFractionBetweenTwoReadings) {
  EXPECT_DOUBLE_EQ(steal_fraction({1000, 10}, {1400, 30}), 0.05);
  EXPECT_DOUBLE_EQ(steal_fraction({1000, 10}, {1000, 10}), 0.0);  // no tick passed
}

TEST(CpuTimes, ReadsThisMachine) {
  const auto t = read_cpu_times();
  if (!t) GTEST_SKIP() << "no /proc/stat here";
  EXPECT_GT(t->total_ticks, 0);
  EXPECT_GE(t->steal_ticks, 0);
  EXPECT_LE(t->steal_ticks, t->total_ticks);
}

}  // namespace
}  // namespace helix
