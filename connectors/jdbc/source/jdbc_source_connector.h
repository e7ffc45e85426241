#pragma once

// JdbcSourceConnector: polls tables (or one query) of a database into topics
// (docs/connectors/jdbc.md). The connector lists the tables at start and splits them over the
// tasks; each task keeps one querier per table and resumes at the committed offsets.

#include "rmqc/api/connector.h"
#include "rmqc/api/source_task.h"
#include "rmqc/api/wakeup.h"

#include "jdbc/common/connection_config.h"
#include "jdbc/common/dialect_registry.h"
#include "jdbc/source/table_querier.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rmqc::connectors::jdbc {

// Source keys (common connection.* keys: connection_config.h).
inline constexpr std::string_view kModeConfig = "mode";
inline constexpr std::string_view kIncrementingColumnConfig = "incrementing.column.name";
inline constexpr std::string_view kTimestampColumnConfig = "timestamp.column.name";
inline constexpr std::string_view kTimestampInitialConfig = "timestamp.initial";
inline constexpr std::string_view kTimestampDelayConfig = "timestamp.delay.interval.ms";
inline constexpr std::string_view kTableWhitelistConfig = "table.whitelist";
inline constexpr std::string_view kTableBlacklistConfig = "table.blacklist";
inline constexpr std::string_view kTableTypesConfig = "table.types";
inline constexpr std::string_view kSchemaPatternConfig = "schema.pattern";
inline constexpr std::string_view kCatalogPatternConfig = "catalog.pattern";
inline constexpr std::string_view kQueryConfig = "query";
inline constexpr std::string_view kQuerySuffixConfig = "query.suffix";
inline constexpr std::string_view kTopicPrefixConfig = "topic.prefix";
inline constexpr std::string_view kConnectTopicNameConfig = "connect.topicname";
inline constexpr std::string_view kPollIntervalConfig = "poll.interval.ms";
inline constexpr std::string_view kBatchMaxRowsConfig = "batch.max.rows";
inline constexpr std::string_view kValidateNonNullConfig = "validate.non.null";
inline constexpr std::string_view kNumericMappingConfig = "numeric.mapping";
inline constexpr std::string_view kNumericPrecisionMappingConfig = "numeric.precision.mapping";
inline constexpr std::string_view kOffsetSuffixConfig = "offset.suffix";
// Internal: the tables a task owns (set by the connector in each task config).
inline constexpr std::string_view kTaskTablesConfig = "tables";

// Partition and offset fields.
inline constexpr std::string_view kTablePartitionField = "table";
inline constexpr std::string_view kQueryPartitionField = "query";
inline constexpr std::string_view kIncrementingOffsetField = "incrementing";
inline constexpr std::string_view kTimestampOffsetField = "timestamp";

// The task config encoding of the table list: "catalog/schema/table" items joined by ',', each
// part %-escaped ('%', '/', ',').
std::string encode_tables(const std::vector<TableId>& tables);
Result<std::vector<TableId>> decode_tables(std::string_view text);

// Splits tables (in order) into min(max_tasks, tables) contiguous groups of nearly equal size.
std::vector<std::vector<TableId>> split_tables(const std::vector<TableId>& tables, int max_tasks);

class JdbcSourceConnector final : public SourceConnector {
 public:
  // Uses the dialects jdbc_plugin.cc installed (DialectRegistry::installed()).
  JdbcSourceConnector();
  explicit JdbcSourceConnector(std::shared_ptr<const DialectRegistry> dialects);

  static ConfigDef definition();

  // Checks every key; a connection that is refused for good (bad credentials) is an error, an
  // unreachable database only a warning (the tasks retry).
  void validate(const KeyValue& config) override;
  // Lists the tables to read (connecting with connection.attempts / connection.backoff.ms).
  void start(const KeyValue& config) override;
  void stop() override;
  ConfigDef config_def() const override { return definition(); }
  std::vector<KeyValue> task_configs(int max_tasks) override;
  std::string task_class() const override;
  std::unique_ptr<Task> create_task() const override;

  const std::vector<TableId>& tables() const { return tables_; }

 private:
  std::shared_ptr<const DialectRegistry> dialects_;
  KeyValue config_;
  std::vector<TableId> tables_;
  WakeupSignal stop_signal_;
};

class JdbcSourceTask final : public SourceTask {
 public:
  JdbcSourceTask();
  explicit JdbcSourceTask(std::shared_ptr<const DialectRegistry> dialects);
  ~JdbcSourceTask() override;

  void start(const KeyValue& config) override;
  void stop() override;
  std::vector<ConnectRecord> poll() override;
  void wakeup() override;

 private:
  // Connects and builds the queriers; throws RetriableException / ConnectException.
  void ensure_ready();
  void drop_connection();
  void add_table_querier(const TableId& table);
  void restore_offsets();
  [[noreturn]] void fail(const Error& error, std::string_view what);

  std::shared_ptr<const DialectRegistry> dialects_;
  KeyValue config_;
  std::unique_ptr<JdbcConnectionSettings> settings_;
  std::vector<TableId> tables_;
  bool tables_listed_ = true;
  std::string topic_name_;
  std::string topic_prefix_;
  QuerierOptions base_options_;

  std::mutex connection_mutex_;  // guards connection_ against cancel() from wakeup()
  std::unique_ptr<Connection> connection_;
  std::vector<std::unique_ptr<TableQuerier>> queriers_;
  std::vector<std::chrono::steady_clock::time_point> next_run_;
  std::size_t next_querier_ = 0;
  bool ready_ = false;

  std::chrono::milliseconds poll_interval_{5000};
  WakeupSignal wakeup_;
};

}  // namespace rmqc::connectors::jdbc
