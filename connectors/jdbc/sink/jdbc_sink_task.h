#pragma once

// Writes records into database tables (docs/connectors/jdbc.md, "Sink").
//
// put() takes the records (the vector is left empty), maps each to a row of its table and
// appends it to that table's pending batches: a batch holds rows of one operation (write or
// delete) and one column set, at most batch.size of them, in record order. Then every pending
// batch is written, each in one transaction: COPY (Connection::bulk_insert) or multi-row INSERT /
// upsert statements, one UPDATE or DELETE per row. So a delete between two writes of one key is
// applied between them.
//
// A retriable database error rolls the batch back, reconnects and retries it after
// retry.backoff.ms, up to max.retries times, then fails the task. Any other error retries the
// batch row by row, each row its own transaction: a row the database rejects goes to the
// ErrorRecordReporter (the worker's errors.tolerance / DLQ) or, without one, fails the task
// with a message naming the record; the other rows are written.
//
// wakeup() ends a retry back-off and cancels the running statement: the call returns with the
// unwritten rows kept for the next put() / pre_commit(). pre_commit() writes what is pending and
// returns, per queue, only offsets of records whose rows are committed.

#include "rmqc/api/logging.h"
#include "rmqc/api/sink_task.h"
#include "rmqc/api/wakeup.h"

#include "jdbc/common/connection_config.h"
#include "jdbc/common/dialect.h"
#include "jdbc/common/dialect_registry.h"
#include "jdbc/sink/jdbc_sink_config.h"
#include "jdbc/sink/record_mapper.h"

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rmqc::connectors::jdbc {

class JdbcSinkTask final : public SinkTask {
 public:
  // Dialects of the loaded plugin (DialectRegistry::installed()).
  JdbcSinkTask();
  explicit JdbcSinkTask(std::shared_ptr<const DialectRegistry> dialects);
  ~JdbcSinkTask() override;

  ConfigDef config_def() const override { return JdbcSinkConfig::definition(); }
  void start(const KeyValue& config) override;
  void stop() override;
  void put(std::vector<ConnectRecord>& records) override;
  // Writes everything pending; throws RetriableException when woken before it was all written.
  void flush(const OffsetMap& current_offsets) override;
  OffsetMap pre_commit(const OffsetMap& current_offsets) override;
  void wakeup() override;

  // Rows put but not yet committed.
  std::size_t pending_rows() const;

 private:
  struct Woken {};  // thrown inside to unwind a write cut short by wakeup()

  struct Pending {
    ConnectRecord record;
    MappedRow row;
  };
  struct Batch {
    std::shared_ptr<const RowShape> shape;
    std::vector<Pending> rows;
    std::unordered_set<std::size_t> key_hashes;  // upsert: one row per key in a statement
  };
  struct TableState {
    std::string name;
    TableId id;
    std::deque<Batch> batches;
    bool described = false;
    bool exists = false;
    std::vector<ColumnDef> columns;
    std::unordered_set<std::string> column_names;  // lower case
  };

  TableState& table_state(const std::string& name);
  void append(TableState& table, Pending pending);
  void reject(Pending& pending, const std::string& table, const std::string& error);

  // Writes every pending batch; false when woken before everything was written.
  bool write_pending();
  void write_batch(TableState& table, Batch& batch);
  void write_rows_one_by_one(TableState& table, Batch& batch);
  Result<void> try_batch(TableState& table, Batch& batch);
  Result<void> try_row(TableState& table, const RowShape& shape, Pending& row);
  Result<void> execute_rows(TableState& table, const RowShape& shape, Pending* rows,
                            std::size_t count);

  Result<Connection*> connection();
  void drop_connection();
  void rollback_quietly();
  // Retriable error: count it, give up past max.retries, back off (Woken when woken).
  void retry_or_fail(int& failures, const Error& error, const std::string& what);

  Result<void> ensure_table(TableState& table, const RowShape& shape);
  Result<void> describe(TableState& table);
  const std::string& insert_statement(const TableState& table, const RowShape& shape,
                                      InsertMode mode, int rows);

  std::shared_ptr<const DialectRegistry> dialects_;
  JdbcSinkConfig config_;
  JdbcConnectionSettings settings_;
  const Dialect* dialect_ = nullptr;
  std::optional<RecordMapper> mapper_;
  Logger log_{"jdbc-sink"};

  std::mutex connection_mutex_;  // guards conn_ against wakeup()'s cancel()
  std::unique_ptr<Connection> conn_;
  WakeupSignal signal_;

  std::vector<std::unique_ptr<TableState>> tables_;
  std::unordered_map<std::string, TableState*> tables_by_name_;
  std::unordered_map<std::string, std::string> sql_cache_;
  bool bulk_supported_ = true;
  std::vector<SqlParam> flat_;                    // reused statement parameters
  std::vector<std::vector<SqlParam>> bulk_rows_;  // reused bulk_insert rows
  std::string cache_key_;
};

}  // namespace rmqc::connectors::jdbc
