#include "cdc/mysql/mysql_columns.h"

#include "rmqc/api/logical.h"
#include "rmqc/api/struct.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace rmqc::connectors::cdc::mysql {
namespace {

constexpr std::string_view kGeometryName = "io.debezium.data.geometry.Geometry";

Error parse_error(std::string message) {
  return Error(ErrorCode::kParseError, std::move(message));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i];
  }
  return out;
}

bool is_text_type(std::uint8_t t) {
  return t == ftype::kVarchar || t == ftype::kVarString || t == ftype::kString ||
         t == ftype::kBlob || t == ftype::kTinyBlob || t == ftype::kMediumBlob ||
         t == ftype::kLongBlob;
}

SchemaBuilder base_schema(const ColumnDef& c, const TypeModes& modes) {
  const bool connect = modes.time == TimePrecisionMode::kConnect;
  switch (c.type) {
    case ftype::kTiny:
      return SchemaBuilder::int16();
    case ftype::kShort:
      return c.is_unsigned ? SchemaBuilder::int32() : SchemaBuilder::int16();
    case ftype::kInt24:
      return SchemaBuilder::int32();
    case ftype::kLong:
      return c.is_unsigned ? SchemaBuilder::int64() : SchemaBuilder::int32();
    case ftype::kLongLong:
      return SchemaBuilder::int64();
    case ftype::kFloat:
      return SchemaBuilder::float32();
    case ftype::kDouble:
      return SchemaBuilder::float64();
    case ftype::kDecimal:
    case ftype::kNewDecimal:
      return decimal_schema(c.precision, c.scale, modes.decimal);
    case ftype::kYear:
      return types::year();
    case ftype::kDate:
    case ftype::kNewDate:
      if (connect) {
        return SchemaBuilder::int32().name(std::string(logical::kKafkaDateName)).version(1);
      }
      return types::date();
    case ftype::kTime:
    case ftype::kTime2:
      if (connect) {
        return SchemaBuilder::int32().name(std::string(logical::kKafkaTimeName)).version(1);
      }
      if (modes.time == TimePrecisionMode::kAdaptive && c.fsp <= 3) return types::time_millis();
      return types::micro_time();
    case ftype::kDatetime:
    case ftype::kDatetime2:
      if (connect) {
        return SchemaBuilder::int64().name(std::string(logical::kKafkaTimestampName)).version(1);
      }
      return c.fsp <= 3 ? types::timestamp_millis() : types::micro_timestamp();
    case ftype::kTimestamp:
    case ftype::kTimestamp2:
      return types::zoned_timestamp();
    case ftype::kBit:
      return c.bits == 1 ? SchemaBuilder::bool_() : types::bits(c.bits);
    case ftype::kEnum:
      return types::enum_(join(c.elements));
    case ftype::kSet:
      return types::enum_set(join(c.elements));
    case ftype::kJson:
      return types::json();
    case ftype::kGeometry:
      return SchemaBuilder::struct_()
          .name(std::string(kGeometryName))
          .version(1)
          .field("wkb", SchemaBuilder::bytes().build())
          .field("srid", SchemaBuilder::int32().optional().build());
    default:
      break;
  }
  if (is_text_type(c.type)) {
    return c.binary() ? binary_schema(modes.binary) : SchemaBuilder::string();
  }
  return SchemaBuilder::string();
}

// ---- little helpers over a bounded buffer ----

struct Cursor {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t* pos;
  bool has(std::size_t n) const { return *pos + n <= size; }
  const std::uint8_t* take(std::size_t n) {
    const std::uint8_t* p = data + *pos;
    *pos += n;
    return p;
  }
};

