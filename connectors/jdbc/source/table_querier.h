#pragma once

// One table (or the query) of a JdbcSourceTask: builds its SQL once, reads a page of rows per
// run and turns them into records carrying the offset to resume from.

#include "rmqc/api/record.h"

#include "jdbc/common/dialect.h"
#include "jdbc/common/schema_mapping.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rmqc::connectors::jdbc {

enum class SourceMode { kBulk, kIncrementing, kTimestamp, kTimestampIncrementing };

Result<SourceMode> parse_source_mode(std::string_view text);

struct QuerierOptions {
  SourceMode mode = SourceMode::kBulk;
  std::string incrementing_column;                // empty: the table's auto-increment column
  std::vector<std::string> timestamp_columns;     // several: COALESCE(a, b, ...)
  std::optional<std::int64_t> timestamp_initial;  // epoch ms; nullopt = from the beginning
  std::int64_t timestamp_delay_ms = 0;
  int batch_max_rows = 100;
  bool validate_non_null = true;
  NumericMapping numeric_mapping = NumericMapping::kNone;
  bool quote = true;
  std::string topic;  // every record's topic
  std::string query_suffix;
  std::string offset_suffix;
};

class TableQuerier {
 public:
  // A table.
  TableQuerier(const Dialect& dialect, TableId table, QuerierOptions options);
  // query mode: the user's query, filtered and ordered as a sub-query.
  TableQuerier(const Dialect& dialect, std::string query, QuerierOptions options);
  ~TableQuerier();

  const RecordPartition& partition() const { return partition_; }
  std::string name() const;
  // The committed offset to resume after (empty: from the start).
  void restore(const RecordOffset& offset);

  // Describes the table and builds the SQL; errors: missing table, unknown or nullable columns.
  Result<void> prepare(Connection& connection);
  bool prepared() const { return prepared_; }

  // Appends up to batch.max.rows records; true when more rows are ready now (a full page, or a
  // bulk scan not finished).
  Result<bool> poll(Connection& connection, std::vector<ConnectRecord>& out);

  // Drops an open cursor (the connection is being replaced or the task stops).
  void reset();

 private:
  struct Row {
    std::vector<Value> values;
    std::int64_t timestamp = 0;
    std::int64_t incrementing = 0;
  };

  Result<void> resolve_columns(const std::vector<ColumnDef>& columns);
  void build_sql();
  Result<void> read_keys(Row& row) const;
  Result<std::int64_t> db_now(Connection& connection);
  Result<bool> poll_bulk(Connection& connection, std::vector<ConnectRecord>& out);
  Result<bool> poll_paged(Connection& connection, std::vector<ConnectRecord>& out);
  Result<void> fetch(Connection& connection, const std::string& sql,
                     const std::vector<SqlParam>& params, std::vector<Row>& rows,
                     std::size_t limit);
  Result<void> emit(std::vector<Value>&& values, RecordOffset offset,
                    std::vector<ConnectRecord>& out, std::int64_t now_ms);
  std::string from_clause() const;

  const Dialect& dialect_;
  std::optional<TableId> table_;
  std::string query_;
  QuerierOptions options_;
  RecordPartition partition_;
  bool prepared_ = false;

  std::vector<ColumnDef> columns_;
  RowMapping mapping_;
  std::vector<int> key_indexes_;
  SchemaPtr key_schema_;
  int incrementing_index_ = -1;
  std::vector<int> timestamp_indexes_;
  ColumnKind timestamp_kind_ = ColumnKind::kTimestamp;

  std::string select_sql_;           // bulk: everything
  std::string first_page_sql_;       // paged, no offset yet
  std::string next_page_sql_;        // paged, after an offset
  std::string timestamp_group_sql_;  // timestamp mode: every row of one timestamp

  std::optional<std::int64_t> last_incrementing_;
  std::optional<std::int64_t> last_timestamp_;

  std::unique_ptr<RowCursor> bulk_cursor_;
  std::vector<Value> row_buffer_;
};

}  // namespace rmqc::connectors::jdbc
