#pragma once

// Debezium's tableChanges of a MySQL schema change event: one io.debezium.connector.schema.Change
// {type CREATE|ALTER|DROP, id "\"db\".\"table\"", table} per table a DDL statement changed, the
// table described as io.debezium.connector.schema.Table {defaultCharsetName,
// primaryKeyColumnNames, columns[io.debezium.connector.schema.Column], comment}. The connector
// describes a table from information_schema (docs/connectors/cdc-mysql.md, "Schema change
// events").

#include "rmqc/api/schema.h"
#include "rmqc/api/struct.h"
#include "rmqc/api/value.h"

#include "cdc/common/envelope.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::cdc::mysql {

// One row of information_schema.COLUMNS.
struct ColumnInfo {
  std::string name;
  std::string data_type;    // DATA_TYPE: "int", "varchar", ...
  std::string column_type;  // COLUMN_TYPE: "int(11) unsigned", "enum('a','b')", ...
  bool nullable = true;
  std::optional<std::int64_t> char_max_length;     // CHARACTER_MAXIMUM_LENGTH
  std::optional<std::int64_t> numeric_precision;   // NUMERIC_PRECISION
  std::optional<std::int64_t> numeric_scale;       // NUMERIC_SCALE
  std::optional<std::int64_t> datetime_precision;  // DATETIME_PRECISION
  std::optional<std::string> charset;              // CHARACTER_SET_NAME
  std::string extra;                               // EXTRA: "auto_increment", "VIRTUAL GENERATED"
  std::int32_t position = 0;                       // ORDINAL_POSITION (1-based)
  std::optional<std::string> default_value;        // COLUMN_DEFAULT
  std::string comment;                             // COLUMN_COMMENT
};

struct TableInfo {
  std::vector<ColumnInfo> columns;
  std::vector<std::string> primary_key;  // in key order
  std::optional<std::string> charset;    // from TABLE_COLLATION
  std::string comment;                   // TABLE_COMMENT
};

// java.sql.Types of a MySQL type, as Debezium's MySQL DDL parser assigns them (INT 4, VARCHAR 12,
// DATETIME 93, TIMESTAMP 2014, JSON 1111, ...).
std::int32_t jdbc_type(std::string_view data_type, std::string_view column_type);

const SchemaPtr& table_change_schema();  // io.debezium.connector.schema.Change
const SchemaPtr& table_schema_struct();  // io.debezium.connector.schema.Table (optional)

// The table's description (io.debezium.connector.schema.Table).
Struct describe_table(const TableInfo& table);
// One change: type "CREATE" | "ALTER" | "DROP"; table null when unknown (a dropped table never
// described before).
Struct table_change(std::string_view type, const TableRef& id, std::optional<Struct> table);

}  // namespace rmqc::connectors::cdc::mysql
