#pragma once

// org.apache.rocketmq.connect.debezium.mysql.DebeziumMysqlConnector: Debezium-compatible change
// events from a MySQL/MariaDB binlog (docs/connectors/cdc-mysql.md). One task, as Debezium: a
// reader thread snapshots then streams the binlog into a bounded queue that poll() drains.

#include "rmqc/api/connector.h"
#include "rmqc/api/source_task.h"

#include "cdc/common/cdc_config.h"
#include "cdc/common/change_queue.h"
#include "cdc/common/envelope.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace rmqc::connectors::cdc {

namespace mysql {
class BinlogReader;
}

inline constexpr std::string_view kServerIdConfig = "database.server.id";
inline constexpr std::string_view kHistoryTopicConfig = "database.history.rocketmq.topic";
inline constexpr std::string_view kSchemaHistoryTopicConfig =
    "schema.history.internal.rocketmq.topic";
inline constexpr std::string_view kSchemaHistoryOnlyCapturedConfig =
    "schema.history.internal.store.only.captured.tables.ddl";
inline constexpr std::string_view kSchemaHistorySkipUnparseableConfig =
    "schema.history.internal.skip.unparseable.ddl";

class MysqlCdcConnector final : public SourceConnector {
 public:
  static ConfigDef definition();

  void validate(const KeyValue& config) override;
  void start(const KeyValue& config) override;
  void stop() override {}
  ConfigDef config_def() const override { return definition(); }
  // Always one task: a binlog is read by one client.
  std::vector<KeyValue> task_configs(int max_tasks) override;
  std::string task_class() const override;
  std::unique_ptr<Task> create_task() const override;

 private:
  KeyValue config_;
};

class MysqlCdcTask final : public SourceTask {
 public:
  MysqlCdcTask();
  ~MysqlCdcTask() override;

  void start(const KeyValue& config) override;
  void stop() override;
  std::vector<ConnectRecord> poll() override;
  void wakeup() override;

 private:
  CdcConfig config_;
  std::shared_ptr<ChangeQueue<std::vector<ConnectRecord>>> queue_;  // shared with the reader
  std::atomic<ChangeQueue<std::vector<ConnectRecord>>*> wake_queue_{nullptr};
  std::size_t batch_limit_ = 256;
  std::unique_ptr<mysql::BinlogReader> reader_;
  UndecodableSplitter undecodable_;  // records held back around an undecodable event
};

}  // namespace rmqc::connectors::cdc
