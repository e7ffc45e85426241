#include "runtime/task_metrics.h"

#include <algorithm>

namespace rmqc::runtime {

Histogram::Histogram(std::initializer_list<std::uint64_t> bounds, double divisor)
    : size_(std::min(bounds.size(), kMaxBuckets)), divisor_(divisor) {
  std::copy_n(bounds.begin(), size_, bounds_.begin());
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot s;
  s.bounds.reserve(size_);
  s.buckets.reserve(size_ + 1);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= size_; ++i) {
    cumulative += read(buckets_[i]);
    s.buckets.push_back(cumulative);
    if (i < size_) s.bounds.push_back(static_cast<double>(bounds_[i]) / divisor_);
  }
  // The buckets are read one after the other while the task may observe: the count is their
  // sum, so the +Inf bucket always equals it (as the text format requires).
  s.count = cumulative;
  s.sum = static_cast<double>(read(sum_)) / divisor_;
  s.max = static_cast<double>(read(max_)) / divisor_;
  return s;
}

TaskMetricsSnapshot snapshot_of(const TaskMetrics& t, const ErrorMetrics& e) {
  TaskMetricsSnapshot s;
  s.source_record_poll = read(t.source_record_poll);
  s.source_record_write = read(t.source_record_write);
  s.sink_record_read = read(t.sink_record_read);
  s.sink_record_send = read(t.sink_record_send);
  s.offset_commit_success = read(t.offset_commit_success);
  s.offset_commit_failure = read(t.offset_commit_failure);
  s.offset_commit_skip = read(t.offset_commit_skip);
  s.batch_time = t.batch_time.snapshot();
  s.batch_size = t.batch_size.snapshot();
  s.send_latency = t.send_latency.snapshot();
  s.send_errors_retriable = read(t.send_errors_retriable);
  s.send_errors_fatal = read(t.send_errors_fatal);
  s.record_failures = read(e.record_failures);
  s.record_errors = read(e.record_errors);
  s.records_skipped = read(e.records_skipped);
  s.retries = read(e.retries);
  s.errors_logged = read(e.errors_logged);
  s.dlq_produce_requests = read(e.dlq_produce_requests);
  s.dlq_produce_failures = read(e.dlq_produce_failures);
  return s;
}

}  // namespace rmqc::runtime
