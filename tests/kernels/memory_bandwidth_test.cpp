// The plain read that helix bench times after each decode step: how the bytes are cut into parts.
#include "kernels/memory_bandwidth.h"

#include <gtest/gtest.h>

#include <vector>

#include "kernels/thread_pool.h"

namespace helix {
namespace {

using Spans = std::vector<std::span<const std::byte>>;

TEST(ReadShare, CutsTheConcatenationAtWholeLines) {
  std::vector<std::byte> memory(4096);
  // Three spans of 100, 1000 and 50 bytes: 1150 bytes, 17 whole lines and 62 bytes over.
  const Spans spans = {{memory.data(), 100}, {memory.data() + 200, 1000}, {memory.data() + 2000, 50}};
  // Two parts: lines 0-7 (bytes 0-511), then the rest (512-1149).
  const Spans first = read_share(spans, 0, 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].data(), memory.data());
  EXPECT_EQ(first[0].size(), 100u);
  EXPECT_EQ(first[1].data(), memory.data() + 200);
  EXPECT_EQ(first[1].size(), 412u);
  const Spans second = read_share(spans, 1, 2);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].data(), memory.data() + 612);
  EXPECT_EQ(second[0].size(), 588u);
  EXPECT_EQ(second[1].data(), memory.data() + 2000);
  EXPECT_EQ(second[1].size(), 50u);
  // One part is everything as it is.
  const Spans all = read_share(spans, 0, 1);
  ASSERT_EQ(all.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(all[i].data(), spans[i].data()) << i;
}

TEST(ReadShare, EveryByteExactlyOnceForAnyPartCount) {
  std::vector<std::byte> memory(1 << 16);
  const Spans spans = {{memory.data() + 3, 777}, {memory.data() + 1000, 0}, {memory.data() + 2048, 64},
                       {memory.data() + 9000, 20001}, {memory.data() + 40000, 5}};
  for (int n_parts : {1, 2, 3, 7, 64, 400}) {
    std::vector<int> reads(memory.size(), 0);
    for (int p = 0; p < n_parts; ++p)
      for (const auto& piece : read_share(spans, p, n_parts)) {
        EXPECT_FALSE(piece.empty()) << n_parts;
        for (size_t i = 0; i < piece.size(); ++i) ++reads[static_cast<size_t>(piece.data() + i - memory.data())];
      }
    for (size_t at = 0; at < memory.size(); ++at) {
      bool inside = false;
      for (const auto& s : spans) inside |= at >= static_cast<size_t>(s.data() - memory.data()) &&
                                            at < static_cast<size_t>(s.data() - memory.data()) + s.size();
      ASSERT_EQ(reads[at], inside ? 1 : 0) << n_parts << " parts, byte " << at;
    }
  }
}

TEST(TimePlainRead, ReadsWithEveryThread) {
  ThreadPool pool(3);
  std::vector<std::byte> memory(int64_t{4} << 20, std::byte{1});
  const Spans spans = {{memory.data(), memory.size() / 2}, {memory.data() + memory.size() / 2, memory.size() / 2}};
  const double seconds = time_plain_read(pool, spans);
  EXPECT_GT(seconds, 0.0);
  EXPECT_LT(seconds, 10.0);
  EXPECT_GE(time_plain_read(pool, Spans{}), 0.0);  // nothing to read: every part is empty
}

}  // namespace
}  // namespace helix
