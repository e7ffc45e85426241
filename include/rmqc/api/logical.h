#pragma once

#include "rmqc/api/schema.h"

#include <string_view>

namespace rmqc::logical {

// Logical type names. openconnect's are written; Kafka Connect's are accepted when read, so
// records coming from Kafka-style sources (Debezium) keep their meaning.
inline constexpr std::string_view kDecimalName =
    "io.openmessaging.connector.api.data.logical.Decimal";
inline constexpr std::string_view kDateName = "io.openmessaging.connector.api.data.logical.Date";
inline constexpr std::string_view kTimeName = "io.openmessaging.connector.api.data.logical.Time";
inline constexpr std::string_view kTimestampName =
    "io.openmessaging.connector.api.data.logical.Timestamp";
inline constexpr std::string_view kKafkaDecimalName = "org.apache.kafka.connect.data.Decimal";
inline constexpr std::string_view kKafkaDateName = "org.apache.kafka.connect.data.Date";
inline constexpr std::string_view kKafkaTimeName = "org.apache.kafka.connect.data.Time";
inline constexpr std::string_view kKafkaTimestampName = "org.apache.kafka.connect.data.Timestamp";
// The Decimal schema parameter holding the scale.
inline constexpr std::string_view kScaleParameter = "scale";

enum class LogicalType { kNone, kDecimal, kDate, kTime, kTimestamp };

// Which logical type a schema is, judged by its name and physical type.
LogicalType logical_type_of(const Schema& schema);

// The scale of a Decimal schema (its "scale" parameter), 0 if absent or malformed.
std::int32_t decimal_scale(const Schema& schema);

// Date: days since 1970-01-01 (int32). Time: milliseconds since midnight (int32).
// Timestamp: milliseconds since the epoch (int64).
constexpr std::int64_t kMillisPerDay = 86'400'000;

}  // namespace rmqc::logical
