#pragma once

// MySQL/MariaDB column types as the binlog's TABLE_MAP (with binlog_row_metadata=FULL) and
// information_schema describe them, their Debezium schemas, and their values decoded from a row
// image (binary) or from a snapshot SELECT (text protocol). One ColumnDef feeds both paths, so a
// table's snapshot and streamed events have the same schemas (docs/connectors/cdc-mysql.md).

#include "rmqc/api/schema.h"
#include "rmqc/api/value.h"
#include "rmqc/base/result.h"

#include "cdc/common/debezium_types.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::cdc::mysql {

// enum_field_types values (mysql_com.h), spelled out so this header needs no client headers.
namespace ftype {
inline constexpr std::uint8_t kDecimal = 0;
inline constexpr std::uint8_t kTiny = 1;
inline constexpr std::uint8_t kShort = 2;
inline constexpr std::uint8_t kLong = 3;
inline constexpr std::uint8_t kFloat = 4;
inline constexpr std::uint8_t kDouble = 5;
inline constexpr std::uint8_t kNull = 6;
inline constexpr std::uint8_t kTimestamp = 7;
inline constexpr std::uint8_t kLongLong = 8;
inline constexpr std::uint8_t kInt24 = 9;
inline constexpr std::uint8_t kDate = 10;
inline constexpr std::uint8_t kTime = 11;
inline constexpr std::uint8_t kDatetime = 12;
inline constexpr std::uint8_t kYear = 13;
inline constexpr std::uint8_t kNewDate = 14;
inline constexpr std::uint8_t kVarchar = 15;
inline constexpr std::uint8_t kBit = 16;
inline constexpr std::uint8_t kTimestamp2 = 17;
inline constexpr std::uint8_t kDatetime2 = 18;
inline constexpr std::uint8_t kTime2 = 19;
inline constexpr std::uint8_t kJson = 245;
inline constexpr std::uint8_t kNewDecimal = 246;
inline constexpr std::uint8_t kEnum = 247;
inline constexpr std::uint8_t kSet = 248;
inline constexpr std::uint8_t kTinyBlob = 249;
inline constexpr std::uint8_t kMediumBlob = 250;
inline constexpr std::uint8_t kLongBlob = 251;
inline constexpr std::uint8_t kBlob = 252;
inline constexpr std::uint8_t kVarString = 253;
inline constexpr std::uint8_t kString = 254;
inline constexpr std::uint8_t kGeometry = 255;
}  // namespace ftype

inline constexpr int kBinaryCollation = 63;

// One column. type is the real type (a STRING column's ENUM/SET/CHAR resolved); the binlog
// fields (meta) matter only for decoding row images.
struct ColumnDef {
  std::string name;
  std::uint8_t type = ftype::kNull;
  std::uint16_t meta = 0;  // TABLE_MAP metadata of the column (decoding only)
  bool is_unsigned = false;
  bool nullable = true;
  int collation = 0;                  // 0 = unknown (treated as utf8mb4); 63 = binary
  int precision = 0;                  // DECIMAL precision
  int scale = 0;                      // DECIMAL scale
  int fsp = 0;                        // TIME/DATETIME/TIMESTAMP fractional digits
  int bits = 0;                       // BIT(n)
  int length_bytes = 0;               // BLOB/TEXT/GEOMETRY/JSON length prefix; CHAR max bytes
  std::vector<std::string> elements;  // ENUM/SET values

  bool binary() const { return collation == kBinaryCollation; }
  bool operator==(const ColumnDef&) const = default;
};

// The Debezium schema of a column (optional when nullable).
SchemaPtr column_schema(const ColumnDef& column, const TypeModes& modes);

// Decodes one non-null value of a row image starting at data[*pos]; advances *pos.
Result<Value> decode_binary(const ColumnDef& column, const SchemaPtr& schema,
                            const TypeModes& modes, const std::uint8_t* data, std::size_t size,
                            std::size_t* pos);

// Converts one non-null text-protocol value (session time_zone '+00:00').
Result<Value> decode_text(const ColumnDef& column, const SchemaPtr& schema, const TypeModes& modes,
                          std::string_view text);

// A column from information_schema.COLUMNS: DATA_TYPE, COLUMN_TYPE, IS_NULLABLE,
// NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, COLLATION_NAME (empty = none).
Result<ColumnDef> column_from_information_schema(std::string name, std::string_view data_type,
                                                 std::string_view column_type, bool nullable,
                                                 int numeric_precision, int numeric_scale,
                                                 int datetime_precision,
                                                 std::string_view collation_name);

// The values of "enum('a','b''c')" / "set(...)".
std::vector<std::string> parse_enum_values(std::string_view column_type);

// MySQL binary JSON (the JSON column type of MySQL 5.7+) as JSON text.
Result<std::string> mysql_binary_json_to_text(std::string_view data);

// Text of a latin1 (ISO-8859-1 / cp1252 subset) string as UTF-8; other charsets pass through.
std::string to_utf8(std::string_view raw, int collation);

}  // namespace rmqc::connectors::cdc::mysql
