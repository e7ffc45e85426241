#pragma once

// ReplicatorSourceConnector: copies topics of a source RocketMQ cluster into the worker's cluster
// (docs/connectors/replicator.md). The source queues (topic, broker, queue id) are split over the
// tasks (every task_count-th of the sorted queues); each task reads its queues with the native
// lite-pull consumer in assign mode, from the worker's stored position (the last copied offset of
// each queue) or, for a queue without one, from src.consume.from. A copy keeps body, keys, tags
// and user properties, gets REPLICATOR_SRC_* properties naming its origin, and goes through the
// worker's producer with the sharding key "<cluster>/<topic>/<broker>/<queue>", so one source
// queue lands on one destination queue, in order. The worker commits a queue's position only for
// what the destination acknowledged; the task then knows where each copy landed
// (commit(record, metadata)) and emits offset-sync records to offset.sync.topic, which the
// checkpoint connector translates consumer offsets with: one for the first copy of a queue and
// for every copy at least offset.sync.step source offsets past the last sync, and one for the
// newest copy every offset.sync.interval.ms.

#include "rmqc/api/connector.h"
#include "rmqc/api/source_task.h"

#include "replicator/replicator_config.h"
#include "rocketmq/client/lite_pull_consumer.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rmqc::connectors::replicator {

class ReplicatorSourceConnector final : public SourceConnector {
 public:
  static ConfigDef definition();

  void validate(const KeyValue& config) override;
  void start(const KeyValue& config) override;
  void stop() override {}
  ConfigDef config_def() const override { return definition(); }
  // min(max_tasks, ...) configs with replicator.task.index / replicator.task.count: the tasks
  // split the queues among themselves, so a queue added on the source is picked up without a
  // reconfiguration.
  std::vector<KeyValue> task_configs(int max_tasks) override;
  std::string task_class() const override;
  std::unique_ptr<Task> create_task() const override;

 private:
  KeyValue config_;
};

class ReplicatorSourceTask final : public SourceTask {
 public:
  ReplicatorSourceTask() = default;
  ~ReplicatorSourceTask() override;

  void start(const KeyValue& config) override;
  void stop() override;
  std::vector<ConnectRecord> poll() override;
  // Remembers where the copy landed, for the next offset-sync record.
  void commit(const ConnectRecord& record, const RecordMetadata& metadata) override;
  void wakeup() override;

  // The source queues this task reads now (task thread only).
  std::vector<rocketmq::MessageQueue> queues() const;

 private:
  struct Landed {
    OffsetSync newest;              // the newest acknowledged copy of the queue
    bool newest_synced = true;      // an offset-sync record for it was emitted
    std::int64_t last_synced = -1;  // source offset of the last sync emitted
  };

  // Re-reads the source routes and assigns this task's share; false (and logs why) when the
  // source cannot be reached.
  bool refresh_assignment();
  void note_error(const std::string& what);
  ConnectRecord to_record(const rocketmq::MessageExt& message);
  void emit_offset_syncs(std::vector<ConnectRecord>& out);
  ConnectRecord sync_record(const OffsetSync& sync) const;

  KeyValue config_;
  std::vector<TopicTags> topics_;
  std::map<std::string, std::string> dest_topic_;  // source topic -> destination topic
  std::string cluster_;
  std::string sync_topic_;
  bool value_bytes_ = false;
  int index_ = 0;
  int count_ = 1;
  std::size_t batch_ = 512;
  bool from_last_ = false;
  std::chrono::milliseconds sync_interval_{1000};
  std::int64_t sync_step_ = 100;
  std::chrono::milliseconds refresh_interval_{5000};
  // Throws the RetriableException that reports the source as unreachable (last_error_).
  [[noreturn]] void throw_unreachable() const;
  std::chrono::milliseconds retry_backoff_{1000};  // doubles up to 10 s while the source is down

  std::unique_ptr<rocketmq::LitePullConsumer> consumer_;
  std::vector<rocketmq::MessageQueue> assigned_;
  std::chrono::steady_clock::time_point next_refresh_{};
  std::chrono::steady_clock::time_point next_sync_{};
  std::map<rocketmq::MessageQueue, Landed> landed_;
  std::vector<OffsetSync> due_syncs_;  // emitted with the next poll
  std::string last_error_;
};

}  // namespace rmqc::connectors::replicator
