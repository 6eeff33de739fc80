// Measures how fast this machine streams memory into the cores: the bound decode speed is judged
// against (a decode step reads every weight once).
#pragma once

#include <cstdint>

namespace helix {

class ThreadPool;

// Multi-threaded streaming read of a buffer far larger than the caches (default 1 GiB), best of a few
// runs, in GB/s (10^9 bytes per second).
double measure_read_bandwidth_gbps(ThreadPool& pool, int64_t bytes = int64_t{1} << 30);

}  // namespace helix
