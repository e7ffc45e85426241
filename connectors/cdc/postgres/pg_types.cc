#include "cdc/postgres/pg_types.h"

#include "rmqc/api/logical.h"
#include "rmqc/api/struct.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace rmqc::connectors::cdc::postgres {
namespace {

Error bad(std::string_view what, std::string_view text) {
  return Error(ErrorCode::kParseError,
               "not a PostgreSQL " + std::string(what) + ": '" + std::string(text) + "'");
}

template <class T>
bool parse_int(std::string_view s, T& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Reads exactly n digits at pos.
bool digits(std::string_view s, std::size_t& pos, int n, int& out) {
  if (pos + static_cast<std::size_t>(n) > s.size()) return false;
  out = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  return true;
}

// "HH:MM:SS[.ffffff]" from pos; micros since midnight.
bool time_part(std::string_view s, std::size_t& pos, std::int64_t& micros) {
  int h = 0, m = 0, sec = 0;
  if (!digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' || !digits(s, pos, 2, m) ||
      pos >= s.size() || s[pos++] != ':' || !digits(s, pos, 2, sec)) {
    return false;
  }
  std::int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 6) {
        frac = frac * 10 + (s[pos] - '0');
        ++n;
      }
      ++pos;
    }
    if (n == 0) return false;
    for (; n < 6; ++n) frac *= 10;
  }
  micros = ((static_cast<std::int64_t>(h) * 60 + m) * 60 + sec) * 1'000'000 + frac;
  return true;
}

// "YYYY-MM-DD" (year may have more than 4 digits) from pos; days since epoch.
bool date_part(std::string_view s, std::size_t& pos, std::int64_t& days) {
  std::size_t start = pos;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  if (pos - start < 4) return false;
  int year = 0;
  if (!parse_int(s.substr(start, pos - start), year)) return false;
  int month = 0, day = 0;
  if (pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, month) || pos >= s.size() ||
      s[pos++] != '-' || !digits(s, pos, 2, day)) {
    return false;
  }
  days = days_from_civil(year, month, day);
  return true;
}

// "+HH[:MM[:SS]]" or "-..." from pos; seconds east of UTC.
bool offset_part(std::string_view s, std::size_t& pos, std::int64_t& seconds) {
  if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-')) return false;
  const int sign = s[pos++] == '-' ? -1 : 1;
  int h = 0, m = 0, sec = 0;
  if (!digits(s, pos, 2, h)) return false;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!digits(s, pos, 2, m)) return false;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!digits(s, pos, 2, sec)) return false;
    }
  }
  seconds = sign * (static_cast<std::int64_t>(h) * 3600 + m * 60 + sec);
  return true;
}

std::string format_time_of_day(std::int64_t micros) {
  micros %= 86'400'000'000LL;
  if (micros < 0) micros += 86'400'000'000LL;
  const std::int64_t secs = micros / 1'000'000;
  std::int64_t frac = micros % 1'000'000;
  char buf[32];
  int n =
      std::snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                    static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  std::string out(buf, static_cast<std::size_t>(n));
  if (frac != 0) {
    char f[8];
    std::snprintf(f, sizeof(f), "%06lld", static_cast<long long>(frac));
    std::string fs(f);
    while (!fs.empty() && fs.back() == '0') fs.pop_back();
    out += "." + fs;
  }
  return out;
}

constexpr std::int64_t kInfinityMicros = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinusInfinityMicros = std::numeric_limits<std::int64_t>::min();

SchemaPtr finish(SchemaBuilder b, bool optional) {
  if (optional) b.optional();
  return b.build();
}

}  // namespace

Result<std::int32_t> parse_pg_date(std::string_view text) {
  if (text == "infinity") return std::numeric_limits<std::int32_t>::max();
  if (text == "-infinity") return std::numeric_limits<std::int32_t>::min();
  std::size_t pos = 0;
  std::int64_t days = 0;
  if (!date_part(text, pos, days) || pos != text.size()) return bad("date", text);
  return static_cast<std::int32_t>(days);
}