std::uint64_t le(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint64_t be(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}
std::int64_t sign_extend(std::uint64_t v, int bytes) {
  const int shift = 64 - bytes * 8;
  return static_cast<std::int64_t>(v << shift) >> shift;
}

constexpr std::array<int, 10> kDigBytes = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

std::size_t decimal_binary_size(int precision, int scale) {
  const int intg = precision - scale;
  return static_cast<std::size_t>((intg / 9) * 4 + kDigBytes[intg % 9] + (scale / 9) * 4 +
                                  kDigBytes[scale % 9]);
}

// MySQL's binary DECIMAL (decimal2bin) to "-123.4500".
std::string decimal_text(const std::uint8_t* src, int precision, int scale) {
  const int intg = precision - scale;
  const int intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
  const std::size_t size = decimal_binary_size(precision, scale);
  std::vector<std::uint8_t> buf(src, src + size);
  const bool negative = size > 0 && (buf[0] & 0x80) == 0;
  if (size > 0) buf[0] ^= 0x80;
  if (negative) {
    for (auto& b : buf) b = static_cast<std::uint8_t>(~b);
  }
  std::size_t at = 0;
  auto group = [&](int bytes) {
    const std::uint64_t v = be(buf.data() + at, bytes);
    at += static_cast<std::size_t>(bytes);
    return v;
  };
  auto pad = [](std::uint64_t v, int digits) {
    std::string s = std::to_string(v);
    if (static_cast<int>(s.size()) < digits)
      s.insert(0, static_cast<std::size_t>(digits) - s.size(), '0');
    return s;
  };
  std::string ip;
  if (intg0x > 0) ip += std::to_string(group(kDigBytes[intg0x]));
  for (int i = 0; i < intg0; ++i) ip += pad(group(4), 9);
  std::size_t nz = ip.find_first_not_of('0');
  ip = nz == std::string::npos ? "0" : ip.substr(nz);
  std::string fp;
  for (int i = 0; i < frac0; ++i) fp += pad(group(4), 9);
  if (frac0x > 0) fp += pad(group(kDigBytes[frac0x]), frac0x);
  std::string out = negative ? "-" : "";
  out += ip;
  if (!fp.empty()) out += "." + fp;
  return out;
}

// The same for precision <= 18: the unscaled value.
std::int64_t decimal_unscaled(const std::uint8_t* src, int precision, int scale) {
  const int intg = precision - scale;
  const int intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
  std::uint8_t buf[16];
  const std::size_t size = decimal_binary_size(precision, scale);
  std::memcpy(buf, src, size);
  const bool negative = (buf[0] & 0x80) == 0;
  buf[0] ^= 0x80;
  if (negative) {
    for (std::size_t i = 0; i < size; ++i) buf[i] = static_cast<std::uint8_t>(~buf[i]);
  }
  std::size_t at = 0;
  std::int64_t v = 0;
  auto group = [&](int bytes, std::int64_t factor) {
    v = v * factor + static_cast<std::int64_t>(be(buf + at, bytes));
    at += static_cast<std::size_t>(bytes);
  };
  constexpr std::int64_t kPow10[] = {1,      10,      100,      1000,      10000,
                                     100000, 1000000, 10000000, 100000000, 1000000000};
  if (intg0x > 0) group(kDigBytes[intg0x], kPow10[intg0x]);
  for (int i = 0; i < intg0; ++i) group(4, kPow10[9]);
  for (int i = 0; i < frac0; ++i) group(4, kPow10[9]);
  if (frac0x > 0) group(kDigBytes[frac0x], kPow10[frac0x]);
  return negative ? -v : v;
}

// Fraction bytes of TIME2/DATETIME2/TIMESTAMP2 as microseconds (big-endian, fsp-dependent).
std::int64_t fraction_micros(const std::uint8_t* p, int fsp) {
  switch (fsp) {
    case 1:
    case 2:
      return static_cast<std::int64_t>(p[0]) * 10000;
    case 3:
    case 4:
      return static_cast<std::int64_t>(be(p, 2)) * 100;
    case 5:
    case 6:
      return static_cast<std::int64_t>(be(p, 3));
    default:
      return 0;
  }
}
int fraction_bytes(int fsp) {
  return (fsp + 1) / 2;
}

struct CivilTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::int64_t micros = 0;
};

std::int64_t epoch_micros(const CivilTime& t) {
  const std::int64_t days = days_from_civil(t.year, t.month, t.day);
  return ((days * 86400 + t.hour * 3600 + t.minute * 60 + t.second) * 1000000) + t.micros;
}

// A datetime's packed integer part (DATETIME2 / JSON's packed datetime >> 24).
CivilTime civil_from_packed(std::int64_t intpart, std::int64_t micros) {
  CivilTime t;
  const std::int64_t ymd = intpart >> 17;
  const std::int64_t ym = ymd >> 5;
  const std::int64_t hms = intpart % (1 << 17);
  t.day = static_cast<int>(ymd % 32);
  t.month = static_cast<int>(ym % 13);
  t.year = static_cast<int>(ym / 13);
  t.second = static_cast<int>(hms % 64);
  t.minute = static_cast<int>((hms >> 6) % 64);
  t.hour = static_cast<int>(hms >> 12);
  t.micros = micros;
  return t;
}

// A time's packed value (TIME2 int part << 24 | fraction) to signed microseconds.
std::int64_t time_micros_from_packed(std::int64_t packed) {
  const bool negative = packed < 0;
  if (negative) packed = -packed;
  const std::int64_t intpart = packed >> 24;
  const std::int64_t frac = packed % (1 << 24);
  const std::int64_t hour = (intpart >> 12) % (1 << 10);
  const std::int64_t minute = (intpart >> 6) % (1 << 6);
  const std::int64_t second = intpart % (1 << 6);
  const std::int64_t v = (hour * 3600 + minute * 60 + second) * 1000000 + frac;
  return negative ? -v : v;
}

Value time_value(const ColumnDef& c, const TypeModes& modes, std::int64_t micros) {
  if (modes.time == TimePrecisionMode::kConnect ||
      (modes.time == TimePrecisionMode::kAdaptive && c.fsp <= 3)) {
    return Value(static_cast<std::int32_t>(micros / 1000));
  }
  return Value(micros);
}

// MySQL's DATETIME range; anything else in a row image is corrupt data (and would overflow the
// epoch arithmetic).
bool plausible(const CivilTime& t) {
  return t.year >= 0 && t.year <= 9999 && t.month >= 0 && t.month <= 12 && t.day >= 0 &&
         t.day <= 31 && t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59 &&
         t.second >= 0 && t.second <= 59 && t.micros >= 0 && t.micros < 1000000;
}

Result<Value> datetime_value(const ColumnDef& c, const TypeModes& modes, const CivilTime& t) {
  if (!plausible(t)) {
    return parse_error("column '" + c.name + "': not a valid DATETIME (year " +
                       std::to_string(t.year) + ", month " + std::to_string(t.month) + ")");
  }
  if (t.year == 0 && t.month == 0 && t.day == 0) {
    // A zero datetime: Debezium writes null (or the epoch when the column cannot be null).
    if (c.nullable) return Value();
  }
  const std::int64_t us = (t.month == 0 || t.day == 0) ? 0 : epoch_micros(t);
  if (modes.time == TimePrecisionMode::kConnect || c.fsp <= 3) {
    return Value(static_cast<std::int64_t>(us / 1000));
  }
  return Value(us);
}

