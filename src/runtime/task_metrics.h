#pragma once

// Per-task counters and histograms behind GET /metrics (docs/operations.md). The task's own thread
// writes them with relaxed atomic adds (no lock, no allocation); a scrape reads a snapshot from any
// thread. Counters start at zero when the task (re)starts, as Kafka Connect's task metrics do;
// Prometheus' rate() and increase() treat the drop as a counter reset.

#include "runtime/connect_controller.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace rmqc::runtime {

using MetricCounter = std::atomic<std::uint64_t>;

inline void add(MetricCounter& counter, std::uint64_t n = 1) noexcept {
  counter.fetch_add(n, std::memory_order_relaxed);
}
inline std::uint64_t read(const MetricCounter& counter) noexcept {
  return counter.load(std::memory_order_relaxed);
}

struct HistogramSnapshot {
  std::vector<double> bounds;          // upper bounds (le), ascending, in the rendered unit
  std::vector<std::uint64_t> buckets;  // cumulative count per bound, then +Inf (= count)
  double sum = 0;
  std::uint64_t count = 0;
  double max = 0;  // largest observation since the task started
};

// A Prometheus histogram over integer observations (microseconds, records) with fixed bounds.
// observe() is a short linear scan and three relaxed adds (plus a compare for the max).
class Histogram {
 public:
  static constexpr std::size_t kMaxBuckets = 16;

  // `bounds` ascending, in observation units; rendered values are divided by `divisor` (1e6 for
  // microseconds rendered as seconds: 100 / 1e6 prints as 0.0001, where 100 * 1e-6 would not).
  Histogram(std::initializer_list<std::uint64_t> bounds, double divisor);

  void observe(std::uint64_t value) noexcept {
    std::size_t i = 0;
    while (i < size_ && value > bounds_[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
    std::uint64_t seen = max_.load(std::memory_order_relaxed);
    while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
  }
  void observe(std::chrono::steady_clock::duration d) noexcept {
    observe(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(d).count()));
  }
  HistogramSnapshot snapshot() const;

 private:
  std::array<std::uint64_t, kMaxBuckets> bounds_{};
  std::size_t size_ = 0;
  double divisor_ = 1;
  std::array<MetricCounter, kMaxBuckets + 1> buckets_{};  // per bucket (not cumulative), +Inf last
  MetricCounter sum_{0};
  MetricCounter max_{0};
};

// Kafka Connect's task-error-metrics (KIP-298), kept by a task's ErrorHandler.
struct ErrorMetrics {
  MetricCounter record_failures{0};  // total-record-failures: every failed attempt (retries too)
  MetricCounter record_errors{0};    // total-record-errors: records that failed for good
  MetricCounter records_skipped{0};  // total-records-skipped: tolerated (errors.tolerance=all)
  MetricCounter retries{0};          // total-retries
  MetricCounter errors_logged{0};    // total-errors-logged (errors.log.enable)
  MetricCounter dlq_produce_requests{0};  // deadletterqueue-produce-requests
  MetricCounter dlq_produce_failures{0};  // deadletterqueue-produce-failures
};

// Kafka Connect's source-task-, sink-task- and connector-task-metrics of one task.
struct TaskMetrics {
  // source-record-poll-total: records poll() returned, before transforms.
  MetricCounter source_record_poll{0};
  // source-record-write-total: records the broker acknowledged (after transforms; dropped and
  // skipped records are not written).
  MetricCounter source_record_write{0};
  // sink-record-read-total: messages read from the broker, before transforms.
  MetricCounter sink_record_read{0};
  // sink-record-send-total: records put() accepted (after transforms).
  MetricCounter sink_record_send{0};
  MetricCounter offset_commit_success{0};  // offset-commit-completion-total (sink) / success
  MetricCounter offset_commit_failure{0};  // offset-commit-failure (both)
  MetricCounter offset_commit_skip{0};     // offset-commit-skip-total: nothing new to commit
  // poll-batch-{avg,max}-time-ms (source) / put-batch-{avg,max}-time-ms (sink), microseconds.
  Histogram batch_time{{100, 500, 1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000}, 1e6};
  // batch-size-{avg,max}: records per poll() (source) or put() (sink).
  Histogram batch_size{{1, 4, 16, 64, 128, 256, 512, 1024, 4096}, 1};
  // Source tasks: send call to the broker's acknowledgment of each send request (a batch or a
  // single record), microseconds; written on the producer's I/O thread.
  Histogram send_latency{{100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
                          500000, 1000000, 2500000, 5000000, 10000000},
                         1e6};
  // Source tasks: send requests that failed, each attempt (a retried one counts each time).
  MetricCounter send_errors_retriable{0};
  MetricCounter send_errors_fatal{0};
  // metrics.enabled=false (worker config): the task makes none of the per-batch updates above
  // (the A/B switch of bench/README.md). Set before the task starts.
  bool enabled = true;
};

// One queue a sink task reads: where it is and where the broker's end was at the last pull.
struct QueueLagSnapshot {
  std::string topic;
  std::string broker;
  int queue = 0;
  std::int64_t offset = 0;      // next offset the task reads
  std::int64_t max_offset = 0;  // the queue's end (next offset written) in the last pull reply
  std::int64_t lag() const { return max_offset > offset ? max_offset - offset : 0; }
};

// One task's figures as a scrape sees them.
struct TaskMetricsSnapshot {
  std::string connector;
  int task = 0;
  ConnectorType type = ConnectorType::kUnknown;
  RunState state = RunState::kUnassigned;
  std::uint64_t source_record_poll = 0;
  std::uint64_t source_record_write = 0;
  std::uint64_t sink_record_read = 0;
  std::uint64_t sink_record_send = 0;
  std::uint64_t offset_commit_success = 0;
  std::uint64_t offset_commit_failure = 0;
  std::uint64_t offset_commit_skip = 0;
  HistogramSnapshot batch_time;    // seconds
  HistogramSnapshot batch_size;    // records
  HistogramSnapshot send_latency;  // seconds (source tasks)
  std::uint64_t send_errors_retriable = 0;
  std::uint64_t send_errors_fatal = 0;
  std::vector<QueueLagSnapshot> queues;  // sink tasks: assigned queues whose end is known
  std::uint64_t record_failures = 0;
  std::uint64_t record_errors = 0;
  std::uint64_t records_skipped = 0;
  std::uint64_t retries = 0;
  std::uint64_t errors_logged = 0;
  std::uint64_t dlq_produce_requests = 0;
  std::uint64_t dlq_produce_failures = 0;
};

TaskMetricsSnapshot snapshot_of(const TaskMetrics& task, const ErrorMetrics& errors);

// What GET /metrics reports beyond the connector and task states the controller already gives.
struct WorkerMetrics {
  double uptime_seconds = 0;
  // Rebalances this worker completed (distributed mode; absent in standalone).
  std::optional<std::uint64_t> completed_rebalances;
  // Automatic task restarts this worker made (docs/operations.md, automatic restarts).
  std::uint64_t task_auto_restarts = 0;
  std::vector<TaskMetricsSnapshot> tasks;  // the tasks running in this process
};

}  // namespace rmqc::runtime
