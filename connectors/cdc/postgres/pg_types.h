#pragma once

// PostgreSQL column types as Debezium represents them: the column schema (Debezium's semantic
// type names under the decimal/time/binary handling modes) and the conversion of pgoutput's
// (and a snapshot SELECT's) text values into it. Type OIDs come from relation messages and
// pg_attribute; types that are not built in (enums, arrays, domains) are described by a
// PgTypeInfo the caller reads from pg_type.

#include "rmqc/api/schema.h"
#include "rmqc/api/value.h"
#include "rmqc/base/result.h"

#include "cdc/common/debezium_types.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace rmqc::connectors::cdc::postgres {

// Built-in type OIDs (pg_type.h).
namespace oid {
inline constexpr std::uint32_t kBool = 16, kBytea = 17, kChar = 18, kName = 19, kInt8 = 20,
                               kInt2 = 21, kInt4 = 23, kText = 25, kOid = 26, kJson = 114,
                               kXml = 142, kFloat4 = 700, kFloat8 = 701, kMoney = 790,
                               kBpchar = 1042, kVarchar = 1043, kDate = 1082, kTime = 1083,
                               kTimestamp = 1114, kTimestampTz = 1184, kInterval = 1186,
                               kTimeTz = 1266, kBit = 1560, kVarbit = 1562, kNumeric = 1700,
                               kUuid = 2950, kJsonb = 3802, kInet = 869, kCidr = 650,
                               kMacaddr = 829;
}  // namespace oid

// What pg_type says about a type: typtype ('b' base, 'e' enum, 'd' domain, ...), typcategory
// ('A' array), the element of an array, the base of a domain.
struct PgTypeInfo {
  std::uint32_t oid = 0;
  char typtype = 'b';
  char category = 'U';
  std::string enum_labels;                    // comma-joined, enums only
  std::shared_ptr<const PgTypeInfo> element;  // arrays
  std::shared_ptr<const PgTypeInfo> base;     // domains
  std::int32_t base_typmod = -1;              // the domain's typmod of its base type
};

// True when a type needs no pg_type lookup (a built-in scalar handled here).
bool is_builtin_scalar(std::uint32_t type_oid);

// One column's schema and text conversion, built once per relation version.
class ColumnConverter {
 public:
  // info: for a built-in scalar, {oid} suffices.
  static Result<ColumnConverter> make(const PgTypeInfo& info, std::int32_t typmod, bool optional,
                                      const TypeModes& modes);

  const SchemaPtr& schema() const { return schema_; }
  // The value of the column's text form (never called for SQL NULL).
  Result<Value> convert(std::string_view text) const;

 private:
  enum class Kind {
    kBool,
    kInt16,
    kInt32,
    kInt64,
    kFloat32,
    kFloat64,
    kDecimal,
    kMoney,
    kString,
    kBytes,
    kDate,
    kTimeMillis,
    kTimeMicros,
    kTimeTz,
    kTimestampMillis,
    kTimestampMicros,
    kTimestampTz,
    kInterval,
    kBit,
    kBits,
    kArray,
  };
  Kind kind_ = Kind::kString;
  int scale_ = 0;
  int bit_length_ = 0;
  TypeModes modes_;
  SchemaPtr schema_;
  std::shared_ptr<const ColumnConverter> element_;
};

// Parsers of PostgreSQL's ISO text forms (DateStyle ISO, TimeZone UTC, IntervalStyle
// iso_8601), exposed for tests.
Result<std::int32_t> parse_pg_date(std::string_view text);         // days since epoch
Result<std::int64_t> parse_pg_time(std::string_view text);         // micros since midnight
Result<std::int64_t> parse_pg_timestamp(std::string_view text);    // micros since epoch
Result<std::int64_t> parse_pg_timestamptz(std::string_view text);  // micros since epoch (UTC)
Result<std::string> parse_pg_timetz(std::string_view text);        // "HH:MM:SS[.f]Z" (UTC)
Result<std::int64_t> parse_pg_interval(std::string_view text);     // MicroDuration micros
Result<Bytes> parse_pg_bytea(std::string_view text);               // "\x0a0b"

}  // namespace rmqc::connectors::cdc::postgres
