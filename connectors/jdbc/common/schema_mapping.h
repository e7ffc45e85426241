#pragma once

// Columns <-> Connect schemas. Source: a table's columns become a STRUCT schema (built once per
// table, not per row) plus a per-column conversion for numeric.mapping. Sink: a record schema's
// fields become ColumnDefs for auto.create / auto.evolve.

#include "rmqc/api/schema.h"

#include "jdbc/common/dialect.h"

#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::jdbc {

// numeric.mapping: how DECIMAL/NUMERIC columns are represented.
//   none            always the Decimal logical type (exact)
//   precision_only  scale 0 and precision < 19: INT8/16/32/64 by precision
//   best_fit        as precision_only, and scale > 0 with precision < 19: FLOAT64
// A column of unknown precision (0) stays Decimal.
enum class NumericMapping { kNone, kPrecisionOnly, kBestFit };

// "none" | "precision_only" | "best_fit" (case-insensitive); the legacy
// numeric.precision.mapping=true means precision_only when numeric.mapping is none.
Result<NumericMapping> parse_numeric_mapping(std::string_view text, bool precision_mapping = false);

// How a value read from a column becomes the field value.
enum class ValueConversion : std::uint8_t {
  kAsIs,
  kDecimalToInt8,
  kDecimalToInt16,
  kDecimalToInt32,
  kDecimalToInt64,
  kDecimalToFloat64,
};

struct FieldMapping {
  SchemaPtr schema;
  ValueConversion conversion = ValueConversion::kAsIs;
};

// The field schema of a column: optional when nullable; Decimal with the column scale (and the
// "connect.decimal.precision" parameter when the precision is known); Date, Time, Timestamp
// logicals; JSON and UUID as STRING; arrays as ARRAY of optional elements.
FieldMapping map_column(const ColumnDef& column, NumericMapping mapping);

// The STRUCT schema (named schema_name) of a row of columns, and one conversion per column.
struct RowMapping {
  SchemaPtr schema;
  std::vector<ValueConversion> conversions;
  bool needs_conversion = false;  // false: every conversion is kAsIs
};
RowMapping map_row(std::string_view schema_name, const std::vector<ColumnDef>& columns,
                   NumericMapping mapping);

// Applies a conversion in place; an out-of-range value is an error naming the column.
Result<void> convert_value(Value& value, ValueConversion conversion);

// Sink direction: the column for a field schema (name, kind, nullable = optional, decimal
// scale/precision, array element kind); Unsupported for MAP and STRUCT.
Result<ColumnDef> column_from_schema(std::string name, const Schema& schema);
Result<ColumnKind> column_kind_of(const Schema& schema);

}  // namespace rmqc::connectors::jdbc
