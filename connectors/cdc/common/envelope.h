#pragma once

// Debezium's change event envelope: key = the primary key struct, value = {before, after, source,
// op, ts_ms}, schema names <prefix>.<ns>.<table>.Key / .Value / .Envelope; plus tombstones,
// heartbeats and Debezium's topic naming with the characters RocketMQ refuses replaced.

#include "rmqc/api/record.h"
#include "rmqc/api/schema.h"
#include "rmqc/api/sink_task.h"
#include "rmqc/api/struct.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::cdc {

// The version written in every event's source.version.
inline constexpr std::string_view kConnectorVersion = "2.5.0.Final-rmqc";

// op: create, update, delete, read (snapshot), truncate.
enum class Op : char { kCreate = 'c', kUpdate = 'u', kDelete = 'd', kRead = 'r', kTruncate = 't' };

// A table as Debezium names it: ns is the MySQL database or the PostgreSQL schema.
struct TableRef {
  std::string ns;
  std::string table;
  std::string qualified() const { return ns + "." + table; }
  bool operator==(const TableRef&) const = default;
  bool operator<(const TableRef& o) const { return ns != o.ns ? ns < o.ns : table < o.table; }
};

// RocketMQ allows [%|a-zA-Z0-9_-] in topic names (at most 127 characters): every other character
// ('.', '$', ...) becomes '_', and a longer name is cut. Debezium's "<prefix>.<db>.<table>" is
// thus "<prefix>_<db>_<table>".
std::string rocketmq_topic_name(std::string_view name);
// Debezium's default data topic for a table, made a valid RocketMQ name.
std::string table_topic(std::string_view prefix, const TableRef& table);
// Debezium's heartbeat topic "__debezium-heartbeat.<prefix>", made a valid RocketMQ name.
std::string heartbeat_topic(std::string_view prefix);

// The source block: the union of the MySQL and PostgreSQL fields; each connector's source schema
// takes the ones it has.
struct SourceInfo {
  std::string connector;           // "mysql" | "postgresql"
  std::string name;                // topic.prefix
  std::int64_t ts_ms = 0;          // commit time in the database (0 in a snapshot: the read time)
  std::string snapshot = "false";  // "true", "first", "last", "false", "incremental"
  std::string db;
  std::optional<std::string> sequence;
  std::string schema;  // PostgreSQL
  std::string table;
  // MySQL
  std::int64_t server_id = 0;
  std::optional<std::string> gtid;
  std::string file;
  std::int64_t pos = 0;
  std::int32_t row = 0;
  std::optional<std::int64_t> thread;
  std::optional<std::string> query;
  // PostgreSQL
  std::optional<std::int64_t> tx_id;
  std::optional<std::int64_t> lsn;
  std::optional<std::int64_t> xmin;
};

// io.debezium.connector.mysql.Source / io.debezium.connector.postgresql.Source (shared).
const SchemaPtr& mysql_source_schema();
const SchemaPtr& postgres_source_schema();
Struct source_struct(const SchemaPtr& source_schema, const SourceInfo& info);

struct ColumnSchema {
  std::string name;
  SchemaPtr schema;  // optional when the column is nullable
};

// The schemas of one version of one table (rebuilt after a DDL), shared by all its events.
class TableSchema {
 public:
  // key_columns: the primary key (or the replica identity), in key order; empty = no key (events
  // then have a null key). message_key_columns (message.key.columns), when not empty, form the
  // record key instead; the primary key still orders incremental snapshot chunks. Throws
  // SchemaBuilderException on duplicate column names.
  TableSchema(std::string_view prefix, TableRef id, std::vector<ColumnSchema> columns,
              const std::vector<std::string>& key_columns, SchemaPtr source_schema,
              const std::vector<std::string>& message_key_columns = {});

  const TableRef& id() const { return id_; }
  const std::string& topic() const { return topic_; }
  const std::vector<ColumnSchema>& columns() const { return columns_; }
  const SchemaPtr& key_schema() const { return key_schema_; }  // nullptr: no key
  const SchemaPtr& row_schema() const { return row_schema_; }  // <prefix>.<ns>.<table>.Value
  const SchemaPtr& envelope_schema() const { return envelope_schema_; }
  const SchemaPtr& source_schema() const { return source_schema_; }
  // Column positions of the record key's fields (into columns()).
  const std::vector<int>& key_positions() const { return key_positions_; }
  // Column positions of the primary key (or replica identity) columns that are captured.
  const std::vector<int>& primary_key_positions() const { return primary_key_positions_; }

