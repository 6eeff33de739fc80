// A persistent pool of threads for the kernels. parallel_for is called a few hundred times per decode
// step, so dispatch must be cheap: after a job, workers spin briefly on the job counter (the next
// matmul usually follows within microseconds) before sleeping on a futex (std::atomic::wait).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace helix {

class ThreadPool {
 public:
  // n_threads counts the calling thread: ThreadPool(2) starts one worker. 0 means one per CPU.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(task, thread) for every task in [0, n_tasks) exactly once and returns when all are done.
  // `thread` is in [0, size()) and is the same for tasks run by one thread within a call, so it can
  // index per-thread scratch. Tasks are handed out in increasing order as threads become free.
  // Called from inside a task (or from a second thread while one call runs) it still runs every
  // task, serialized behind the current call or inline.
  template <typename Fn>
  void parallel_for(int64_t n_tasks, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    run(n_tasks, [](void* context, int64_t task, int thread) { (*static_cast<F*>(context))(task, thread); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using TaskFn = void (*)(void* context, int64_t task, int thread);
  void run(int64_t n_tasks, TaskFn fn, void* context);
  void worker_loop(int thread);
  // Claims and runs tasks of job `generation` until none is left or a newer job has started.
  void work(uint32_t generation, int thread);

  int n_threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time

  // The current job, published by the store of generation_. A worker that wakes late may read the
  // next job's fields, but it only runs a task after claiming it with a compare-exchange on claim_,
  // whose top half must still be the generation it woke for; run() moves claim_ to the new
  // generation before it rewrites any field, so such a claim fails.
  std::atomic<TaskFn> fn_{nullptr};
  std::atomic<void*> context_{nullptr};
  std::atomic<int64_t> n_tasks_{0};
  alignas(64) std::atomic<uint64_t> claim_{0};   // generation << 32 | next task index
  alignas(64) std::atomic<int64_t> done_{0};     // tasks of the current job finished
  alignas(64) std::atomic<uint32_t> generation_{0};
  alignas(64) std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace helix