Value date_value(const ColumnDef& c, int year, int month, int day) {
  if (month == 0 || day == 0) {
    if (c.nullable) return Value();
    return Value(std::int32_t{0});
  }
  return Value(static_cast<std::int32_t>(days_from_civil(year, month, day)));
}

Value timestamp_value(std::int64_t epoch_us) {
  return Value(zoned_timestamp_utc(epoch_us));
}

Value bits_value(const ColumnDef& c, const std::uint8_t* p, std::size_t n) {
  if (c.bits == 1) {
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) any = any || p[i] != 0;
    return Value(any);
  }
  // Debezium's Bits: little-endian bytes.
  Bytes out(p, p + n);
  std::reverse(out.begin(), out.end());
  return Value(std::move(out));
}

Value set_value(const ColumnDef& c, std::uint64_t mask) {
  std::string out;
  for (std::size_t i = 0; i < c.elements.size() && i < 64; ++i) {
    if ((mask >> i) & 1) {
      if (!out.empty()) out += ',';
      out += c.elements[i];
    }
  }
  return Value(std::move(out));
}

Result<Value> geometry_value(const SchemaPtr& schema, const std::uint8_t* p, std::size_t n) {
  if (n < 4) return parse_error("geometry value shorter than its SRID");
  Struct s(schema);
  s.values()[0] = Value(Bytes(p + 4, p + n));
  s.values()[1] = Value(static_cast<std::int32_t>(le(p, 4)));
  return Value(std::move(s));
}

Value string_value(const ColumnDef& c, const TypeModes& modes, std::string_view raw) {
  if (c.binary()) return binary_value(raw, modes.binary);
  return Value(to_utf8(raw, c.collation));
}

// ---- MySQL binary JSON ----

void json_escape(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (ch < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", ch);
          out += buf;
        } else {
          out += static_cast<char>(ch);
        }
    }
  }
  out += '"';
}

