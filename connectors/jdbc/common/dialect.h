#pragma once

// The seam between the JDBC connectors and a database: a Dialect knows how to connect, how to
// spell SQL for its database, and how its column types map to Connect types; a Connection runs
// statements and streams rows. The connectors (source/, sink/) use only this header, so a new
// database is one folder implementing it (sqlite/, mysql/, postgres/).

#include "rmqc/api/value.h"
#include "rmqc/base/result.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmqc::connectors::jdbc {

// What a column holds, as the connectors see it. Values in a row use these representations:
//   kBoolean bool; kInt8..kInt64 the matching int; kFloat32 float; kFloat64 double;
//   kDecimal Decimal rescaled to the column's scale; kString, kJson, kUuid std::string;
//   kBytes Bytes; kDate int32 days since 1970-01-01; kTime int32 milliseconds since midnight;
//   kTimestamp int64 epoch milliseconds (a zone-less column read in the connection's time zone);
//   kArray ValueList of element_kind values; NULL is Value{} for every kind.
enum class ColumnKind : std::uint8_t {
  kBoolean,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFloat32,
  kFloat64,
  kDecimal,
  kString,
  kBytes,
  kDate,
  kTime,
  kTimestamp,
  kJson,
  kUuid,
  kArray,
};

std::string_view column_kind_name(ColumnKind kind);

struct ColumnDef {
  std::string name;
  ColumnKind kind = ColumnKind::kString;
  bool nullable = true;
  // DECIMAL precision/scale; string/bytes length (0 = unbounded); fractional-second digits.
  int precision = 0;
  int scale = 0;
  bool primary_key = false;
  bool auto_increment = false;
  // kTimestamp: true when the database stores an instant (TIMESTAMPTZ, MySQL TIMESTAMP).
  bool with_time_zone = false;
  ColumnKind element_kind = ColumnKind::kString;  // kArray only
  std::string native_type;                        // what the database calls it, for messages
};

// catalog.schema.table; empty parts are absent (MySQL has catalog = database, no schema;
// PostgreSQL has schema; SQLite has neither).
struct TableId {
  std::string catalog;
  std::string schema;
  std::string table;
  // "db.table", "schema.table" or "table": how users write it in table.whitelist.
  std::string to_string() const;
  bool operator==(const TableId&) const = default;
  bool operator<(const TableId& o) const;
};

// A row source. next() fills row (resized to columns().size()) and returns false at the end.
class RowCursor {
 public:
  virtual ~RowCursor() = default;
  virtual const std::vector<ColumnDef>& columns() const = 0;
  virtual Result<bool> next(std::vector<Value>& row) = 0;
};

// A typed statement parameter: the kind says how to send value (a kTimestamp is an int64 of
// epoch milliseconds, a kDecimal a Decimal, ...). A null value is SQL NULL.
struct SqlParam {
  SqlParam() = default;
  SqlParam(ColumnKind k, Value v, std::optional<ColumnKind> element = std::nullopt)
      : kind(k), value(std::move(v)), element_kind(element) {}

  ColumnKind kind = ColumnKind::kString;
  Value value;
  // kArray only: how to send the elements (a list of int64 may be timestamps); nullopt = as the
  // element values' own kinds.
  std::optional<ColumnKind> element_kind;
};

struct TableFilter {
  std::string catalog_pattern;           // SQL LIKE pattern; empty = any
  std::string schema_pattern;            // SQL LIKE pattern; empty = any
  std::vector<std::string> table_types;  // "TABLE", "VIEW"; empty = TABLE
};

// One session with the database. Not thread-safe, except cancel(). Errors carry the retriable
// flag: a lost connection, a deadlock, a serialization failure or a timeout are retriable; a
// constraint violation, a bad value, a missing table or bad credentials are not. After a
// retriable error the caller drops the connection and opens a new one.
class Connection {
 public:
  virtual ~Connection() = default;

  // Streams the rows of a query; params bind to the dialect's placeholders in order.
  virtual Result<std::unique_ptr<RowCursor>> query(const std::string& sql,
                                                   const std::vector<SqlParam>& params) = 0;
  // Runs a statement; returns the number of rows it changed.
  virtual Result<std::int64_t> execute(const std::string& sql,
                                       const std::vector<SqlParam>& params = {}) = 0;

  virtual Result<void> begin() = 0;
  virtual Result<void> commit() = 0;
  virtual Result<void> rollback() = 0;

  virtual Result<std::vector<TableId>> list_tables(const TableFilter& filter) = 0;
  // The table's columns in order with primary_key set; NotFound when the table does not exist.
  virtual Result<std::vector<ColumnDef>> describe_table(const TableId& table) = 0;

