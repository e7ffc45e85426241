#include "cdc/common/debezium_types.h"

#include "rmqc/api/struct.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace rmqc::connectors::cdc {

namespace types {
namespace {
SchemaBuilder named(FieldType type, std::string_view name) {
  SchemaBuilder b(type);
  b.name(std::string(name)).version(1);
  return b;
}
}  // namespace

SchemaBuilder date() {
  return named(FieldType::kInt32, kDate);
}
SchemaBuilder time_millis() {
  return named(FieldType::kInt32, kTime);
}
SchemaBuilder micro_time() {
  return named(FieldType::kInt64, kMicroTime);
}
SchemaBuilder timestamp_millis() {
  return named(FieldType::kInt64, kTimestamp);
}
SchemaBuilder micro_timestamp() {
  return named(FieldType::kInt64, kMicroTimestamp);
}
SchemaBuilder zoned_timestamp() {
  return named(FieldType::kString, kZonedTimestamp);
}
SchemaBuilder zoned_time() {
  return named(FieldType::kString, kZonedTime);
}
SchemaBuilder year() {
  return named(FieldType::kInt32, kYear);
}
SchemaBuilder micro_duration() {
  return named(FieldType::kInt64, kMicroDuration);
}
SchemaBuilder json() {
  return named(FieldType::kString, kJson);
}
SchemaBuilder uuid() {
  return named(FieldType::kString, kUuid);
}
SchemaBuilder enum_(std::string allowed) {
  auto b = named(FieldType::kString, kEnum);
  b.parameter("allowed", std::move(allowed));
  return b;
}
SchemaBuilder enum_set(std::string allowed) {
  auto b = named(FieldType::kString, kEnumSet);
  b.parameter("allowed", std::move(allowed));
  return b;
}
SchemaBuilder bits(int length) {
  auto b = named(FieldType::kBytes, kBits);
  b.parameter("length", std::to_string(length));
  return b;
}
SchemaBuilder kafka_decimal(int precision, int scale) {
  SchemaBuilder b(FieldType::kBytes);
  b.name(std::string(kKafkaDecimal)).version(1).parameter("scale", std::to_string(scale));
  if (precision > 0) b.parameter(std::string(kPrecisionParameter), std::to_string(precision));
  return b;
}
SchemaBuilder variable_scale_decimal() {
  auto b = named(FieldType::kStruct, kVariableScaleDecimal);
  b.doc("Variable scaled decimal")
      .field("scale", SchemaBuilder::int32().build())
      .field("value", SchemaBuilder::bytes().build());
  return b;
}
}  // namespace types

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
Error bad_mode(std::string_view key, std::string_view text, std::string_view allowed) {
  return Error(ErrorCode::kInvalidConfig, std::string(key) + ": '" + std::string(text) +
                                              "' is not one of " + std::string(allowed));
}
}  // namespace

Result<DecimalMode> parse_decimal_mode(std::string_view text) {
  const auto t = lower(text);
  if (t == "precise") return DecimalMode::kPrecise;
  if (t == "double") return DecimalMode::kDouble;
  if (t == "string") return DecimalMode::kString;
  return bad_mode("decimal.handling.mode", text, "precise, double, string");
}

Result<TimePrecisionMode> parse_time_precision_mode(std::string_view text) {
  const auto t = lower(text);
  if (t == "adaptive") return TimePrecisionMode::kAdaptive;
  if (t == "adaptive_time_microseconds") return TimePrecisionMode::kAdaptiveTimeMicroseconds;
  if (t == "connect") return TimePrecisionMode::kConnect;
  return bad_mode("time.precision.mode", text, "adaptive, adaptive_time_microseconds, connect");
}

Result<BinaryMode> parse_binary_mode(std::string_view text) {
  const auto t = lower(text);
  if (t == "bytes") return BinaryMode::kBytes;
  if (t == "base64") return BinaryMode::kBase64;
  if (t == "base64-url-safe") return BinaryMode::kBase64UrlSafe;
  if (t == "hex") return BinaryMode::kHex;
  return bad_mode("binary.handling.mode", text, "bytes, base64, base64-url-safe, hex");
}

SchemaBuilder decimal_schema(int precision, int scale, DecimalMode mode) {
  switch (mode) {
    case DecimalMode::kDouble:
      return SchemaBuilder::float64();
    case DecimalMode::kString:
      return SchemaBuilder::string();
    case DecimalMode::kPrecise:
      break;
  }
  if (scale < 0) return types::variable_scale_decimal();
  return types::kafka_decimal(precision, scale);
}