bool read_varlen(std::string_view d, std::size_t* pos, std::uint64_t* out) {
  std::uint64_t v = 0;
  for (int i = 0; i < 5; ++i) {
    if (*pos >= d.size()) return false;
    const auto b = static_cast<unsigned char>(d[(*pos)++]);
    v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

std::string two(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

std::string format_fraction(std::int64_t micros) {
  if (micros == 0) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(micros));
  return buf;
}

bool json_value(std::string_view d, std::uint8_t type, std::size_t offset, int depth,
                std::string& out);

bool json_container(std::string_view d, std::size_t start, bool large, bool object, int depth,
                    std::string& out) {
  if (depth > 100) return false;
  const std::size_t w = large ? 4 : 2;
  auto rd = [&](std::size_t at, std::size_t n, std::uint64_t* v) {
    if (at + n > d.size()) return false;
    *v = le(reinterpret_cast<const std::uint8_t*>(d.data()) + at, static_cast<int>(n));
    return true;
  };
  std::uint64_t count = 0, size = 0;
  if (!rd(start, w, &count) || !rd(start + w, w, &size)) return false;
  if (start + size > d.size()) return false;
  const std::size_t header = 2 * w;
  const std::size_t key_entry = w + 2;
  const std::size_t value_entry = 1 + w;
  const std::size_t values_at = start + header + (object ? count * key_entry : 0);
  // MySQL's own text form: ", " between items, ": " after keys.
  out += object ? '{' : '[';
  for (std::uint64_t i = 0; i < count; ++i) {
    if (i > 0) out += ", ";
    if (object) {
      std::uint64_t key_off = 0, key_len = 0;
      const std::size_t ke = start + header + i * key_entry;
      if (!rd(ke, w, &key_off) || !rd(ke + w, 2, &key_len)) return false;
      if (start + key_off + key_len > d.size()) return false;
      json_escape(out, d.substr(start + key_off, key_len));
      out += ": ";
    }
    const std::size_t ve = values_at + i * value_entry;
    if (ve + value_entry > d.size()) return false;
    const auto t = static_cast<std::uint8_t>(d[ve]);
    const bool inlined = t == 0x04 || t == 0x05 || t == 0x06 || (large && (t == 0x07 || t == 0x08));
    if (inlined) {
      if (!json_value(d, t, ve + 1, depth + 1, out)) return false;
    } else {
      std::uint64_t off = 0;
      if (!rd(ve + 1, w, &off)) return false;
      if (!json_value(d, t, start + off, depth + 1, out)) return false;
    }
  }
  out += object ? '}' : ']';
  return true;
}

bool json_value(std::string_view d, std::uint8_t type, std::size_t at, int depth,
                std::string& out) {
  const auto* u = reinterpret_cast<const std::uint8_t*>(d.data());
  auto need = [&](std::size_t n) { return at + n <= d.size(); };
  switch (type) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
      return json_container(d, at, type == 0x01 || type == 0x03, type <= 0x01, depth, out);
    case 0x04:
      if (!need(1)) return false;
      out += u[at] == 0 ? "null" : u[at] == 1 ? "true" : "false";
      return true;
    case 0x05:
      if (!need(2)) return false;
      out += std::to_string(sign_extend(le(u + at, 2), 2));
      return true;
    case 0x06:
      if (!need(2)) return false;
      out += std::to_string(le(u + at, 2));
      return true;
    case 0x07:
      if (!need(4)) return false;
      out += std::to_string(sign_extend(le(u + at, 4), 4));
      return true;
    case 0x08:
      if (!need(4)) return false;
      out += std::to_string(le(u + at, 4));
      return true;
    case 0x09:
      if (!need(8)) return false;
      out += std::to_string(static_cast<std::int64_t>(le(u + at, 8)));
      return true;
    case 0x0a:
      if (!need(8)) return false;
      out += std::to_string(le(u + at, 8));
      return true;
    case 0x0b: {
      if (!need(8)) return false;
      const std::uint64_t bitsv = le(u + at, 8);
      double v = 0;
      std::memcpy(&v, &bitsv, sizeof v);
      char buf[40];
      const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
      out.append(buf, r.ptr);
      return true;
    }
    case 0x0c: {
      std::size_t pos = at;
      std::uint64_t len = 0;
      if (!read_varlen(d, &pos, &len) || pos + len > d.size()) return false;
      json_escape(out, d.substr(pos, len));
      return true;
    }
    case 0x0f: {
      if (!need(1)) return false;
      const std::uint8_t field_type = u[at];
      std::size_t pos = at + 1;
      std::uint64_t len = 0;
      if (!read_varlen(d, &pos, &len) || pos + len > d.size()) return false;
      const std::uint8_t* p = u + pos;
      if (field_type == ftype::kNewDecimal && len >= 2) {
        const int precision = p[0], scale = p[1];
        if (scale > precision || decimal_binary_size(precision, scale) + 2 > len) return false;
        out += decimal_text(p + 2, precision, scale);
        return true;
      }
      if ((field_type == ftype::kDate || field_type == ftype::kDatetime ||
           field_type == ftype::kTimestamp || field_type == ftype::kTime) &&
          len >= 8) {
        const auto packed = static_cast<std::int64_t>(le(p, 8));
        if (field_type == ftype::kTime) {
          std::int64_t us = time_micros_from_packed(packed);
          const bool neg = us < 0;
          if (neg) us = -us;
          const std::int64_t s = us / 1000000;
          out += "\"" + std::string(neg ? "-" : "") + two(static_cast<int>(s / 3600)) + ":" +
                 two(static_cast<int>((s / 60) % 60)) + ":" + two(static_cast<int>(s % 60)) +
                 format_fraction(us % 1000000) + "\"";
          return true;
        }
        const CivilTime t = civil_from_packed(packed >> 24, packed % (1 << 24));
        char buf[40];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", t.year, t.month, t.day);
        std::string s = buf;
        if (field_type != ftype::kDate) {
          s += " " + two(t.hour) + ":" + two(t.minute) + ":" + two(t.second) +
               format_fraction(t.micros);
        }
        out += "\"" + s + "\"";
        return true;
      }
      // Other opaque values: MySQL's own text form "base64:typeNN:...".
      static constexpr char kB64[] =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      std::string b = "base64:type" + std::to_string(field_type) + ":";
      for (std::size_t i = 0; i < len; i += 3) {
        const std::uint32_t n = (static_cast<std::uint32_t>(p[i]) << 16) |
                                (i + 1 < len ? static_cast<std::uint32_t>(p[i + 1]) << 8 : 0) |
                                (i + 2 < len ? p[i + 2] : 0);
        b += kB64[(n >> 18) & 63];
        b += kB64[(n >> 12) & 63];
        b += i + 1 < len ? kB64[(n >> 6) & 63] : '=';
        b += i + 2 < len ? kB64[n & 63] : '=';
      }
      json_escape(out, b);
      return true;
    }
    default:
      return false;
  }
}

bool is_latin1(int collation) {
  switch (collation) {
    case 5:
    case 8:
    case 15:
    case 31:
    case 47:
    case 48:
    case 49:
    case 94:
      return true;
    default:
      return false;
  }
}

template <typename T>
bool parse_number(std::string_view text, T* out) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), *out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

// A DECIMAL(p <= 18, s) as the server writes it, "[-]digits[.<s digits>]" with exactly the
// column's scale, as its unscaled int64; false for any other text (then the general parser
// decides).
bool decimal_text_unscaled(std::string_view text, const ColumnDef& c, std::int64_t* out) {
  if (c.precision <= 0 || c.precision > 18 || c.scale < 0 || c.scale > c.precision) return false;
  std::size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) i = 1;
  std::int64_t v = 0;
  int digits = 0;
  int fraction = -1;  // digits after the point; -1 before it
  for (; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch >= '0' && ch <= '9') {
      if (++digits > 18) return false;
      v = v * 10 + (ch - '0');
      if (fraction >= 0) ++fraction;
    } else if (ch == '.' && fraction < 0 && digits > 0) {
      fraction = 0;
    } else {
      return false;
    }
  }
  if (digits == 0 || (fraction < 0 ? 0 : fraction) != c.scale || (c.scale > 0 && fraction <= 0)) {
    return false;
  }
  if (negative && v == 0) return false;  // "-0.00": the general parser's sign handling
  *out = negative ? -v : v;
  return true;
}