  // An empty row (every slot null) to fill by position: row.values()[i] = ...
  Struct new_row() const { return Struct(row_schema_); }
  // The key struct of a row, or a null Value when the table has no key.
  Value key_of(const Struct& row) const;

 private:
  TableRef id_;
  std::string topic_;
  std::vector<ColumnSchema> columns_;
  std::vector<int> key_positions_;
  std::vector<int> primary_key_positions_;
  SchemaPtr source_schema_;
  SchemaPtr key_schema_;
  SchemaPtr row_schema_;
  SchemaPtr envelope_schema_;
};

struct ChangeEvent {
  Op op = Op::kCreate;
  std::optional<Struct> before;  // u (when the old image is known), d
  std::optional<Struct> after;   // c, u, r
  SourceInfo source;
  std::int64_t ts_ms = 0;  // when the connector processed the event
};

// The data record of one change: topic = table.topic(), key from after (or before for a delete),
// record timestamp = source.ts_ms (the commit time) when set, else ts_ms. A partial before image
// (PostgreSQL's key-only old tuple under REPLICA IDENTITY DEFAULT, a MySQL minimal row image) has
// nulls in required columns: as Debezium does, each gets its schema default or its type's zero
// value (0, false, "", empty bytes), so the event stays valid against its schema.
ConnectRecord change_record(const TableSchema& table, ChangeEvent event, RecordPartition partition,
                            RecordOffset offset);
// Sets each null required field of row to its schema default or zero value (see change_record).
void fill_required_fields(Struct& row);
// The zero value of a schema's type (a struct: every field filled the same way).
Value zero_value(const SchemaPtr& schema);
// The tombstone after a delete (tombstones.on.delete): same topic, key and position, null value.
ConnectRecord tombstone_for(const ConnectRecord& delete_record);
// A heartbeat: key {serverName}, value {ts_ms} on heartbeat_topic(prefix).
ConnectRecord heartbeat_record(std::string_view prefix, std::int64_t ts_ms,
                               RecordPartition partition, RecordOffset offset);

// An event the reader could not decode (a corrupt row image, a value the decoder refuses): a
// placeholder in the stream, at its position, carrying the raw event bytes (BYTES value), the
// topic its table's events go to and the error (which names the binlog position or LSN). The
// task's poll() hands it to the runtime's errors.* handling (SourceTaskContext::
// error_record_reporter(): log, dead letter queue) or, under errors.tolerance=none, fails.
ConnectRecord undecodable_record(RecordPartition partition, RecordOffset offset, std::string topic,
                                 std::string_view raw, std::string error);
// The error of an undecodable_record; nullptr for any other record (a pointer comparison).
const std::string* undecodable_error(const ConnectRecord& record);

// One column of an undecodable row in its database text form (nullopt: SQL NULL).
struct RawColumn {
  std::string_view name;
  std::optional<std::string_view> text;
};
// The body of an undecodable row change: the row as text columns, as JSON,
// {"op":"u","before":{"id":"1",...}|null,"after":{...}|null} (op as in the envelope).
std::string raw_row_json(Op op, const std::vector<RawColumn>* before,
                         const std::vector<RawColumn>* after);

// What poll() returns around undecodable events: the records before one, then (at the next
// poll(), once the worker has sent those) the event reported to the runtime, then the rest. With
// no reporter (errors.tolerance=none) it throws ConnectException("<what>: <error>").
class UndecodableSplitter {
 public:
  // True when records hold an undecodable event (then take() must hand them out).
  static bool any(const std::vector<ConnectRecord>& records);
  void add(std::vector<ConnectRecord> records);
  bool empty() const { return next_ >= pending_.size(); }
  // The next records to return; reports leading undecodable events first.
  std::vector<ConnectRecord> take(ErrorRecordReporter* reporter, std::string_view what);

 private:
  std::vector<ConnectRecord> pending_;
  std::size_t next_ = 0;
};

}  // namespace rmqc::connectors::cdc
