#pragma once

// Throughput loops shared by `rmq-connect admin bench` and bench/client_bench.cc.

#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace rmqc::rocketmq {

enum class ProduceMode { kSync, kAsync, kBatch };

struct ThroughputOptions {
  std::string topic;
  std::int64_t count = 100'000;
  std::size_t size = 1024;  // body bytes
  int concurrency = 4;      // threads (sync, batch) or messages in flight (async)
  ProduceMode mode = ProduceMode::kSync;
  std::size_t batch_size = 32;
  std::chrono::milliseconds idle_timeout{10'000};  // consume: give up after this long empty
};

struct ThroughputResult {
  std::int64_t messages = 0;
  std::int64_t bytes = 0;
  std::int64_t errors = 0;
  double seconds = 0;
  double p50_ms = 0;  // send: per call (a batch counts once); consume: store to poll
  double p99_ms = 0;

  double msgs_per_sec() const { return seconds > 0 ? messages / seconds : 0; }
  double mb_per_sec() const { return seconds > 0 ? bytes / seconds / (1024.0 * 1024.0) : 0; }
  // "msgs/s 123456  MB/s 120.6  p50 0.21 ms  p99 1.30 ms  errors 0"
  std::string summary() const;
};

ThroughputResult run_produce(Producer& producer, const ThroughputOptions& options);
// Polls until options.count messages arrived (or idle_timeout passed without any).
ThroughputResult run_consume(LitePullConsumer& consumer, const ThroughputOptions& options);

}  // namespace rmqc::rocketmq
