#pragma once

// PostgreSQL's text forms of the values of dialect.h, both ways: results are read in text
// format, parameters and COPY rows are written in text format (bytea parameters in binary).

#include "jdbc/common/dialect.h"
#include "jdbc/common/values.h"

#include <string>
#include <string_view>

namespace rmqc::connectors::jdbc::postgres {

// Type oids of the built-in types (pg_type.dat; fixed across releases).
namespace oid {
inline constexpr unsigned kBool = 16;
inline constexpr unsigned kBytea = 17;
inline constexpr unsigned kChar = 18;
inline constexpr unsigned kName = 19;
inline constexpr unsigned kInt8 = 20;
inline constexpr unsigned kInt2 = 21;
inline constexpr unsigned kInt4 = 23;
inline constexpr unsigned kText = 25;
inline constexpr unsigned kOid = 26;
inline constexpr unsigned kJson = 114;
inline constexpr unsigned kFloat4 = 700;
inline constexpr unsigned kFloat8 = 701;
inline constexpr unsigned kBpchar = 1042;
inline constexpr unsigned kVarchar = 1043;
inline constexpr unsigned kDate = 1082;
inline constexpr unsigned kTime = 1083;
inline constexpr unsigned kTimestamp = 1114;
inline constexpr unsigned kTimestamptz = 1184;
inline constexpr unsigned kNumeric = 1700;
inline constexpr unsigned kUuid = 2950;
inline constexpr unsigned kJsonb = 3802;
}  // namespace oid

// Reads the text form of one value of column (any kind, arrays included) into out, reusing
// out's string storage when it already holds a string. tz reads zone-less timestamps.
Result<void> decode_text(const ColumnDef& column, std::string_view text, const TimeZone& tz,
                         Value& out);

// Appends the text form of value as a kind (PostgreSQL input syntax, unescaped). Timestamps are
// written in tz with their offset, so a TIMESTAMPTZ gets the instant and a TIMESTAMP (which
// ignores the offset) the wall time in tz. For kArray the elements are written as element_kind
// when given, else as their Value kinds say. The value must not be null.
Result<void> encode_text(ColumnKind kind, const Value& value, const TimeZone& tz, std::string& out,
                         const ColumnKind* element_kind = nullptr);

// Appends text to a COPY text-format row, escaping backslash, tab, newline and carriage return.
void append_copy_escaped(std::string_view text, std::string& out);

// The oid a parameter of kind is sent with (0 = let the server infer it from the statement).
unsigned param_type_oid(ColumnKind kind);

}  // namespace rmqc::connectors::jdbc::postgres
