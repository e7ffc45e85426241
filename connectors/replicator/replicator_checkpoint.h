#pragma once

// ReplicatorCheckpointConnector: maps consumer-group offsets of the source cluster onto the
// destination (docs/connectors/replicator.md). One task reads the offset-sync records the source
// tasks write to offset.sync.topic on the destination (dest.endpoint, the worker's cluster), and
// every checkpoint.interval.ms reads the committed offsets of each group of sync.gids on the
// source topics, translates them (translate() in replicator_config.h: never past a message the
// group has not consumed) and emits one checkpoint record per group and source queue to
// checkpoint.topic, with the replication lag of the queue. With sync.group.offsets.enabled it
// also commits the translated offsets for the group on the destination (only forward), so the
// group's consumers can fail over to the destination.

#include "rmqc/api/connector.h"
#include "rmqc/api/source_task.h"

#include "replicator/replicator_config.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace rmqc::connectors::replicator {

class ReplicatorCheckpointConnector final : public SourceConnector {
 public:
  static ConfigDef definition();

  void validate(const KeyValue& config) override;
  void start(const KeyValue& config) override;
  void stop() override {}
  ConfigDef config_def() const override { return definition(); }
  // One task: the work is a few admin calls per interval.
  std::vector<KeyValue> task_configs(int max_tasks) override;
  std::string task_class() const override;
  std::unique_ptr<Task> create_task() const override;

 private:
  KeyValue config_;
};

class ReplicatorCheckpointTask final : public SourceTask {
 public:
  ReplicatorCheckpointTask() = default;
  ~ReplicatorCheckpointTask() override;

  void start(const KeyValue& config) override;
  void stop() override;
  std::vector<ConnectRecord> poll() override;
  void wakeup() override;

 private:
  struct QueueSyncs {
    std::map<std::int64_t, std::int64_t> offsets;  // source offset -> destination offset
    rocketmq::MessageQueue dest;                   // where the newest sync says it lands
  };

  void read_syncs(std::chrono::milliseconds wait);
  void checkpoint(std::vector<ConnectRecord>& out);
  void note_error(const std::string& what);
  ConnectRecord make_record(const std::string& group, const std::string& json) const;

  KeyValue config_;
  std::vector<std::string> groups_;
  std::vector<std::string> topics_;
  std::string cluster_;
  std::string sync_topic_;
  std::string checkpoint_topic_;
  bool commit_ = false;
  bool value_bytes_ = false;
  std::chrono::milliseconds interval_{5000};

  std::unique_ptr<rocketmq::Admin> src_admin_;
  std::unique_ptr<rocketmq::Admin> dest_admin_;
  std::unique_ptr<rocketmq::LitePullConsumer> syncs_consumer_;
  bool syncs_assigned_ = false;
  std::map<rocketmq::MessageQueue, QueueSyncs> syncs_;
  // Last emitted (source offset, destination offset, replicated offset) per group and queue.
  std::map<std::pair<std::string, rocketmq::MessageQueue>,
           std::tuple<std::int64_t, std::int64_t, std::int64_t>>
      emitted_;
  std::chrono::steady_clock::time_point next_checkpoint_{};
  std::string last_error_;
};

}  // namespace rmqc::connectors::replicator
