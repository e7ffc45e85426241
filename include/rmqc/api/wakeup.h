#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace rmqc {

// What a task's wakeup() sets and its poll() waits on, so a sleep between polls (or a retry
// back-off) ends as soon as the worker asks the task to stop or pause:
//   void wakeup() override { signal_.notify(); }
//   std::vector<ConnectRecord> poll() override {
//     if (signal_.wait_for(interval_)) return {};  // woken: return to the worker now
//     ...
//   }
// Thread-safe. A notify() that comes while nobody waits is kept for the next wait.
class WakeupSignal {
 public:
  void notify() {
    {
      std::lock_guard lock(mutex_);
      notified_ = true;
    }
    cv_.notify_all();
  }

  // Waits up to timeout; true when notified (the notification is consumed), false on timeout.
  template <typename Rep, typename Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    bool woken = cv_.wait_for(lock, timeout, [&] { return notified_; });
    notified_ = false;
    return woken;
  }

  // True when a notification is pending (it stays pending).
  bool notified() const {
    std::lock_guard lock(mutex_);
    return notified_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace rmqc
