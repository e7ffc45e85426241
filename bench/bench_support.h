#pragma once

// What the throughput benchmarks share: a rate and its table row, and the embedded broker in a
// temporary directory of its own.

#include "broker/server/embedded_broker.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/throughput.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

namespace rmqc::bench {

using Clock = std::chrono::steady_clock;

inline double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// n messages of `bytes` in total in `seconds`.
struct Rate {
  std::int64_t messages = 0;
  std::int64_t bytes = 0;
  double seconds = 0;
  double msgs_per_sec() const { return seconds > 0 ? static_cast<double>(messages) / seconds : 0; }
  double mb_per_sec() const {
    return seconds > 0 ? static_cast<double>(bytes) / seconds / (1024.0 * 1024.0) : 0;
  }
};

// "| what | size B | msgs/s | MB/s |", flushed (runs are long).
inline void print_rate_header(const char* first_column) {
  std::printf("| %-50s | %7s | %10s | %8s |\n", first_column, "body", "msgs/s", "MB/s");
  std::printf("|%s|%s|%s|%s|\n", std::string(52, '-').c_str(), std::string(9, '-').c_str(),
              std::string(12, '-').c_str(), std::string(10, '-').c_str());
}
inline void print_rate(const std::string& what, std::size_t size, const Rate& r) {
  std::printf("| %-50s | %5zu B | %10.0f | %8.1f |\n", what.c_str(), size, r.msgs_per_sec(),
              r.mb_per_sec());
  std::fflush(stdout);
}

// The native RocketMQ producer's ceiling: n messages of `size` bytes to `topic`, async, 512 in
// flight, until all are acknowledged.
inline Rate raw_rocketmq_produce(rocketmq::Producer& producer, const std::string& topic,
                                 std::int64_t n, std::size_t size) {
  rocketmq::ThroughputOptions t;
  t.topic = topic;
  t.size = size;
  t.count = n;
  t.mode = rocketmq::ProduceMode::kAsync;
  t.concurrency = 512;
  const auto raw = rocketmq::run_produce(producer, t);
  return Rate{raw.messages, raw.bytes, raw.seconds};
}

// The same with sync batches of `batch` messages from `threads` threads.
inline Rate raw_rocketmq_batch_produce(rocketmq::Producer& producer, const std::string& topic,
                                       std::int64_t n, std::size_t size, std::size_t batch,
                                       int threads) {
  rocketmq::ThroughputOptions t;
  t.topic = topic;
  t.size = size;
  t.count = n;
  t.mode = rocketmq::ProduceMode::kBatch;
  t.batch_size = batch;
  t.concurrency = threads;
  const auto raw = rocketmq::run_produce(producer, t);
  return Rate{raw.messages, raw.bytes, raw.seconds};
}

// The embedded broker (name server and broker on ephemeral loopback ports) over a store in a
// fresh temporary directory, which is removed again at destruction.
class TempBroker {
 public:
  static std::unique_ptr<TempBroker> start(const std::string& prefix) {
    auto self = std::unique_ptr<TempBroker>(new TempBroker);
    self->dir_ =
        std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(self->dir_);
    broker::EmbeddedBrokerOptions o;
    o.store.dir = self->dir_.string();
    o.namesrv_port = 0;
    o.broker_port = 0;
    o.vip_port = false;
    auto started = broker::EmbeddedBroker::start(o);
    if (!started.ok()) {
      std::fprintf(stderr, "broker: %s\n", started.error().to_string().c_str());
      return nullptr;
    }
    self->broker_ = std::move(started).value();
    return self;
  }
  ~TempBroker() {
    if (broker_) broker_->stop();
    broker_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  broker::EmbeddedBroker& operator*() { return *broker_; }
  broker::EmbeddedBroker* operator->() { return broker_.get(); }

 private:
  TempBroker() = default;
  std::filesystem::path dir_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
};

}  // namespace rmqc::bench
