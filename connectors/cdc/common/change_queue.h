#pragma once

// The bounded hand-off between a CDC reader thread (binlog, replication stream) and the task's
// poll(): max.queue.size events, so a slow broker pushes back on the database reader instead of
// filling memory.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rmqc::connectors::cdc {

template <class T>
class ChangeQueue {
 public:
  explicit ChangeQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Blocks while full; false once closed (the item is dropped: the reader is stopping).
  bool push(T item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Up to max items; waits up to timeout for the first one. Returns early on wake() and once the
  // reader failed (error() then says why).
  std::vector<T> drain(std::size_t max, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    not_empty_.wait_for(lock, timeout,
                        [&] { return closed_ || woken_ || !items_.empty() || error_.has_value(); });
    woken_ = false;
    std::vector<T> out;
    while (!items_.empty() && out.size() < max) {
      out.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    if (!out.empty()) not_full_.notify_all();
    return out;
  }

  // The reader failed: poll() reports it (after the events queued before it).
  void fail(std::string error) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
    not_empty_.notify_all();
  }
  std::optional<std::string> error() const {
    std::lock_guard lock(mutex_);
    return items_.empty() ? error_ : std::nullopt;
  }

  void wake() {
    std::lock_guard lock(mutex_);
    woken_ = true;
    not_empty_.notify_all();
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
  std::size_t capacity_;
  bool closed_ = false;
  bool woken_ = false;
  std::optional<std::string> error_;
};

}  // namespace rmqc::connectors::cdc
