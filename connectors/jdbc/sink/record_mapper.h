#pragma once

// Record -> row for the JDBC sink: which table, which columns (key columns first, per pk.mode and
// pk.fields; value columns per fields.whitelist), and the statement parameters, with the value's
// fields moved (not copied) into them. restore() moves them back when a row is rejected, so the
// dead letter queue and error messages see the record as it came.

#include "rmqc/api/record.h"
#include "rmqc/api/schema.h"
#include "rmqc/base/result.h"

#include "jdbc/common/dialect.h"
#include "jdbc/sink/jdbc_sink_config.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace rmqc::connectors::jdbc {

enum class RowOp : std::uint8_t { kWrite, kDelete };

// Where a column's value comes from in the record.
struct ColumnSource {
  enum class Kind : std::uint8_t { kKey, kKeyField, kKeyMapEntry, kValueField, kValueMapEntry };
  Kind kind = Kind::kValueField;
  int index = 0;  // struct field index or map entry position
};

// The columns of a row and how to fill them. Shared by the rows of one schema (struct records);
// schemaless records get one each. Rows of one batch need the same op and column names.
struct RowShape {
  RowOp op = RowOp::kWrite;
  std::vector<ColumnDef> columns;  // key columns first
  std::size_t key_count = 0;
  std::vector<std::string> key_names;
  std::vector<ColumnSource> sources;  // one per column
  std::vector<bool> has_default;      // per column: its schema has a default (auto.evolve)
  // kind of a column whose every value so far was null in a schemaless record
  std::vector<bool> kind_unknown;

  bool same_columns(const RowShape& other) const;
};

struct MappedRow {
  std::shared_ptr<const RowShape> shape;
  std::vector<SqlParam> params;  // one per shape->columns
  // Per column: its value was moved out of the record (restore() moves it back); false for key
  // values (copied) and for defaults standing in for a null field.
  std::vector<bool> moved;
};

class RecordMapper {
 public:
  // catalog_tables: "a.b" names a catalog (database) and a table (MySQL); else a schema.
  RecordMapper(const JdbcSinkConfig& config, bool catalog_tables);

  // The table a record goes to: the "table" extension (table.name.from.header), else
  // table.name.format with ${topic} replaced.
  std::string table_name(const ConnectRecord& record) const;
  TableId table_id(const std::string& name) const;
  bool table_allowed(const std::string& name) const;

  // The row of a record; its values are moved out of record.value (restore() puts them back).
  // Returns false (and leaves row empty) for a record to skip: a tombstone while delete.enabled
  // is false. An error names what is wrong with the record (no key for pk.mode record_key, a
  // missing pk field, a value that is neither struct nor map, ...).
  Result<bool> map(ConnectRecord& record, MappedRow& row);

  static void restore(ConnectRecord& record, MappedRow& row);

 private:
  Result<std::shared_ptr<const RowShape>> shape_for(const ConnectRecord& record, RowOp op);
  Result<std::shared_ptr<RowShape>> build_shape(const ConnectRecord& record, RowOp op) const;
  Result<void> add_key_columns(const ConnectRecord& record, RowShape& shape) const;
  Result<void> add_value_columns(const ConnectRecord& record, RowShape& shape) const;

  const JdbcSinkConfig& config_;
  bool catalog_tables_;

  // Shapes of struct records by (key schema, value schema, op); the SchemaPtrs are held so an
  // address is never reused while cached.
  struct CacheEntry {
    SchemaPtr key_schema;
    SchemaPtr value_schema;
    std::shared_ptr<const RowShape> shape;
  };
  std::map<std::tuple<const Schema*, const Schema*, RowOp>, CacheEntry> shapes_;
  const CacheEntry* last_ = nullptr;
  std::tuple<const Schema*, const Schema*, RowOp> last_key_{nullptr, nullptr, RowOp::kWrite};
};

// Column kinds of Connect schemas and values.
Result<ColumnDef> column_for_schema(std::string name, const Schema& schema);
// Schemaless: the kind of a value (a null gives kString, marked unknown by the caller).
Result<ColumnKind> column_kind_of_value(const Value& value, ColumnKind* element_kind);

}  // namespace rmqc::connectors::jdbc
