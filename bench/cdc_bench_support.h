#pragma once

// What both CDC benchmarks do to a task: poll until n data records arrived, acknowledging each
// as the worker would and committing every 50,000.

#include "rmqc/api/record.h"
#include "rmqc/api/source_task.h"

#include <chrono>
#include <optional>

namespace rmqc::bench {

using CdcClock = std::chrono::steady_clock;

inline double seconds_since(CdcClock::time_point t0) {
  return std::chrono::duration<double>(CdcClock::now() - t0).count();
}

// The offset of the last record polled (tombstones and heartbeats included, counted out).
inline std::optional<RecordOffset> drain(SourceTask& task, long long n) {
  long long got = 0;
  std::optional<RecordOffset> last;
  while (got < n) {
    auto records = task.poll();
    for (const auto& r : records) {
      task.commit(r, RecordMetadata{});
      if (!r.value.is_null()) ++got;
      if (got % 50'000 == 0) task.commit();
    }
    if (!records.empty()) last = records.back().position.offset;
  }
  task.commit();
  return last;
}

}  // namespace rmqc::bench
