#include "kernels/memory_bandwidth.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <sys/mman.h>

#include "common/result.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/thread_pool.h"

namespace helix {

double measure_read_bandwidth_gbps(ThreadPool& pool, int64_t bytes) {
  // In 2 MiB pages where the kernel grants them (transparent huge pages), as the prepacked weights are: with
  // 4 KiB pages the TLB misses alone hold a stream well below what the memory delivers.
  constexpr int64_t kAlign = int64_t{2} << 20;
  constexpr int kRuns = 5;
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  HELIX_CHECK(bytes > 0, "measure_read_bandwidth_gbps: {} bytes", bytes);
  auto* buffer = static_cast<uint8_t*>(std::aligned_alloc(kAlign, static_cast<size_t>(bytes)));
  HELIX_CHECK(buffer != nullptr, "measure_read_bandwidth_gbps: cannot allocate {} bytes", bytes);
  ::madvise(buffer, static_cast<size_t>(bytes), MADV_HUGEPAGE);  // advisory
  // Touch every page first (and with the threads that will read it) so page faults are not timed.
  const int n_threads = pool.size();
  const int64_t slice = (bytes / n_threads + kAlign - 1) / kAlign * kAlign;
  pool.parallel_for(n_threads, [&](int64_t task, int) {
    const int64_t begin = task * slice;
    const int64_t end = begin + slice < bytes ? begin + slice : bytes;
    if (begin < end) std::memset(buffer + begin, static_cast<int>(task + 1), static_cast<size_t>(end - begin));
  });
  const cpu::Kernels& kernels = cpu::active_kernels();
  std::atomic<uint64_t> checksum{0};
  double best_seconds = 1e30;
  for (int run = 0; run < kRuns; ++run) {
    const auto start = std::chrono::steady_clock::now();
    pool.parallel_for(n_threads, [&](int64_t task, int) {
      const int64_t begin = task * slice;
      const int64_t end = begin + slice < bytes ? begin + slice : bytes;
      if (begin < end) checksum.fetch_add(kernels.stream_read(buffer + begin, end - begin), std::memory_order_relaxed);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds < best_seconds) best_seconds = seconds;
  }
  std::free(buffer);
  HELIX_CHECK(checksum.load() != 0x5eed, "unreachable: keeps the reads alive");
  return static_cast<double>(bytes) / best_seconds / 1e9;
}

}  // namespace helix
