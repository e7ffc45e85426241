#pragma once

// The keys every CDC connector shares (Debezium's names), parsed once into CdcConfig, and the
// include/exclude filters of databases, schemas, tables and columns.

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"
#include "rmqc/base/result.h"

#include "cdc/common/debezium_types.h"
#include "cdc/common/envelope.h"

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::cdc {

inline constexpr std::string_view kHostnameConfig = "database.hostname";
inline constexpr std::string_view kPortConfig = "database.port";
inline constexpr std::string_view kUserConfig = "database.user";
inline constexpr std::string_view kPasswordConfig = "database.password";
inline constexpr std::string_view kTopicPrefixConfig = "topic.prefix";
inline constexpr std::string_view kServerNameConfig = "database.server.name";  // old topic.prefix
inline constexpr std::string_view kDatabaseIncludeConfig = "database.include.list";
inline constexpr std::string_view kDatabaseExcludeConfig = "database.exclude.list";
inline constexpr std::string_view kSchemaIncludeConfig = "schema.include.list";
inline constexpr std::string_view kSchemaExcludeConfig = "schema.exclude.list";
inline constexpr std::string_view kTableIncludeConfig = "table.include.list";
inline constexpr std::string_view kTableExcludeConfig = "table.exclude.list";
inline constexpr std::string_view kColumnIncludeConfig = "column.include.list";
inline constexpr std::string_view kColumnExcludeConfig = "column.exclude.list";
inline constexpr std::string_view kSnapshotModeConfig = "snapshot.mode";
inline constexpr std::string_view kSnapshotLockingModeConfig = "snapshot.locking.mode";
inline constexpr std::string_view kHeartbeatIntervalConfig = "heartbeat.interval.ms";
inline constexpr std::string_view kTombstonesOnDeleteConfig = "tombstones.on.delete";
inline constexpr std::string_view kMaxBatchSizeConfig = "max.batch.size";
inline constexpr std::string_view kMaxQueueSizeConfig = "max.queue.size";
inline constexpr std::string_view kPollIntervalConfig = "poll.interval.ms";
inline constexpr std::string_view kIncludeSchemaChangesConfig = "include.schema.changes";
inline constexpr std::string_view kSkippedOperationsConfig = "skipped.operations";
inline constexpr std::string_view kDecimalModeConfig = "decimal.handling.mode";
inline constexpr std::string_view kTimePrecisionModeConfig = "time.precision.mode";
inline constexpr std::string_view kBinaryModeConfig = "binary.handling.mode";
inline constexpr std::string_view kConnectTimeoutConfig = "connect.timeout.ms";
inline constexpr std::string_view kConnectBackoffConfig = "connect.backoff.max.ms";
inline constexpr std::string_view kMessageKeyColumnsConfig = "message.key.columns";

// snapshot.mode. Old names are accepted: schema_only = no_data; schema_only_recovery = recovery.
enum class SnapshotMode {
  kInitial,      // snapshot when there is no committed position, then stream
  kInitialOnly,  // snapshot, then stop (no streaming)
  kWhenNeeded,   // snapshot also when the committed position is no longer on the server
  kNoData,       // capture the schema only; stream from the current position
  kAlways,       // snapshot at every start, then stream
  kNever,        // no snapshot; stream from the oldest position the server has
  kRecovery,     // rebuild the schema history from the current schema, then stream on
};
Result<SnapshotMode> parse_snapshot_mode(std::string_view text);
std::string_view snapshot_mode_name(SnapshotMode mode);

// Debezium's list semantics: comma-separated regular expressions, each matched against the whole
// identifier (anchored). Include and exclude lists of one level are exclusive.
class IdFilter {
 public:
  static Result<IdFilter> make(std::string_view include_list, std::string_view exclude_list,
                               std::string_view what);
  IdFilter() = default;
  bool accepts(std::string_view id) const;
  bool empty() const { return include_.empty() && exclude_.empty(); }

 private:
  std::vector<std::shared_ptr<const RE2>> include_;
  std::vector<std::shared_ptr<const RE2>> exclude_;
};

// Which tables and columns are captured. Table ids are "<ns>.<table>"; column ids
// "<ns>.<table>.<column>"; the database/schema lists filter on <ns>.
struct TableFilter {
  IdFilter namespaces;
  IdFilter tables;
  IdFilter columns;
  bool table_captured(const TableRef& table) const;
  bool column_captured(const TableRef& table, std::string_view column) const;
};

// message.key.columns: "<table regex>:<column>,<column>;<table regex>:<column>;..." — the columns
// that form the record key of the tables whose "<ns>.<table>" id the regex matches in full,
// instead of the primary key (Debezium's custom message keys; also a key for keyless tables).
class MessageKeyColumns {
 public:
  static Result<MessageKeyColumns> parse(std::string_view text);
  // The key columns of table: the columns of `columns` (in table order) that some matching entry
  // names, compared without case (unquoted identifiers are case-insensitive in both databases);
  // empty when no entry matches or none of its columns is captured (the primary key then stays).
  std::vector<std::string> key_columns(const TableRef& table,
                                       const std::vector<ColumnSchema>& columns) const;
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::shared_ptr<const RE2> table;
    std::vector<std::string> columns;
  };
  std::vector<Entry> entries_;
};

struct CdcConfig {
  std::string hostname;
  int port = 0;
  std::string user;
  std::string password;
  std::string prefix;  // topic.prefix (or database.server.name)
  TableFilter filter;
  SnapshotMode snapshot_mode = SnapshotMode::kInitial;
  std::string snapshot_locking_mode;
  std::int64_t heartbeat_interval_ms = 0;  // 0 = no heartbeats
  bool tombstones_on_delete = true;
  int max_batch_size = 2048;
  int max_queue_size = 8192;
  std::int64_t poll_interval_ms = 500;
  bool include_schema_changes = true;
  std::set<char> skipped_operations;  // op letters; default {'t'}
  TypeModes types;
  std::int64_t connect_timeout_ms = 30000;
  std::int64_t connect_backoff_max_ms = 30000;
  MessageKeyColumns message_key_columns;
  // The namespace level's list keys: database.* for MySQL, schema.* for PostgreSQL.
  bool op_skipped(Op op) const { return skipped_operations.count(static_cast<char>(op)) > 0; }
};

// The shared keys with their defaults and docs. ns_level: "database" (MySQL) or "schema"
// (PostgreSQL) picks which include/exclude pair filters namespaces.
ConfigDef common_config_def(int default_port, std::string_view ns_level,
                            std::string_view default_snapshot_locking_mode,
                            std::string_view default_time_precision_mode);
// Parses the shared keys (the config must already have passed the connector's ConfigDef::parse).
Result<CdcConfig> parse_common_config(const KeyValue& config, std::string_view ns_level);

}  // namespace rmqc::connectors::cdc