// "HH:MM:SS[.ffffff]" with optional sign and more hour digits.
bool parse_time_text(std::string_view s, std::int64_t* micros) {
  bool neg = false;
  if (!s.empty() && s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  const auto c1 = s.find(':');
  const auto c2 = c1 == std::string_view::npos ? c1 : s.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return false;
  std::int64_t h = 0, m = 0, sec = 0, frac = 0;
  std::string_view secs = s.substr(c2 + 1);
  std::string_view fr;
  if (auto dot = secs.find('.'); dot != std::string_view::npos) {
    fr = secs.substr(dot + 1);
    secs = secs.substr(0, dot);
  }
  if (!parse_number(s.substr(0, c1), &h) || !parse_number(s.substr(c1 + 1, c2 - c1 - 1), &m) ||
      !parse_number(secs, &sec)) {
    return false;
  }
  if (!fr.empty()) {
    std::string f(fr.substr(0, 6));
    while (f.size() < 6) f += '0';
    if (!parse_number(std::string_view(f), &frac)) return false;
  }
  const std::int64_t v = (h * 3600 + m * 60 + sec) * 1000000 + frac;
  *micros = neg ? -v : v;
  return true;
}

// The digits s[from, from + n) as a number; false when one is not a digit.
bool fixed_digits(std::string_view s, std::size_t from, std::size_t n, int* out) {
  int v = 0;
  for (std::size_t i = from; i < from + n; ++i) {
    const auto d = static_cast<unsigned>(s[i] - '0');
    if (d > 9) return false;
    v = v * 10 + static_cast<int>(d);
  }
  *out = v;
  return true;
}

// What the server writes, "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS[.f{1,6}]" with minutes and
// seconds below 60, read digit by digit; false for any other text (the general parser decides).
bool parse_datetime_fast(std::string_view s, CivilTime* t) {
  if (s.size() != 10 && (s.size() < 19 || s.size() == 20 || s.size() > 26)) return false;
  int year = 0, month = 0, day = 0;
  if (s[4] != '-' || s[7] != '-' || !fixed_digits(s, 0, 4, &year) ||
      !fixed_digits(s, 5, 2, &month) || !fixed_digits(s, 8, 2, &day)) {
    return false;
  }
  int hour = 0, minute = 0, second = 0, fraction = 0;
  if (s.size() > 10) {
    if (s[10] != ' ' || s[13] != ':' || s[16] != ':' || !fixed_digits(s, 11, 2, &hour) ||
        !fixed_digits(s, 14, 2, &minute) || !fixed_digits(s, 17, 2, &second) || minute > 59 ||
        second > 59) {
      return false;
    }
    if (s.size() > 19) {
      const std::size_t n = s.size() - 20;
      if (s[19] != '.' || !fixed_digits(s, 20, n, &fraction)) return false;
      for (std::size_t i = n; i < 6; ++i) fraction *= 10;
    }
  }
  t->year = year;
  t->month = month;
  t->day = day;
  t->hour = hour;
  t->minute = minute;
  t->second = second;
  t->micros = fraction;
  return true;
}

// "YYYY-MM-DD[ HH:MM:SS[.ffffff]]".
bool parse_datetime_text(std::string_view s, CivilTime* t) {
  if (parse_datetime_fast(s, t)) return true;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!parse_number(s.substr(0, 4), &t->year) || !parse_number(s.substr(5, 2), &t->month) ||
      !parse_number(s.substr(8, 2), &t->day)) {
    return false;
  }
  if (s.size() > 10) {
    std::int64_t us = 0;
    if (s[10] != ' ' && s[10] != 'T') return false;
    if (!parse_time_text(s.substr(11), &us) || us < 0) return false;
    const std::int64_t secs = us / 1000000;
    t->hour = static_cast<int>(secs / 3600);
    t->minute = static_cast<int>((secs / 60) % 60);
    t->second = static_cast<int>(secs % 60);
    t->micros = us % 1000000;
  }
  return true;
}

}  // namespace

std::string to_utf8(std::string_view raw, int collation) {
  if (!is_latin1(collation)) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  for (unsigned char ch : raw) {
    if (ch < 0x80) {
      out += static_cast<char>(ch);
    } else {
      out += static_cast<char>(0xC0 | (ch >> 6));
      out += static_cast<char>(0x80 | (ch & 0x3F));
    }
  }
  return out;
}

SchemaPtr column_schema(const ColumnDef& column, const TypeModes& modes) {
  SchemaBuilder b = base_schema(column, modes);
  if (column.nullable) b.optional();
  return b.build();
}