Result<std::int64_t> parse_pg_time(std::string_view text) {
  std::size_t pos = 0;
  std::int64_t micros = 0;
  if (!time_part(text, pos, micros) || pos != text.size()) return bad("time", text);
  return micros;
}

Result<std::int64_t> parse_pg_timestamp(std::string_view text) {
  if (text == "infinity") return kInfinityMicros;
  if (text == "-infinity") return kMinusInfinityMicros;
  std::size_t pos = 0;
  std::int64_t days = 0, micros = 0;
  if (!date_part(text, pos, days) || pos >= text.size() || text[pos++] != ' ' ||
      !time_part(text, pos, micros) || pos != text.size()) {
    return bad("timestamp", text);
  }
  return days * 86'400'000'000LL + micros;
}

Result<std::int64_t> parse_pg_timestamptz(std::string_view text) {
  if (text == "infinity") return kInfinityMicros;
  if (text == "-infinity") return kMinusInfinityMicros;
  std::size_t pos = 0;
  std::int64_t days = 0, micros = 0, offset = 0;
  if (!date_part(text, pos, days) || pos >= text.size() || text[pos++] != ' ' ||
      !time_part(text, pos, micros) || !offset_part(text, pos, offset) || pos != text.size()) {
    return bad("timestamptz", text);
  }
  return days * 86'400'000'000LL + micros - offset * 1'000'000;
}

Result<std::string> parse_pg_timetz(std::string_view text) {
  std::size_t pos = 0;
  std::int64_t micros = 0, offset = 0;
  if (!time_part(text, pos, micros) || !offset_part(text, pos, offset) || pos != text.size()) {
    return bad("timetz", text);
  }
  return format_time_of_day(micros - offset * 1'000'000) + "Z";
}

Result<std::int64_t> parse_pg_interval(std::string_view text) {
  // IntervalStyle iso_8601: P[nY][nM][nD][T[nH][nM][n.nS]], each part signed.
  if (text.size() < 2 || text[0] != 'P') return bad("interval", text);
  constexpr double kDaysPerMonth = 365.25 / 12;
  double micros = 0;
  bool in_time = false;
  std::size_t pos = 1;
  while (pos < text.size()) {
    if (text[pos] == 'T') {
      in_time = true;
      ++pos;
      continue;
    }
    const std::size_t start = pos;
    if (text[pos] == '-' || text[pos] == '+') ++pos;
    while (pos < text.size() && ((text[pos] >= '0' && text[pos] <= '9') || text[pos] == '.')) {
      ++pos;
    }
    if (pos == start || pos >= text.size()) return bad("interval", text);
    double n = 0;
    std::string_view num = text.substr(start, pos - start);
    if (!num.empty() && num.front() == '+') num.remove_prefix(1);
    const auto r = std::from_chars(num.data(), num.data() + num.size(), n);
    if (r.ec != std::errc() || r.ptr != num.data() + num.size()) return bad("interval", text);
    const char unit = text[pos++];
    constexpr double kDay = 86'400'000'000.0;
    switch (unit) {
      case 'Y':
        micros += n * 12 * kDaysPerMonth * kDay;
        break;
      case 'M':
        micros += in_time ? n * 60'000'000.0 : n * kDaysPerMonth * kDay;
        break;
      case 'W':
        micros += n * 7 * kDay;
        break;
      case 'D':
        micros += n * kDay;
        break;
      case 'H':
        micros += n * 3'600'000'000.0;
        break;
      case 'S':
        micros += n * 1'000'000.0;
        break;
      default:
        return bad("interval", text);
    }
  }
  return static_cast<std::int64_t>(std::llround(micros));
}

