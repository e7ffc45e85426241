#pragma once

// What the Kafka benchmarks share (kafka_bench.cc: the tasks alone; kafka_worker_bench.cc: the
// whole worker): librdkafka's raw producer (the Kafka ceiling and the sources' input), how many
// partitions of the mock cluster a run needs, and how much a Kafka topic holds.

#include "bench_support.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace rmqc::bench {

// librdkafka's producer, idempotent (acks=all), linger 5 ms, n messages of `size` bytes with
// keys key-0..key-999, until all are acknowledged: the Kafka ceiling.
inline Rate raw_kafka_produce(const std::string& bootstraps, const std::string& topic,
                              std::int64_t n, std::size_t size) {
  char reason[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), reason, sizeof(reason));
  rd_kafka_conf_set(conf, "enable.idempotence", "true", reason, sizeof(reason));
  rd_kafka_conf_set(conf, "linger.ms", "5", reason, sizeof(reason));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof(reason));
  if (rk == nullptr) {
    std::fprintf(stderr, "Kafka producer: %s\n", reason);
    return {};
  }
  const std::string body(size, 'x');
  std::string key;
  auto start = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    key = "key-" + std::to_string(i % 1000);
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key.data(), key.size()),
                             RD_KAFKA_V_VALUE(const_cast<char*>(body.data()), body.size()),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 10);
    }
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 120'000);
  Rate r{n, n * static_cast<std::int64_t>(size), since(start)};
  rd_kafka_destroy(rk);
  return r;
}

// The mock cluster keeps about 5 MB per partition (older messages are dropped): enough
// partitions to hold a whole run, at least 4 (one per task of the 4-task runs).
inline int partitions_for(std::int64_t n, std::size_t size) {
  const double bytes = static_cast<double>(n) * static_cast<double>(size + 100);
  return std::max(4, static_cast<int>(bytes / (2.0 * 1024 * 1024)) + 1);
}

// Messages in a Kafka topic: the sum of its partitions' high watermarks.
class KafkaTopicSize {
 public:
  explicit KafkaTopicSize(const std::string& bootstraps) {
    char reason[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), reason, sizeof(reason));
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
  }
  ~KafkaTopicSize() {
    if (rk_ != nullptr) rd_kafka_destroy(rk_);
  }
  KafkaTopicSize(const KafkaTopicSize&) = delete;
  KafkaTopicSize& operator=(const KafkaTopicSize&) = delete;

  // -1 when a partition did not answer.
  std::int64_t operator()(const std::string& topic, int partitions) {
    std::int64_t sum = 0;
    for (int p = 0; p < partitions; ++p) {
      std::int64_t low = 0;
      std::int64_t high = 0;
      if (rk_ == nullptr || rd_kafka_query_watermark_offsets(rk_, topic.c_str(), p, &low, &high,
                                                             5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return -1;
      }
      sum += high;
    }
    return sum;
  }

 private:
  rd_kafka_t* rk_ = nullptr;
};

}  // namespace rmqc::bench