Result<Value> decode_binary(const ColumnDef& c, const SchemaPtr& schema, const TypeModes& modes,
                            const std::uint8_t* data, std::size_t size, std::size_t* pos) {
  Cursor cur{data, size, pos};
  auto truncated = [&] {
    return parse_error("row image truncated in column '" + c.name + "' (type " +
                       std::to_string(c.type) + ")");
  };
  auto fixed = [&](int n) -> const std::uint8_t* {
    if (!cur.has(static_cast<std::size_t>(n))) return nullptr;
    return cur.take(static_cast<std::size_t>(n));
  };
  auto prefixed = [&](int len_bytes, std::string_view* out) -> bool {
    const std::uint8_t* lp = fixed(len_bytes);
    if (lp == nullptr) return false;
    const std::uint64_t n = le(lp, len_bytes);
    if (!cur.has(n)) return false;
    *out = std::string_view(reinterpret_cast<const char*>(cur.take(n)), n);
    return true;
  };
  switch (c.type) {
    case ftype::kTiny: {
      const auto* p = fixed(1);
      if (!p) return truncated();
      return Value(
          static_cast<std::int16_t>(c.is_unsigned ? p[0] : static_cast<std::int8_t>(p[0])));
    }
    case ftype::kShort: {
      const auto* p = fixed(2);
      if (!p) return truncated();
      if (c.is_unsigned) return Value(static_cast<std::int32_t>(le(p, 2)));
      return Value(static_cast<std::int16_t>(sign_extend(le(p, 2), 2)));
    }
    case ftype::kInt24: {
      const auto* p = fixed(3);
      if (!p) return truncated();
      return Value(static_cast<std::int32_t>(c.is_unsigned ? static_cast<std::int64_t>(le(p, 3))
                                                           : sign_extend(le(p, 3), 3)));
    }
    case ftype::kLong: {
      const auto* p = fixed(4);
      if (!p) return truncated();
      if (c.is_unsigned) return Value(static_cast<std::int64_t>(le(p, 4)));
      return Value(static_cast<std::int32_t>(sign_extend(le(p, 4), 4)));
    }
    case ftype::kLongLong: {
      const auto* p = fixed(8);
      if (!p) return truncated();
      return Value(static_cast<std::int64_t>(le(p, 8)));
    }
    case ftype::kFloat: {
      const auto* p = fixed(4);
      if (!p) return truncated();
      float f = 0;
      const auto u = static_cast<std::uint32_t>(le(p, 4));
      std::memcpy(&f, &u, sizeof f);
      return Value(f);
    }
    case ftype::kDouble: {
      const auto* p = fixed(8);
      if (!p) return truncated();
      double d = 0;
      const std::uint64_t u = le(p, 8);
      std::memcpy(&d, &u, sizeof d);
      return Value(d);
    }
    case ftype::kNewDecimal: {
      if (c.precision <= 0 || c.scale > c.precision) {
        return parse_error("column '" + c.name + "': bad DECIMAL precision/scale");
      }
      const auto n = decimal_binary_size(c.precision, c.scale);
      const auto* p = fixed(static_cast<int>(n));
      if (!p) return truncated();
      if (modes.decimal == DecimalMode::kPrecise && c.precision <= 18) {
        // Fits an int64: the unscaled value straight from the digit groups.
        return Value(Decimal::from_unscaled(decimal_unscaled(p, c.precision, c.scale), c.scale));
      }
      return decimal_value(decimal_text(p, c.precision, c.scale), c.scale, modes.decimal, schema);
    }
    case ftype::kYear: {
      const auto* p = fixed(1);
      if (!p) return truncated();
      return Value(static_cast<std::int32_t>(p[0] == 0 ? 0 : 1900 + p[0]));
    }
    case ftype::kDate:
    case ftype::kNewDate: {
      const auto* p = fixed(3);
      if (!p) return truncated();
      const auto v = static_cast<std::uint32_t>(le(p, 3));
      return date_value(c, static_cast<int>(v >> 9), static_cast<int>((v >> 5) & 15),
                        static_cast<int>(v & 31));
    }
    case ftype::kTime2: {
      const int fb = fraction_bytes(c.fsp);
      const auto* p = fixed(3 + fb);
      if (!p) return truncated();
      std::int64_t intpart = static_cast<std::int64_t>(be(p, 3)) - 0x800000;
      std::int64_t packed = 0;
      if (c.fsp >= 5) {
        packed = static_cast<std::int64_t>(be(p, 6)) - 0x800000000000LL;
      } else {
        std::int64_t frac = 0;
        if (c.fsp >= 3) {
          frac = static_cast<std::int64_t>(be(p + 3, 2));
          if (intpart < 0 && frac != 0) {
            intpart++;
            frac -= 0x10000;
          }
          frac *= 100;
        } else if (c.fsp >= 1) {
          frac = p[3];
          if (intpart < 0 && frac != 0) {
            intpart++;
            frac -= 0x100;
          }
          frac *= 10000;
        }
        packed = intpart * (1LL << 24) + frac;
      }
      return time_value(c, modes, time_micros_from_packed(packed));
    }
    case ftype::kTime: {
      const auto* p = fixed(3);
      if (!p) return truncated();
      std::int64_t v = sign_extend(le(p, 3), 3);
      const bool neg = v < 0;
      if (neg) v = -v;
      const std::int64_t us = ((v / 10000) * 3600 + ((v / 100) % 100) * 60 + v % 100) * 1000000;
      return time_value(c, modes, neg ? -us : us);
    }
    case ftype::kDatetime2: {
      const int fb = fraction_bytes(c.fsp);
      const auto* p = fixed(5 + fb);
      if (!p) return truncated();
      const std::int64_t intpart = static_cast<std::int64_t>(be(p, 5)) - 0x8000000000LL;
      return datetime_value(c, modes, civil_from_packed(intpart, fraction_micros(p + 5, c.fsp)));
    }
    case ftype::kDatetime: {
      const auto* p = fixed(8);
      if (!p) return truncated();
      std::uint64_t v = le(p, 8);
      CivilTime t;
      t.second = static_cast<int>(v % 100);
      v /= 100;
      t.minute = static_cast<int>(v % 100);
      v /= 100;
      t.hour = static_cast<int>(v % 100);
      v /= 100;
      t.day = static_cast<int>(v % 100);
      v /= 100;
      t.month = static_cast<int>(v % 100);
      t.year = static_cast<int>(v / 100);
      return datetime_value(c, modes, t);
    }
    case ftype::kTimestamp2: {
      const int fb = fraction_bytes(c.fsp);
      const auto* p = fixed(4 + fb);
      if (!p) return truncated();
      const auto secs = static_cast<std::int64_t>(be(p, 4));
      return timestamp_value(secs * 1000000 + fraction_micros(p + 4, c.fsp));
    }
    case ftype::kTimestamp: {
      const auto* p = fixed(4);
      if (!p) return truncated();
      return timestamp_value(static_cast<std::int64_t>(le(p, 4)) * 1000000);
    }
    case ftype::kBit: {
      const int n = (c.bits + 7) / 8;
      const auto* p = fixed(n);
      if (!p) return truncated();
      return bits_value(c, p, static_cast<std::size_t>(n));
    }
    case ftype::kEnum: {
      const int n = c.length_bytes == 2 ? 2 : 1;
      const auto* p = fixed(n);
      if (!p) return truncated();
      const std::uint64_t index = le(p, n);
      if (index == 0) return Value(std::string());
      if (index > c.elements.size()) {
        return parse_error("column '" + c.name + "': ENUM index " + std::to_string(index) +
                           " beyond its " + std::to_string(c.elements.size()) + " values");
      }
      return Value(c.elements[index - 1]);
    }
    case ftype::kSet: {
      const int n = c.length_bytes >= 1 && c.length_bytes <= 8 ? c.length_bytes : 1;
      const auto* p = fixed(n);
      if (!p) return truncated();
      return set_value(c, le(p, n));
    }
    case ftype::kVarchar:
    case ftype::kVarString: {
      std::string_view s;
      if (!prefixed(c.meta < 256 ? 1 : 2, &s)) return truncated();
      return string_value(c, modes, s);
    }
    case ftype::kString: {
      std::string_view s;
      if (!prefixed(c.length_bytes > 255 ? 2 : 1, &s)) return truncated();
      return string_value(c, modes, s);
    }
    case ftype::kBlob:
    case ftype::kTinyBlob:
    case ftype::kMediumBlob:
    case ftype::kLongBlob: {
      std::string_view s;
      if (c.length_bytes < 1 || c.length_bytes > 4 || !prefixed(c.length_bytes, &s)) {
        return truncated();
      }
      return string_value(c, modes, s);
    }
    case ftype::kGeometry: {
      std::string_view s;
      if (c.length_bytes < 1 || c.length_bytes > 4 || !prefixed(c.length_bytes, &s)) {
        return truncated();
      }
      return geometry_value(schema, reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    }
    case ftype::kJson: {
      std::string_view s;
      if (c.length_bytes < 1 || c.length_bytes > 4 || !prefixed(c.length_bytes, &s)) {
        return truncated();
      }
      if (s.empty()) return Value(std::string("null"));
      auto text = mysql_binary_json_to_text(s);
      if (!text.ok()) return parse_error("column '" + c.name + "': " + text.error().message());
      return Value(std::move(text).value());
    }
    default:
      return Error(ErrorCode::kUnsupported, "column '" + c.name + "': binlog column type " +
                                                std::to_string(c.type) + " is not supported");
  }
}

Result<Value> decode_text(const ColumnDef& c, const SchemaPtr& schema, const TypeModes& modes,
                          std::string_view text) {
  auto bad = [&] {
    return parse_error("column '" + c.name + "': cannot read '" + std::string(text.substr(0, 64)) +
                       "'");
  };
  switch (c.type) {
    case ftype::kTiny:
    case ftype::kShort:
    case ftype::kInt24:
    case ftype::kLong:
    case ftype::kLongLong: {
      const FieldType ft = schema->type();
      if (c.type == ftype::kLongLong && c.is_unsigned) {
        std::uint64_t u = 0;
        if (!parse_number(text, &u)) return bad();
        return Value(static_cast<std::int64_t>(u));
      }
      std::int64_t v = 0;
      if (!parse_number(text, &v)) return bad();
      if (ft == FieldType::kInt16) return Value(static_cast<std::int16_t>(v));
      if (ft == FieldType::kInt32) return Value(static_cast<std::int32_t>(v));
      return Value(v);
    }
    case ftype::kFloat: {
      float f = 0;
      if (!parse_number(text, &f)) return bad();
      return Value(f);
    }
    case ftype::kDouble: {
      double d = 0;
      if (!parse_number(text, &d)) return bad();
      return Value(d);
    }
    case ftype::kDecimal:
    case ftype::kNewDecimal: {
      std::int64_t unscaled = 0;
      if (modes.decimal == DecimalMode::kPrecise && decimal_text_unscaled(text, c, &unscaled)) {
        // The server's text has the column's scale: the unscaled value straight from its
        // digits, as the binlog path decodes it.
        return Value(Decimal::from_unscaled(unscaled, c.scale));
      }
      return decimal_value(text, c.scale, modes.decimal, schema);
    }
    case ftype::kYear: {
      std::int32_t y = 0;
      if (!parse_number(text, &y)) return bad();
      return Value(y);
    }
    case ftype::kDate:
    case ftype::kNewDate: {
      CivilTime t;
      if (!parse_datetime_text(text, &t)) return bad();
      return date_value(c, t.year, t.month, t.day);
    }
    case ftype::kTime:
    case ftype::kTime2: {
      std::int64_t us = 0;
      if (!parse_time_text(text, &us)) return bad();
      return time_value(c, modes, us);
    }
    case ftype::kDatetime:
    case ftype::kDatetime2: {
      CivilTime t;
      if (!parse_datetime_text(text, &t)) return bad();
      return datetime_value(c, modes, t);
    }
    case ftype::kTimestamp:
    case ftype::kTimestamp2: {
      CivilTime t;
      if (!parse_datetime_text(text, &t)) return bad();
      if (t.month == 0 || t.day == 0) return timestamp_value(0);
      if (!plausible(t)) return bad();
      return timestamp_value(epoch_micros(t));
    }
    case ftype::kBit:
      return bits_value(c, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    case ftype::kEnum:
    case ftype::kSet:
    case ftype::kJson:
      return Value(std::string(text));
    case ftype::kGeometry:
      return geometry_value(schema, reinterpret_cast<const std::uint8_t*>(text.data()),
                            text.size());
    default:
      break;
  }
  if (is_text_type(c.type)) {
    if (c.binary()) return binary_value(text, modes.binary);
    return Value(std::string(text));  // the session reads utf8mb4
  }
  return Error(ErrorCode::kUnsupported,
               "column '" + c.name + "': type " + std::to_string(c.type) + " is not supported");
}

std::vector<std::string> parse_enum_values(std::string_view column_type) {
  std::vector<std::string> out;
  auto open = column_type.find('(');
  if (open == std::string_view::npos) return out;
  std::size_t i = open + 1;
  while (i < column_type.size()) {
    if (column_type[i] != '\'') {
      ++i;
      continue;
    }
    std::string value;
    ++i;
    while (i < column_type.size()) {
      const char ch = column_type[i];
      if (ch == '\'' && i + 1 < column_type.size() && column_type[i + 1] == '\'') {
        value += '\'';
        i += 2;
      } else if (ch == '\\' && i + 1 < column_type.size()) {
        value += column_type[i + 1];
        i += 2;
      } else if (ch == '\'') {
        ++i;
        break;
      } else {
        value += ch;
        ++i;
      }
    }
    out.push_back(std::move(value));
  }
  return out;
}

Result<ColumnDef> column_from_information_schema(std::string name, std::string_view data_type,
                                                 std::string_view column_type, bool nullable,
                                                 int numeric_precision, int numeric_scale,
                                                 int datetime_precision,
                                                 std::string_view collation_name) {
  ColumnDef c;
  c.name = std::move(name);
  c.nullable = nullable;
  c.is_unsigned = column_type.find("unsigned") != std::string_view::npos;
  c.collation = collation_name.empty()                 ? kBinaryCollation
                : collation_name.starts_with("latin1") ? 8
                                                       : 45;
  std::string t(data_type);
  for (auto& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  struct Entry {
    const char* name;
    std::uint8_t type;
  };
  static constexpr Entry kTypes[] = {
      {"tinyint", ftype::kTiny},
      {"bool", ftype::kTiny},
      {"boolean", ftype::kTiny},
      {"smallint", ftype::kShort},
      {"mediumint", ftype::kInt24},
      {"int", ftype::kLong},
      {"integer", ftype::kLong},
      {"bigint", ftype::kLongLong},
      {"float", ftype::kFloat},
      {"double", ftype::kDouble},
      {"real", ftype::kDouble},
      {"decimal", ftype::kNewDecimal},
      {"numeric", ftype::kNewDecimal},
      {"year", ftype::kYear},
      {"date", ftype::kDate},
      {"time", ftype::kTime2},
      {"datetime", ftype::kDatetime2},
      {"timestamp", ftype::kTimestamp2},
      {"bit", ftype::kBit},
      {"enum", ftype::kEnum},
      {"set", ftype::kSet},
      {"json", ftype::kJson},
      {"char", ftype::kString},
      {"binary", ftype::kString},
      {"varchar", ftype::kVarchar},
      {"varbinary", ftype::kVarchar},
      {"tinytext", ftype::kBlob},
      {"text", ftype::kBlob},
      {"mediumtext", ftype::kBlob},
      {"longtext", ftype::kBlob},
      {"tinyblob", ftype::kBlob},
      {"blob", ftype::kBlob},
      {"mediumblob", ftype::kBlob},
      {"longblob", ftype::kBlob},
      {"geometry", ftype::kGeometry},
      {"point", ftype::kGeometry},
      {"linestring", ftype::kGeometry},
      {"polygon", ftype::kGeometry},
      {"multipoint", ftype::kGeometry},
      {"multilinestring", ftype::kGeometry},
      {"multipolygon", ftype::kGeometry},
      {"geometrycollection", ftype::kGeometry},
      {"inet6", ftype::kString},
      {"uuid", ftype::kString},
      {"inet4", ftype::kString},
  };
  bool found = false;
  for (const auto& e : kTypes) {
    if (t == e.name) {
      c.type = e.type;
      found = true;
      break;
    }
  }
  if (!found) {
    return Error(ErrorCode::kUnsupported,
                 "column '" + c.name + "': type '" + t + "' is not supported");
  }
  // Character sets only matter for strings; a binary collation marks bytes.
  const bool stringish =
      c.type == ftype::kString || c.type == ftype::kVarchar || c.type == ftype::kBlob;
  if (!stringish) c.collation = 0;
  switch (c.type) {
    case ftype::kNewDecimal:
      c.precision = numeric_precision;
      c.scale = numeric_scale;
      break;
    case ftype::kTime2:
    case ftype::kDatetime2:
    case ftype::kTimestamp2:
      c.fsp = datetime_precision;
      break;
    case ftype::kBit:
      c.bits = numeric_precision;
      break;
    case ftype::kEnum:
    case ftype::kSet:
      c.elements = parse_enum_values(column_type);
      break;
    default:
      break;
  }
  return c;
}

Result<std::string> mysql_binary_json_to_text(std::string_view data) {
  if (data.empty()) return std::string("null");
  std::string out;
  if (!json_value(data, static_cast<std::uint8_t>(data[0]), 1, 0, out)) {
    return parse_error("malformed MySQL binary JSON value");
  }
  return out;
}

}  // namespace rmqc::connectors::cdc::mysql
