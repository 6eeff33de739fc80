#include "kernels/memory_bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <sys/mman.h>

#include "common/result.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/thread_pool.h"

namespace helix {
namespace {

// Every read's checksum is added here, so that no compiler can drop the reads as unused.
std::atomic<uint64_t> read_sink{0};

}  // namespace

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
  // One contiguous part per thread, as decode's threads each stream one home range.
  const std::span<const std::byte> whole(reinterpret_cast<const std::byte*>(buffer), static_cast<size_t>(bytes));
  double best_seconds = 1e30;
  for (int run = 0; run < kRuns; ++run) best_seconds = std::min(best_seconds, time_plain_read(pool, {&whole, 1}, 1));
  std::free(buffer);
  return static_cast<double>(bytes) / best_seconds / 1e9;
}

std::vector<std::span<const std::byte>> read_share(std::span<const std::span<const std::byte>> spans, int part,
                                                   int n_parts) {
  HELIX_CHECK(n_parts >= 1 && part >= 0 && part < n_parts, "read_share: part {} of {}", part, n_parts);
  int64_t total = 0;
  for (const auto& s : spans) total += static_cast<int64_t>(s.size());
  const int64_t lines = total / 64;
  const int64_t begin = lines * part / n_parts * 64;
  const int64_t end = part + 1 == n_parts ? total : lines * (part + 1) / n_parts * 64;
  std::vector<std::span<const std::byte>> out;
  int64_t offset = 0;  // of the current span in the concatenation
  for (const auto& s : spans) {
    const int64_t size = static_cast<int64_t>(s.size());
    const int64_t lo = std::max(begin, offset), hi = std::min(end, offset + size);
    if (lo < hi) out.push_back(s.subspan(static_cast<size_t>(lo - offset), static_cast<size_t>(hi - lo)));
    offset += size;
  }
  return out;
}

double time_plain_read(ThreadPool& pool, std::span<const std::span<const std::byte>> spans, int parts_per_thread) {
  HELIX_CHECK(parts_per_thread >= 1, "time_plain_read: {} parts per thread", parts_per_thread);
  const cpu::Kernels& kernels = cpu::active_kernels();
  const int n_parts = parts_per_thread * pool.size();
  // The parts are cut before the clock starts: only the reads are timed.
  std::vector<std::vector<std::span<const std::byte>>> parts;
  for (int p = 0; p < n_parts; ++p) parts.push_back(read_share(spans, p, n_parts));
  const auto start = std::chrono::steady_clock::now();
  pool.parallel_for(n_parts, [&](int64_t part, int) {
    uint64_t sum = 0;
    for (const auto& piece : parts[static_cast<size_t>(part)])
      sum += kernels.stream_read(piece.data(), static_cast<int64_t>(piece.size()));
    read_sink.fetch_add(sum, std::memory_order_relaxed);
  });
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace helix
