// Measures how fast this machine streams memory into the cores: the bound decode speed is judged
// against (a decode step reads every weight once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace helix {

class ThreadPool;

// Multi-threaded streaming read of a buffer far larger than the caches (default 1 GiB), best of a few
// runs, in GB/s (10^9 bytes per second).
double measure_read_bandwidth_gbps(ThreadPool& pool, int64_t bytes = int64_t{1} << 30);

// Part `part` of `n_parts` of `spans`: one contiguous share of the spans' concatenation, cut at multiples of 64
// bytes of it (the last part also takes any rest), as pieces of the spans in order. All parts together cover every
// byte exactly once.
std::vector<std::span<const std::byte>> read_share(std::span<const std::span<const std::byte>> spans, int part,
                                                   int n_parts);

// Seconds the pool's threads take to read every byte of `spans` once with the kernels' stream_read (the read loop
// measure_read_bandwidth_gbps times too). The bytes go out in `parts_per_thread` parts per thread, each a
// contiguous stream, handed to threads as they become free: with the default, like the matmuls, the read keeps both
// threads busy to the end when one of them runs slower for a while (another tenant, a descheduled virtual CPU).
// Timed right after a decode step over the same weights, it tells how fast a plain read of exactly those bytes goes
// at that moment.
constexpr int kPlainReadPartsPerThread = 16;
double time_plain_read(ThreadPool& pool, std::span<const std::span<const std::byte>> spans,
                       int parts_per_thread = kPlainReadPartsPerThread);

}  // namespace helix
