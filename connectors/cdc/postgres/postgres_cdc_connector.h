#pragma once

// DebeziumPostgresConnector: PostgreSQL logical replication (pgoutput over libpq's replication
// protocol) as Debezium change events (docs/connectors/cdc-postgres.md). One task: it creates
// (or reuses) the replication slot, snapshots the captured tables in the slot's exported snapshot
// when needed, then streams from the slot. The slot's confirmed flush position moves only past
// transactions whose every event the broker acknowledged, so the server keeps whatever has not
// been delivered.

#include "rmqc/api/connector.h"
#include "rmqc/api/source_task.h"

#include "cdc/common/cdc_config.h"
#include "cdc/common/change_queue.h"
#include "cdc/common/envelope.h"
#include "cdc/common/incremental_snapshot.h"
#include "cdc/postgres/pgoutput.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::cdc::postgres {

inline constexpr std::string_view kDbnameConfig = "database.dbname";
inline constexpr std::string_view kSslModeConfig = "database.sslmode";
inline constexpr std::string_view kSlotNameConfig = "slot.name";
inline constexpr std::string_view kSlotDropOnStopConfig = "slot.drop.on.stop";
inline constexpr std::string_view kPublicationNameConfig = "publication.name";
inline constexpr std::string_view kPublicationAutocreateConfig = "publication.autocreate.mode";
inline constexpr std::string_view kPluginNameConfig = "plugin.name";
inline constexpr std::string_view kStatusUpdateIntervalConfig = "status.update.interval.ms";
inline constexpr std::string_view kSlotRetryDelayConfig = "slot.retry.delay.ms";
inline constexpr std::string_view kSlotMaxRetriesConfig = "slot.max.retries";

// Partition and offset fields.
inline constexpr std::string_view kServerPartitionField = "server";
inline constexpr std::string_view kLsnField = "lsn";               // the event's LSN
inline constexpr std::string_view kLsnProcField = "lsn_proc";      // same (Debezium's name)
inline constexpr std::string_view kLsnCommitField = "lsn_commit";  // its transaction's commit
inline constexpr std::string_view kEventSeqField = "event_seq";    // its place in the transaction
inline constexpr std::string_view kTxIdField = "txId";
inline constexpr std::string_view kTsUsecField = "ts_usec";
inline constexpr std::string_view kSnapshotField = "snapshot";
inline constexpr std::string_view kLastSnapshotRecordField = "last_snapshot_record";

enum class PublicationAutocreate { kAllTables, kDisabled, kFiltered };

struct PostgresCdcConfig {
  CdcConfig common;
  std::string dbname;
  std::string sslmode;
  std::string slot_name = "debezium";
  bool slot_drop_on_stop = false;
  std::string publication_name = "dbz_publication";
  PublicationAutocreate publication_autocreate = PublicationAutocreate::kAllTables;
  std::int64_t status_update_interval_ms = 10000;
  std::int64_t slot_retry_delay_ms = 10000;
  int slot_max_retries = 6;
  IncrementalSnapshotConfig incremental;  // signal.data.collection, chunk size

  // libpq keyword/value connection string (replication=database when replication).
  std::string conninfo(bool replication) const;
};
Result<PostgresCdcConfig> parse_postgres_config(const KeyValue& config);

class PostgresCdcConnector final : public SourceConnector {
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

class PgChangeReader;

// One item from the reader thread: a record, or the end of a transaction (flush_lsn: where the
// slot may move once every record before it is acknowledged).
struct PgQueueItem {
  std::optional<ConnectRecord> record;
  Lsn flush_lsn = 0;
};
// Items travel in batches (one lock and wake-up per batch, not per event); max.queue.size counts
// batches of kQueueBatch items.
using PgQueueBatch = std::vector<PgQueueItem>;
inline constexpr std::size_t kQueueBatch = 256;

class PostgresCdcTask final : public SourceTask {
 public:
  PostgresCdcTask();
  ~PostgresCdcTask() override;

  void start(const KeyValue& config) override;
  std::vector<ConnectRecord> poll() override;
  void commit(const ConnectRecord& record, const RecordMetadata& metadata) override;
  void commit() override;
  void stop() override;
  void wakeup() override;
  ConfigDef config_def() const override { return PostgresCdcConnector::definition(); }

  // The LSN reported to the server as flushed (tests).
  Lsn confirmed_flush_lsn() const;

 private:
  struct Pending {
    bool is_record = false;
    std::int64_t lsn_commit = 0;
    std::int64_t seq = 0;
    Lsn flush_lsn = 0;
  };
  void release_markers();

  PostgresCdcConfig config_;
  RecordPartition partition_;
  std::unique_ptr<ChangeQueue<PgQueueBatch>> queue_;
  std::deque<PgQueueItem> ready_;  // drained, not yet returned (max.batch.size)
  std::atomic<ChangeQueue<PgQueueBatch>*> wake_target_{nullptr};
  std::atomic<bool> woken_{false};  // for wakeup() from any thread
  std::unique_ptr<PgChangeReader> reader_;
  std::deque<Pending> pending_;
  Lsn acked_flush_lsn_ = 0;
  bool acked_since_commit_ = false;
  std::optional<RecordOffset> last_offset_;
  std::chrono::steady_clock::time_point next_heartbeat_;
  UndecodableSplitter undecodable_;  // records held back around an undecodable change
};

}  // namespace rmqc::connectors::cdc::postgres

namespace rmqc::connectors::cdc {
// The name cdc_plugin.cc registers.
using postgres::PostgresCdcConnector;
}  // namespace rmqc::connectors::cdc
