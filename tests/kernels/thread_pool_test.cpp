#include "kernels/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace helix {
namespace {

TEST(ThreadPool, EveryTaskRunsOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 3, 7, 64, 1000}) {
      std::vector<std::atomic<int>> runs(static_cast<size_t>(n));
      std::atomic<int> bad_thread{0};
      pool.parallel_for(n, [&](int64_t task, int thread) {
        runs[task].fetch_add(1);
        if (thread < 0 || thread >= threads) bad_thread.fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(runs[i].load(), 1) << "threads " << threads << " n " << n << " task " << i;
      EXPECT_EQ(bad_thread.load(), 0);
    }
  }
}

// A job that grows after a job its workers were late for: a late worker must not claim "task n_old"
// of the finished job with the new job's task count (each task would then run twice). The window is
// narrow, so this is a stress test: it caught the bug in about one run of ten before the fix.
TEST(ThreadPool, LateWorkersNeverRerunTasks) {
  for (int rep = 0; rep < 1000; ++rep) {
    ThreadPool pool(3);
    for (int64_t n : {2, 3, 7, 2, 9}) {
      std::vector<std::atomic<int>> runs(static_cast<size_t>(n));
      pool.parallel_for(n, [&](int64_t task, int) { runs[task].fetch_add(1); });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(runs[i].load(), 1) << "rep " << rep << " n " << n << " task " << i;
    }
  }
}

TEST(ThreadPool, ManyBackToBackCalls) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  for (int call = 0; call < 20000; ++call)
    pool.parallel_for(3, [&](int64_t task, int) { total.fetch_add(task + 1, std::memory_order_relaxed); });
  EXPECT_EQ(total.load(), 20000 * 6);
}

TEST(ThreadPool, WakesAfterSleeping) {
  ThreadPool pool(2);
  for (int call = 0; call < 3; ++call) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // workers fall asleep
    std::atomic<int> done{0};
    pool.parallel_for(10, [&](int64_t, int) { done.fetch_add(1); });
    EXPECT_EQ(done.load(), 10);
  }
}

TEST(ThreadPool, NestedAndConcurrentCalls) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.parallel_for(4, [&](int64_t, int) { pool.parallel_for(5, [&](int64_t, int) { inner.fetch_add(1); }); });
  EXPECT_EQ(inner.load(), 20);
  std::atomic<int64_t> sum{0};
  auto caller = [&] {
    for (int i = 0; i < 500; ++i) pool.parallel_for(8, [&](int64_t task, int) { sum.fetch_add(task); });
  };
  std::thread a(caller), b(caller);
  a.join();
  b.join();
  EXPECT_EQ(sum.load(), 2 * 500 * 28);
}

TEST(ThreadPool, ThreadIndexIsStableWithinACall) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> owner(64);
  for (auto& o : owner) o = -1;
  pool.parallel_for(64, [&](int64_t task, int thread) {
    owner[task] = thread;
    std::this_thread::sleep_for(std::chrono::microseconds(50));  // let threads interleave
  });
  for (auto& o : owner) EXPECT_TRUE(o >= 0 && o < 3);
}

}  // namespace
}  // namespace helix
