#pragma once

// Text forms of SQL values and the Connect representations of dialect.h, both ways; shared by
// the dialects whose protocols carry text (PostgreSQL, MySQL) and by SQLite's stored text.

#include "rmqc/api/value.h"
#include "rmqc/base/result.h"

#include <absl/time/time.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace rmqc::connectors::jdbc {

// A db.timezone: an IANA name ("Asia/Shanghai"), "UTC"/"Z", or a fixed offset ("+08:00",
// "-0530", "UTC+8", "GMT+08:00").
class TimeZone {
 public:
  TimeZone() : zone_(absl::UTCTimeZone()), name_("UTC") {}
  static Result<TimeZone> load(std::string_view name);
  const absl::TimeZone& zone() const { return zone_; }
  const std::string& name() const { return name_; }
  bool is_utc() const { return name_ == "UTC"; }

 private:
  absl::TimeZone zone_;
  std::string name_;
};

// "2024-02-29" -> days since 1970-01-01.
Result<std::int32_t> parse_date(std::string_view text);
// "13:45:01", "13:45:01.123456" -> milliseconds since midnight (sub-millisecond digits dropped).
Result<std::int32_t> parse_time(std::string_view text);
// "2024-02-29 13:45:01[.ffffff]" (or 'T') read in zone; an explicit offset in the text
// ("+08", "+08:00", "Z") wins over zone. -> epoch milliseconds.
Result<std::int64_t> parse_timestamp(std::string_view text, const TimeZone& zone);

std::string format_date(std::int32_t days);       // "2024-02-29"
std::string format_time(std::int32_t millis);     // "13:45:01.123"
// "2024-02-29 13:45:01.123" in zone (no offset written).
std::string format_timestamp(std::int64_t epoch_millis, const TimeZone& zone);

// "-12.5" at scale 3 -> Decimal{-12500, 3}; digits beyond scale are an error (no silent
// rounding), fewer are padded.
Result<Decimal> parse_decimal(std::string_view text, std::int32_t scale);

// Integers and floats from text, with the column named in errors by the caller.
Result<std::int64_t> parse_int64(std::string_view text);
Result<double> parse_double(std::string_view text);

// Lower-case hex, as PostgreSQL's bytea output "\x0aff" (prefix not included).
std::string to_hex(const Bytes& bytes);
Result<Bytes> from_hex(std::string_view hex);

}  // namespace rmqc::connectors::jdbc
