#pragma once

// KafkaSourceConnector: Kafka topics into RocketMQ topics of the same name (or connect.topicname /
// rocketmq.topic), docs/connectors/kafka.md. Every task is a member of one Kafka consumer group
// (kafka.group.id), so Kafka splits the topics' partitions over the tasks. A record keeps its key,
// value bytes, headers (as message properties) and timestamp; its partition is
// {topic, partition}, its offset the Kafka offset. An offset is stored for Kafka's commit only
// once RocketMQ acknowledged the record (commit(record, metadata)); a reassigned partition
// resumes after the worker's committed position when it has one.

#include "rmqc/api/connector.h"
#include "rmqc/api/source_task.h"

#include "kafka/kafka_client.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace rmqc::connectors::kafka {

class KafkaSourceConnector final : public SourceConnector {
 public:
  static ConfigDef definition();

  void validate(const KeyValue& config) override;
  void start(const KeyValue& config) override;
  void stop() override {}
  ConfigDef config_def() const override { return definition(); }
  // max_tasks identical configs: the consumer group assigns the partitions.
  std::vector<KeyValue> task_configs(int max_tasks) override;
  std::string task_class() const override;
  std::unique_ptr<Task> create_task() const override;

 private:
  KeyValue config_;
};

class KafkaSourceTask final : public SourceTask {
 public:
  KafkaSourceTask() = default;
  ~KafkaSourceTask() override;

  void start(const KeyValue& config) override;
  void stop() override;
  std::vector<ConnectRecord> poll() override;
  // Stores the Kafka offset after the record for the group's next commit.
  void commit(const ConnectRecord& record, const RecordMetadata& metadata) override;
  // While the Kafka cluster is unreachable, a poll() that got nothing throws RetriableException
  // saying so (the worker retries it and shows the reason in the task's status).
  void wakeup() override;

  // The consumer group this task joined, and its partitions now ("topic[3]"); task thread only.
  const std::string& group_id() const { return group_id_; }
  std::vector<std::string> assignment() const;

 private:
  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                    rd_kafka_topic_partition_list_t* partitions);
  ConnectRecord to_record(const rd_kafka_message_t& message) const;
  void close();

  KeyValue config_;
  std::string group_id_;
  std::vector<std::string> topics_;
  std::string rename_;
  bool key_bytes_ = false;
  bool value_bytes_ = false;
  int batch_size_ = 500;
  std::chrono::milliseconds poll_timeout_{1000};

  std::mutex handle_mutex_;  // guards queue_ against wakeup() from other threads
  KafkaHandle consumer_;
  KafkaQueue queue_;
  std::atomic<bool> woken_{false};
  std::string last_error_;  // the last client error logged (logged again once it changes)
  Reachability reach_;      // down: an empty poll() throws RetriableException with the reason
};

}  // namespace rmqc::connectors::kafka