  // Bulk insert of whole rows (PostgreSQL COPY); Unsupported when the dialect has none, and the
  // caller then uses multi-row INSERT statements.
  virtual Result<std::int64_t> bulk_insert(const TableId& table,
                                           const std::vector<ColumnDef>& columns,
                                           const std::vector<std::vector<SqlParam>>& rows) {
    (void)table;
    (void)columns;
    (void)rows;
    return Error(ErrorCode::kUnsupported, "bulk insert is not supported by this dialect");
  }

  // Thread-safe: makes a statement running on another thread return (with a kCancelled error)
  // soon; used when a task is stopped while it waits on the database.
  virtual void cancel() = 0;
};

// What connect() needs, parsed from connection.url and the connection.* keys.
struct ConnectionConfig {
  std::string url;  // as the user wrote it, for messages (without the password)
  std::string host;
  int port = 0;
  std::string database;  // MySQL: optional default database; PostgreSQL: required; SQLite: path
  std::string user;
  std::string password;
  std::vector<std::pair<std::string, std::string>> properties;  // ?key=value of the URL
  // IANA name or fixed offset ("UTC", "Asia/Shanghai", "+08:00"): how zone-less date-times are
  // read and written (db.timezone).
  std::string time_zone = "UTC";
};

enum class InsertMode { kInsert, kUpsert, kUpdate };

class Dialect {
 public:
  virtual ~Dialect() = default;

  // "MySqlDatabaseDialect", "PostgreSqlDatabaseDialect", "SqliteDatabaseDialect" (dialect.name)
  virtual std::string_view name() const = 0;
  // URL schemes after "jdbc:" this dialect serves: "mysql", "mariadb", "postgresql", "sqlite".
  virtual std::vector<std::string_view> url_schemes() const = 0;

  virtual Result<std::unique_ptr<Connection>> connect(const ConnectionConfig& config) const = 0;

  // Identifier quoting ("`x`" or "\"x\""), and a table's full name, quoted or not.
  virtual std::string quote_identifier(std::string_view identifier) const = 0;
  std::string table_name(const TableId& table, bool quote) const;
  // The n-th (0-based) statement placeholder: "?" or "$1".
  virtual std::string placeholder(int index) const = 0;

  // INSERT / upsert of rows_count rows of columns (multi-row VALUES); UPDATE ... SET non-keys
  // WHERE keys; DELETE ... WHERE keys. Placeholders number columns row by row. The default
  // upsert is "ON CONFLICT (keys) DO UPDATE" (PostgreSQL, SQLite); MySQL overrides it.
  virtual std::string insert_sql(const TableId& table, const std::vector<ColumnDef>& columns,
                                 const std::vector<std::string>& key_columns, InsertMode mode,
                                 int rows_count, bool quote) const;
  virtual std::string update_sql(const TableId& table, const std::vector<ColumnDef>& columns,
                                 const std::vector<std::string>& key_columns, bool quote) const;
  virtual std::string delete_sql(const TableId& table, const std::vector<ColumnDef>& key_columns,
                                 bool quote) const;

  // DDL for auto.create / auto.evolve.
  virtual std::string sql_type(const ColumnDef& column) const = 0;
  virtual std::string create_table_sql(const TableId& table, const std::vector<ColumnDef>& columns,
                                       const std::vector<std::string>& key_columns,
                                       bool quote) const;
  virtual std::vector<std::string> add_columns_sql(const TableId& table,
                                                   const std::vector<ColumnDef>& columns,
                                                   bool quote) const;

  // A query returning the database's current time as one kTimestamp column (timestamp mode's
  // upper bound, so clocks of worker and database need not agree).
  virtual std::string current_timestamp_sql() const = 0;
  // The largest number of placeholders one statement may have.
  virtual int max_parameters() const { return 32767; }

  // An expression over a timestamp column (given as SQL) that compares and sorts exactly like a
  // bound kTimestamp parameter at millisecond precision: what the source's timestamp modes put
  // in WHERE and ORDER BY. SQLite normalizes its text forms; a dialect whose columns keep more
  // than milliseconds truncates them, so a row read back is never "later" than its own offset.
  virtual std::string timestamp_compare_expression(const std::string& column_sql) const {
    return column_sql;
  }

 protected:
  // Pieces the dialects' insert_sql() share: "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)" with
  // this dialect's placeholders numbered row by row, and the SQL-standard-ish upsert tail
  // " ON CONFLICT (k) DO UPDATE SET a = EXCLUDED.a" (DO NOTHING when every column is a key) that
  // PostgreSQL and SQLite both speak.
  std::string multi_row_insert_sql(const TableId& table, const std::vector<ColumnDef>& columns,
                                   int rows_count, bool quote) const;
  std::string on_conflict_sql(const std::vector<ColumnDef>& columns,
                              const std::vector<std::string>& key_columns, bool quote) const;
};

}  // namespace rmqc::connectors::jdbc
