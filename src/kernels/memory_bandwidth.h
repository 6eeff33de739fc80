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

// The part of `spans` that thread `thread` of `n_threads` reads in time_plain_read: one contiguous share of
// the spans' concatenation, cut at multiples of 64 bytes of it (the last thread also takes any rest), as pieces
// of the spans in order. Shares of all threads together cover every byte exactly once.
std::vector<std::span<const std::byte>> read_share(std::span<const std::span<const std::byte>> spans, int thread,
                                                   int n_threads);

// Seconds the pool's threads take to read every byte of `spans` once, each thread its read_share, with the
// read loop of measure_read_bandwidth_gbps. Timed right after a decode step over the same weights, it tells
// how fast a plain read of exactly those bytes goes at that moment.
double time_plain_read(ThreadPool& pool, std::span<const std::span<const std::byte>> spans);

}  // namespace helix