Result<Bytes> parse_pg_bytea(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
    return bad("bytea (hex output)", text.substr(0, 64));
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  out.reserve((text.size() - 2) / 2);
  for (std::size_t i = 2; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return bad("bytea (hex output)", text.substr(0, 64));
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return out;
}

bool is_builtin_scalar(std::uint32_t t) {
  switch (t) {
    case oid::kBool:
    case oid::kBytea:
    case oid::kChar:
    case oid::kName:
    case oid::kInt8:
    case oid::kInt2:
    case oid::kInt4:
    case oid::kText:
    case oid::kOid:
    case oid::kJson:
    case oid::kXml:
    case oid::kFloat4:
    case oid::kFloat8:
    case oid::kMoney:
    case oid::kBpchar:
    case oid::kVarchar:
    case oid::kDate:
    case oid::kTime:
    case oid::kTimestamp:
    case oid::kTimestampTz:
    case oid::kInterval:
    case oid::kTimeTz:
    case oid::kBit:
    case oid::kVarbit:
    case oid::kNumeric:
    case oid::kUuid:
    case oid::kJsonb:
    case oid::kInet:
    case oid::kCidr:
    case oid::kMacaddr:
      return true;
    default:
      return false;
  }
}

Result<ColumnConverter> ColumnConverter::make(const PgTypeInfo& info, std::int32_t typmod,
                                              bool optional, const TypeModes& modes) {
  if (info.typtype == 'd' && info.base) {
    return make(*info.base, typmod >= 0 ? typmod : info.base_typmod, optional, modes);
  }
  ColumnConverter c;
  c.modes_ = modes;
  if (info.category == 'A' && info.element) {
    auto element = make(*info.element, -1, /*optional=*/true, modes);
    if (!element.ok()) return std::move(element).error();
    c.kind_ = Kind::kArray;
    c.element_ = std::make_shared<const ColumnConverter>(std::move(element).value());
    c.schema_ = finish(SchemaBuilder::array(c.element_->schema()), optional);
    return c;
  }
  if (info.typtype == 'e') {
    c.kind_ = Kind::kString;
    c.schema_ = finish(types::enum_(info.enum_labels), optional);
    return c;
  }
  const bool connect = modes.time == TimePrecisionMode::kConnect;
  const int precision = typmod < 0 ? 6 : typmod;
  switch (info.oid) {
    case oid::kBool:
      c.kind_ = Kind::kBool;
      c.schema_ = finish(SchemaBuilder::bool_(), optional);
      break;
    case oid::kInt2:
      c.kind_ = Kind::kInt16;
      c.schema_ = finish(SchemaBuilder::int16(), optional);
      break;
    case oid::kInt4:
      c.kind_ = Kind::kInt32;
      c.schema_ = finish(SchemaBuilder::int32(), optional);
      break;
    case oid::kInt8:
    case oid::kOid:
      c.kind_ = Kind::kInt64;
      c.schema_ = finish(SchemaBuilder::int64(), optional);
      break;
    case oid::kFloat4:
      c.kind_ = Kind::kFloat32;
      c.schema_ = finish(SchemaBuilder::float32(), optional);
      break;
    case oid::kFloat8:
      c.kind_ = Kind::kFloat64;
      c.schema_ = finish(SchemaBuilder::float64(), optional);
      break;
    case oid::kNumeric: {
      int p = 0, s = -1;
      if (typmod >= 4) {
        p = ((typmod - 4) >> 16) & 0xffff;
        const int raw = (typmod - 4) & 0x7ff;
        s = raw > 1000 ? -1 : raw;  // negative scales (PG 15) are read as variable
      }
      c.kind_ = Kind::kDecimal;
      c.scale_ = s;
      c.schema_ = finish(decimal_schema(p, s, modes.decimal), optional);
      break;
    }
    case oid::kMoney:
      c.kind_ = Kind::kMoney;
      c.scale_ = 2;
      c.schema_ = finish(decimal_schema(0, 2, modes.decimal), optional);
      break;
    case oid::kBytea:
      c.kind_ = Kind::kBytes;
      c.schema_ = finish(binary_schema(modes.binary), optional);
      break;
    case oid::kDate:
      c.kind_ = Kind::kDate;
      c.schema_ = finish(
          connect ? SchemaBuilder::int32().name(std::string(logical::kKafkaDateName)).version(1)
                  : types::date(),
          optional);
      break;
    case oid::kTime:
      if (connect) {
        c.kind_ = Kind::kTimeMillis;
        c.schema_ = finish(
            SchemaBuilder::int32().name(std::string(logical::kKafkaTimeName)).version(1), optional);
      } else if (modes.time == TimePrecisionMode::kAdaptive && precision <= 3) {
        c.kind_ = Kind::kTimeMillis;
        c.schema_ = finish(types::time_millis(), optional);
      } else {
        c.kind_ = Kind::kTimeMicros;
        c.schema_ = finish(types::micro_time(), optional);
      }
      break;
    case oid::kTimeTz:
      c.kind_ = Kind::kTimeTz;
      c.schema_ = finish(types::zoned_time(), optional);
      break;
    case oid::kTimestamp:
      if (connect) {
        c.kind_ = Kind::kTimestampMillis;
        c.schema_ = finish(
            SchemaBuilder::int64().name(std::string(logical::kKafkaTimestampName)).version(1),
            optional);
      } else if (precision <= 3) {
        c.kind_ = Kind::kTimestampMillis;
        c.schema_ = finish(types::timestamp_millis(), optional);
      } else {
        c.kind_ = Kind::kTimestampMicros;
        c.schema_ = finish(types::micro_timestamp(), optional);
      }
      break;
    case oid::kTimestampTz:
      c.kind_ = Kind::kTimestampTz;
      c.schema_ = finish(types::zoned_timestamp(), optional);
      break;
    case oid::kInterval:
      c.kind_ = Kind::kInterval;
      c.schema_ = finish(types::micro_duration(), optional);
      break;
    case oid::kUuid:
      c.kind_ = Kind::kString;
      c.schema_ = finish(types::uuid(), optional);
      break;
    case oid::kJson:
    case oid::kJsonb:
      c.kind_ = Kind::kString;
      c.schema_ = finish(types::json(), optional);
      break;
    case oid::kXml:
      c.kind_ = Kind::kString;
      c.schema_ =
          finish(SchemaBuilder::string().name(std::string(types::kXml)).version(1), optional);
      break;
    case oid::kBit:
    case oid::kVarbit:
      if (info.oid == oid::kBit && typmod == 1) {
        c.kind_ = Kind::kBit;
        c.schema_ = finish(SchemaBuilder::bool_(), optional);
      } else {
        c.kind_ = Kind::kBits;
        c.bit_length_ = typmod < 0 ? 0 : typmod;
        c.schema_ = finish(types::bits(c.bit_length_), optional);
      }
      break;
    default:  // text, varchar, char, name, inet, cidr, macaddr, and every other type: its text
      c.kind_ = Kind::kString;
      c.schema_ = finish(SchemaBuilder::string(), optional);
      break;
  }
  return c;
}

Result<Value> ColumnConverter::convert(std::string_view text) const {
  switch (kind_) {
    case Kind::kBool:
      if (text == "t") return Value(true);
      if (text == "f") return Value(false);
      return bad("boolean", text);
    case Kind::kBit:
      if (text == "1") return Value(true);
      if (text == "0") return Value(false);
      return bad("bit", text);
    case Kind::kInt16: {
      std::int16_t v = 0;
      if (!parse_int(text, v)) return bad("smallint", text);
      return Value(v);
    }
    case Kind::kInt32: {
      std::int32_t v = 0;
      if (!parse_int(text, v)) return bad("integer", text);
      return Value(v);
    }
    case Kind::kInt64: {
      std::int64_t v = 0;
      if (!parse_int(text, v)) return bad("bigint", text);
      return Value(v);
    }
    case Kind::kFloat32:
    case Kind::kFloat64: {
      double v = 0;
      const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size()) {
        if (r.ec != std::errc::result_out_of_range) return bad("float", text);
      }
      if (kind_ == Kind::kFloat32) return Value(static_cast<float>(v));
      return Value(v);
    }
    case Kind::kDecimal:
      if (modes_.decimal == DecimalMode::kPrecise &&
          (text == "NaN" || text == "Infinity" || text == "-Infinity")) {
        return Value();  // no Decimal for them: null, as Debezium (double/string keep them)
      }
      return decimal_value(text, scale_, modes_.decimal, schema_);
    case Kind::kMoney: {
      std::string clean;
      for (char ch : text) {
        if ((ch >= '0' && ch <= '9') || ch == '-' || ch == '.') clean.push_back(ch);
      }
      return decimal_value(clean, scale_, modes_.decimal, schema_);
    }
    case Kind::kString:
      return Value(std::string(text));
    case Kind::kBytes: {
      auto raw = parse_pg_bytea(text);
      if (!raw.ok()) return std::move(raw).error();
      const Bytes& b = *raw;
      return binary_value(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()),
                          modes_.binary);
    }
    case Kind::kDate: {
      auto d = parse_pg_date(text);
      if (!d.ok()) return std::move(d).error();
      return Value(*d);
    }
    case Kind::kTimeMillis:
    case Kind::kTimeMicros: {
      auto t = parse_pg_time(text);
      if (!t.ok()) return std::move(t).error();
      if (kind_ == Kind::kTimeMillis) return Value(static_cast<std::int32_t>(*t / 1000));
      return Value(*t);
    }
    case Kind::kTimeTz: {
      auto t = parse_pg_timetz(text);
      if (!t.ok()) return std::move(t).error();
      return Value(std::move(t).value());
    }
    case Kind::kTimestampMillis:
    case Kind::kTimestampMicros: {
      auto t = parse_pg_timestamp(text);
      if (!t.ok()) return std::move(t).error();
      std::int64_t v = *t;
      if (kind_ == Kind::kTimestampMillis && v != kInfinityMicros && v != kMinusInfinityMicros) {
        v = v >= 0 ? v / 1000 : -((-v + 999) / 1000);
      }
      return Value(v);
    }
    case Kind::kTimestampTz: {
      if (text == "infinity" || text == "-infinity") return Value(std::string(text));
      auto t = parse_pg_timestamptz(text);
      if (!t.ok()) return std::move(t).error();
      return Value(zoned_timestamp_utc(*t));
    }
    case Kind::kInterval: {
      auto d = parse_pg_interval(text);
      if (!d.ok()) return std::move(d).error();
      return Value(*d);
    }
    case Kind::kBits: {
      // Debezium's Bits: the bit string as a number, little-endian bytes.
      const std::size_t n = text.size();
      Bytes out((n + 7) / 8, 0);
      for (std::size_t i = 0; i < n; ++i) {
        const char ch = text[n - 1 - i];
        if (ch != '0' && ch != '1') return bad("bit string", text);
        if (ch == '1') out[i / 8] = static_cast<std::uint8_t>(out[i / 8] | (1U << (i % 8)));
      }
      return Value(std::move(out));
    }
    case Kind::kArray: {
      // One-dimensional array text: {a,"b c",NULL}.
      if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
        return bad("array (one dimension)", text);
      }
      ValueList items;
      std::size_t pos = 1;
      const std::size_t end = text.size() - 1;
      if (pos == end) return Value(std::move(items));
      std::string item;
      while (pos <= end) {
        item.clear();
        bool quoted = false;
        if (text[pos] == '{') return bad("array (one dimension)", text);
        if (text[pos] == '"') {
          quoted = true;
          ++pos;
          while (pos < end && text[pos] != '"') {
            if (text[pos] == '\\' && pos + 1 < end) ++pos;
            item.push_back(text[pos++]);
          }
          if (pos >= end) return bad("array", text);
          ++pos;  // closing quote
        } else {
          while (pos < end && text[pos] != ',') item.push_back(text[pos++]);
        }
        if (!quoted && item == "NULL") {
          items.emplace_back(nullptr);
        } else {
          auto v = element_->convert(item);
          if (!v.ok()) return std::move(v).error();
          items.push_back(std::move(v).value());
        }
        if (pos == end) break;
        if (text[pos] != ',') return bad("array", text);
        ++pos;
      }
      return Value(std::move(items));
    }
  }
  return bad("value", text);
}

}  // namespace rmqc::connectors::cdc::postgres
