// InFlight: counts requests being answered, so a shutdown can stop the engine, let every stream write its
// last chunk, and only then stop the HTTP server (which stops pumping streams still open).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace helix::server {

class InFlight {
 public:
  // Held for the life of one request's answer.
  class Scope {
   public:
    explicit Scope(InFlight& owner) : owner_(&owner) { owner_->add(1); }
    ~Scope() { owner_->add(-1); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    InFlight* owner_;
  };

  int64_t count() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  // True when the count reached zero within `timeout`.
  bool wait_idle(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [this] { return count_ == 0; });
  }

 private:
  void add(int64_t delta) {
    std::lock_guard lock(mutex_);
    count_ += delta;
    if (count_ == 0) idle_.notify_all();
  }
  mutable std::mutex mutex_;
  mutable std::condition_variable idle_;
  int64_t count_ = 0;
};

}  // namespace helix::server