Result<Value> decimal_value(std::string_view text, int scale, DecimalMode mode,
                            const SchemaPtr& schema) {
  Decimal parsed;
  if (!Decimal::parse(text, parsed)) {
    // NaN and infinities exist in PostgreSQL's numeric; only double and string can carry them.
    if (mode == DecimalMode::kString) return Value(std::string(text));
    if (mode == DecimalMode::kDouble) {
      const auto t = lower(text);
      if (t == "nan") return Value(std::numeric_limits<double>::quiet_NaN());
      if (t == "infinity") return Value(std::numeric_limits<double>::infinity());
      if (t == "-infinity") return Value(-std::numeric_limits<double>::infinity());
    }
    return Error(ErrorCode::kParseError, "not a decimal number: '" + std::string(text) + "'");
  }
  switch (mode) {
    case DecimalMode::kString:
      return Value(std::string(text));
    case DecimalMode::kDouble:
      return Value(std::strtod(std::string(text).c_str(), nullptr));
    case DecimalMode::kPrecise:
      break;
  }
  if (scale < 0) {  // VariableScaleDecimal {scale, value}
    Struct s(schema);
    s.put("scale", parsed.scale).put("value", parsed.unscaled);
    return Value(std::move(s));
  }
  if (parsed.scale != scale) {
    // The column's scale is the schema's: pad "1.5" to "1.50", drop only trailing zeros.
    std::string padded(text);
    if (padded.find_first_of("eE") == std::string::npos) {
      if (parsed.scale < scale) {
        if (padded.find('.') == std::string::npos) padded += '.';
        padded.append(static_cast<std::size_t>(scale - parsed.scale), '0');
      } else {
        for (auto extra = parsed.scale - scale; extra > 0 && padded.back() == '0'; --extra) {
          padded.pop_back();
        }
        if (padded.back() == '.') padded.pop_back();
      }
    }
    if (!Decimal::parse(padded, parsed) || parsed.scale != scale) {
      return Error(ErrorCode::kSchemaMismatch, "decimal '" + std::string(text) +
                                                   "' does not fit scale " + std::to_string(scale));
    }
  }
  return Value(std::move(parsed));
}

SchemaBuilder binary_schema(BinaryMode mode) {
  return mode == BinaryMode::kBytes ? SchemaBuilder::bytes() : SchemaBuilder::string();
}

namespace {
std::string base64(std::string_view raw, bool url_safe) {
  static constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* alphabet = url_safe ? kUrl : kStd;
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < raw.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(raw[i]) << 16) |
                       (static_cast<unsigned char>(raw[i + 1]) << 8) |
                       static_cast<unsigned char>(raw[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < raw.size()) {
    unsigned v = static_cast<unsigned char>(raw[i]) << 16;
    if (i + 1 < raw.size()) v |= static_cast<unsigned char>(raw[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < raw.size() ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}
}  // namespace

Value binary_value(std::string_view raw, BinaryMode mode) {
  switch (mode) {
    case BinaryMode::kBytes:
      return Value(Bytes(raw.begin(), raw.end()));
    case BinaryMode::kBase64:
      return Value(base64(raw, false));
    case BinaryMode::kBase64UrlSafe:
      return Value(base64(raw, true));
    case BinaryMode::kHex: {
      static constexpr char kDigits[] = "0123456789abcdef";
      std::string out;
      out.reserve(raw.size() * 2);
      for (unsigned char c : raw) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
      }
      return Value(std::move(out));
    }
  }
  return Value(Bytes(raw.begin(), raw.end()));
}

std::int64_t days_from_civil(int year, int month, int day) {
  // Howard Hinnant's days_from_civil algorithm (public domain description of the calendar math).
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(month + (month > 2 ? -3 : 9)) + 2) / 5 +
                       static_cast<unsigned>(day) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

namespace {
void civil_from_days(std::int64_t z, int& year, unsigned& month, unsigned& day) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0));
}
}  // namespace

std::string zoned_timestamp_utc(std::int64_t epoch_micros) {
  constexpr std::int64_t kMicrosPerDay = 86'400'000'000;
  std::int64_t days = epoch_micros / kMicrosPerDay;
  std::int64_t rem = epoch_micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  civil_from_days(days, year, month, day);
  const auto secs = rem / 1'000'000;
  auto frac = static_cast<int>(rem % 1'000'000);
  if (year < 0 || year > 9999) {  // rare: printf's forms of out-of-range years
    char buf[48];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", year, month, day,
                          static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                          static_cast<int>(secs % 60));
    std::string out(buf, static_cast<std::size_t>(n));
    if (frac != 0) {
      int digits = 6;
      while (frac % 10 == 0) {
        frac /= 10;
        --digits;
      }
      n = std::snprintf(buf, sizeof buf, ".%0*d", digits, frac);
      out.append(buf, static_cast<std::size_t>(n));
    }
    out += 'Z';
    return out;
  }
  // yyyy-MM-ddTHH:mm:ss[.f{1,6}]Z written digit by digit (one per value of every row: no
  // printf).
  char buf[32];
  char* p = buf;
  auto put = [&p](unsigned v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
  };
  put(static_cast<unsigned>(year), 4);
  *p++ = '-';
  put(month, 2);
  *p++ = '-';
  put(day, 2);
  *p++ = 'T';
  put(static_cast<unsigned>(secs / 3600), 2);
  *p++ = ':';
  put(static_cast<unsigned>(secs / 60 % 60), 2);
  *p++ = ':';
  put(static_cast<unsigned>(secs % 60), 2);
  if (frac != 0) {
    int digits = 6;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    *p++ = '.';
    put(static_cast<unsigned>(frac), digits);
  }
  *p++ = 'Z';
  return std::string(buf, static_cast<std::size_t>(p - buf));
}

}  // namespace rmqc::connectors::cdc
