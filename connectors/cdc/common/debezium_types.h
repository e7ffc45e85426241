#pragma once

// Debezium's semantic types (io.debezium.time.*, io.debezium.data.*) and the three handling modes
// that choose how decimals, temporal values and binary columns are represented, so that
// JsonConverter output matches what Debezium users already parse (docs/connectors/cdc.md).

#include "rmqc/api/key_value.h"
#include "rmqc/api/schema.h"
#include "rmqc/api/value.h"
#include "rmqc/base/result.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace rmqc::connectors::cdc {

namespace types {
inline constexpr std::string_view kDate = "io.debezium.time.Date";            // int32 days
inline constexpr std::string_view kTime = "io.debezium.time.Time";            // int32 ms
inline constexpr std::string_view kMicroTime = "io.debezium.time.MicroTime";  // int64 us
inline constexpr std::string_view kTimestamp = "io.debezium.time.Timestamp";  // int64 ms
inline constexpr std::string_view kMicroTimestamp = "io.debezium.time.MicroTimestamp";  // int64
inline constexpr std::string_view kZonedTimestamp = "io.debezium.time.ZonedTimestamp";  // string
inline constexpr std::string_view kZonedTime = "io.debezium.time.ZonedTime";            // string
inline constexpr std::string_view kYear = "io.debezium.time.Year";                      // int32
inline constexpr std::string_view kMicroDuration = "io.debezium.time.MicroDuration";    // int64
inline constexpr std::string_view kJson = "io.debezium.data.Json";                      // string
inline constexpr std::string_view kXml = "io.debezium.data.Xml";                        // string
inline constexpr std::string_view kUuid = "io.debezium.data.Uuid";                      // string
inline constexpr std::string_view kEnum = "io.debezium.data.Enum";        // string, "allowed"
inline constexpr std::string_view kEnumSet = "io.debezium.data.EnumSet";  // string, "allowed"
inline constexpr std::string_view kBits = "io.debezium.data.Bits";        // bytes, "length"
inline constexpr std::string_view kVariableScaleDecimal = "io.debezium.data.VariableScaleDecimal";
// Kafka Connect's Decimal, as Debezium writes it: bytes with "scale" and
// "connect.decimal.precision" parameters.
inline constexpr std::string_view kKafkaDecimal = "org.apache.kafka.connect.data.Decimal";
inline constexpr std::string_view kPrecisionParameter = "connect.decimal.precision";

SchemaBuilder date();
SchemaBuilder time_millis();
SchemaBuilder micro_time();
SchemaBuilder timestamp_millis();
SchemaBuilder micro_timestamp();
SchemaBuilder zoned_timestamp();
SchemaBuilder zoned_time();
SchemaBuilder year();
SchemaBuilder micro_duration();
SchemaBuilder json();
SchemaBuilder uuid();
// allowed: the comma-joined value list of the ENUM/SET column.
SchemaBuilder enum_(std::string allowed);
SchemaBuilder enum_set(std::string allowed);
SchemaBuilder bits(int length);
// precision 0 = unknown (not written).
SchemaBuilder kafka_decimal(int precision, int scale);
// {scale: int32, value: bytes}: decimals whose column has no fixed scale (PostgreSQL NUMERIC).
SchemaBuilder variable_scale_decimal();
}  // namespace types

// decimal.handling.mode
enum class DecimalMode { kPrecise, kDouble, kString };
// time.precision.mode: adaptive keeps the column's precision (Time/MicroTime,
// Timestamp/MicroTimestamp); adaptive_time_microseconds is the same with TIME always MicroTime
// (MySQL's default); connect uses Kafka Connect's Date/Time/Timestamp (milliseconds).
enum class TimePrecisionMode { kAdaptive, kAdaptiveTimeMicroseconds, kConnect };
// binary.handling.mode
enum class BinaryMode { kBytes, kBase64, kBase64UrlSafe, kHex };

struct TypeModes {
  DecimalMode decimal = DecimalMode::kPrecise;
  TimePrecisionMode time = TimePrecisionMode::kAdaptiveTimeMicroseconds;
  BinaryMode binary = BinaryMode::kBytes;
};

Result<DecimalMode> parse_decimal_mode(std::string_view text);
Result<TimePrecisionMode> parse_time_precision_mode(std::string_view text);
Result<BinaryMode> parse_binary_mode(std::string_view text);

// Decimal columns. precision/scale from the column type; scale < 0 = variable scale (the
// VariableScaleDecimal struct under kPrecise).
SchemaBuilder decimal_schema(int precision, int scale, DecimalMode mode);
// text: the database's decimal text ("-12.340"). Errors on malformed text.
Result<Value> decimal_value(std::string_view text, int scale, DecimalMode mode,
                            const SchemaPtr& schema);

// Binary columns (BLOB, VARBINARY, bytea).
SchemaBuilder binary_schema(BinaryMode mode);
Value binary_value(std::string_view raw, BinaryMode mode);

// Temporal values. Days since 1970-01-01 for a civil date (proleptic Gregorian).
std::int64_t days_from_civil(int year, int month, int day);
// "2024-01-02T03:04:05.123456Z": ISO-8601 UTC, the fraction trimmed of trailing zeros and
// omitted when zero, as Debezium's ZonedTimestamp.
std::string zoned_timestamp_utc(std::int64_t epoch_micros);

}  // namespace rmqc::connectors::cdc
