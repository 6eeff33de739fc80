#include "kernels/thread_pool.h"

#include <chrono>

#include "common/result.h"

namespace helix {
namespace {

// How long an idle worker spins before sleeping. Long enough to bridge the gap between consecutive
// matmuls of a forward pass, short enough not to burn a core when the engine is idle.
constexpr auto kWorkerSpin = std::chrono::microseconds(200);
// How long the caller spins on unfinished tasks before yielding its core (which may be the one the
// worker it waits for needs, when the machine is oversubscribed).
constexpr auto kCallerSpin = std::chrono::microseconds(500);

thread_local bool tls_inside_pool_task = false;

inline void cpu_relax() { __builtin_ia32_pause(); }

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  n_threads_ = n_threads < 1 ? 1 : n_threads;
  workers_.reserve(n_threads_ - 1);
  for (int t = 1; t < n_threads_; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::work(uint32_t generation, int thread) {
  const TaskFn fn = fn_.load(std::memory_order_relaxed);
  void* const context = context_.load(std::memory_order_relaxed);
  const uint64_t n_tasks = static_cast<uint64_t>(n_tasks_.load(std::memory_order_relaxed));
  const bool was_inside = tls_inside_pool_task;
  tls_inside_pool_task = true;
  uint64_t claim = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((claim >> 32) != generation || (claim & 0xffffffffu) >= n_tasks) break;
    if (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire))
      continue;  // claim was reloaded
    fn(context, static_cast<int64_t>(claim & 0xffffffffu), thread);
    done_.fetch_add(1, std::memory_order_release);
    claim = claim_.load(std::memory_order_acquire);
  }
  tls_inside_pool_task = was_inside;
}

void ThreadPool::worker_loop(int thread) {
  // Generation 0 is the state at construction: a job or stop published before this thread got
  // here is still seen (a job it is too late for has no tasks left to claim).
  uint32_t seen = 0;
  for (;;) {
    uint32_t current = generation_.load(std::memory_order_acquire);
    if (current == seen) {
      const auto spin_until = std::chrono::steady_clock::now() + kWorkerSpin;
      int polls = 0;
      while ((current = generation_.load(std::memory_order_acquire)) == seen) {
        cpu_relax();
        if (++polls % 64 == 0 && std::chrono::steady_clock::now() > spin_until) break;
      }
      while (current == seen) {
        sleeping_workers_.fetch_add(1, std::memory_order_seq_cst);
        generation_.wait(seen, std::memory_order_seq_cst);
        sleeping_workers_.fetch_sub(1, std::memory_order_relaxed);
        current = generation_.load(std::memory_order_acquire);
      }
    }
    seen = current;
    if (stop_.load(std::memory_order_acquire)) return;
    work(current, thread);
  }
}

void ThreadPool::run(int64_t n_tasks, TaskFn fn, void* context) {
  if (n_tasks <= 0) return;
  HELIX_CHECK(n_tasks < (int64_t{1} << 32), "parallel_for: {} tasks is too many", n_tasks);
  // Nested calls, a single task or a single thread: run here, in order.
  if (tls_inside_pool_task || n_threads_ == 1 || n_tasks == 1) {
    const bool was_inside = tls_inside_pool_task;
    tls_inside_pool_task = true;
    for (int64_t task = 0; task < n_tasks; ++task) fn(context, task, 0);
    tls_inside_pool_task = was_inside;
    return;
  }
  std::lock_guard<std::mutex> lock(call_mutex_);
  uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
  if (generation == 0) generation = 1;  // 0 never names a job, so a fresh worker cannot mistake it
  // Close the previous job's claim word before touching the job fields: a late worker of that job
  // may hold the new n_tasks, and must not be able to claim "task n_old" of the old generation.
  // The exchange (an RMW) also orders every earlier successful claim before the writes below.
  claim_.exchange(static_cast<uint64_t>(generation) << 32, std::memory_order_acq_rel);
  fn_.store(fn, std::memory_order_relaxed);
  context_.store(context, std::memory_order_relaxed);
  n_tasks_.store(n_tasks, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  generation_.store(generation, std::memory_order_seq_cst);  // publishes the job
  if (sleeping_workers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
  work(generation, 0);
  // Every task is claimed; wait for those still running on workers.
  const auto spin_until = std::chrono::steady_clock::now() + kCallerSpin;
  int polls = 0;
  while (done_.load(std::memory_order_acquire) < n_tasks) {
    cpu_relax();
    if (++polls % 64 == 0 && std::chrono::steady_clock::now() > spin_until) std::this_thread::yield();
  }
}

}  // namespace helix
