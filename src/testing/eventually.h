#pragma once

// Polling with a deadline, for tests that wait on another thread or process.

#include <chrono>
#include <functional>
#include <thread>

namespace rmqc::testing {

// Checks `predicate` every `step` until it holds or `timeout` passes; the last result.
inline bool eventually(const std::function<bool()>& predicate,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20),
                       std::chrono::milliseconds step = std::chrono::milliseconds(10)) {
  for (auto deadline = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(step)) {
    if (predicate()) return true;
  }
  return predicate();
}

}  // namespace rmqc::testing
