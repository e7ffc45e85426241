#pragma once

// KafkaSinkConnector (also seed 001's RocketMQSinkConnector): RocketMQ topics into Kafka topics of
// the same name (or kafka.topic), docs/connectors/kafka.md. An idempotent producer writes each
// record with its key, value bytes, message properties as headers and timestamp. pre_commit()
// waits for Kafka's delivery reports of everything put so far: the worker commits a RocketMQ
// offset only for records Kafka acknowledged, and a queue whose delivery failed is rewound to the
// first failed record, so it is written again.

#include "rmqc/api/connector.h"
#include "rmqc/api/sink_task.h"

#include "kafka/kafka_client.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace rmqc::connectors::kafka {

class KafkaSinkConnector final : public SinkConnector {
 public:
  static ConfigDef definition();

  void validate(const KeyValue& config) override;
  void start(const KeyValue& config) override;
  void stop() override {}
  ConfigDef config_def() const override { return definition(); }
  std::vector<KeyValue> task_configs(int max_tasks) override;
  std::string task_class() const override;
  std::unique_ptr<Task> create_task() const override;

 private:
  KeyValue config_;
};

class KafkaSinkTask final : public SinkTask {
 public:
  KafkaSinkTask() = default;
  ~KafkaSinkTask() override;

  void start(const KeyValue& config) override;
  void stop() override;
  // Queues the records on the producer; a record Kafka refuses outright (too large) goes to the
  // dead letter queue when there is one, else the task fails.
  void put(std::vector<ConnectRecord>& records) override;
  // Waits for every delivery report; throws RetriableException when some delivery failed (the
  // queues are rewound to the first failed record) or Kafka did not answer in time, and at once
  // while the Kafka cluster is unreachable (the reason in the message).
  void flush(const OffsetMap& current_offsets) override;
  // As flush(), but a failed delivery holds back only its own queue's offset.
  OffsetMap pre_commit(const OffsetMap& current_offsets) override;
  void wakeup() override { woken_ = true; }

  // Messages produced and not yet reported on.
  int in_flight() const;

 private:
  struct Delivery;  // what a message's delivery report needs: its queue and offset
  static void delivery_cb(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void produce(const ConnectRecord& record);
  // Waits for all delivery reports; then rewinds the failed queues and returns them (queue ->
  // the offset of its first failed record).
  OffsetMap await_deliveries();

  KeyValue config_;
  std::string rename_;
  std::chrono::milliseconds flush_timeout_{30000};
  KafkaHandle producer_;
  std::atomic<bool> woken_{false};

  std::mutex failures_mutex_;  // delivery reports run on the task thread; guarded anyway
  std::map<RecordPartition, std::int64_t> failed_;  // queue -> first failed queue offset
  std::string last_failure_;
  std::string last_error_;
  Reachability reach_;  // down: pre_commit() throws at once with the reason
};

}  // namespace rmqc::connectors::kafka
