#include "jdbc/postgres/postgres_values.h"

#include <absl/time/time.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

namespace rmqc::connectors::jdbc::postgres {
namespace {

constexpr std::int64_t kMillisPerDay = 86'400'000;

Error bad_value(const ColumnDef& column, std::string_view text, std::string_view why) {
  std::string shown(text.substr(0, 64));
  if (text.size() > 64) shown += "...";
  return Error(ErrorCode::kParseError, "column '" + column.name + "' (" + column.native_type +
                                           "): " + std::string(why) + ": '" + shown + "'");
}

void set_string(Value& out, std::string_view text) {
  if (auto* s = out.get_if<std::string>()) {
    s->assign(text.data(), text.size());
  } else {
    out = Value(std::string(text));
  }
}

template <typename T>
bool parse_integer(std::string_view text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

template <typename T>
bool parse_float(std::string_view text, T& out) {
  if (text == "NaN") {
    out = std::numeric_limits<T>::quiet_NaN();
    return true;
  }
  if (text == "Infinity") {
    out = std::numeric_limits<T>::infinity();
    return true;
  }
  if (text == "-Infinity") {
    out = -std::numeric_limits<T>::infinity();
    return true;
  }
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

// "YYYY-MM-DD HH:MM:SS[.ffffff][+00]" read in UTC without a time zone lookup; false when text
// has another shape or offset (the caller then takes the general path).
bool fast_utc_timestamp(std::string_view text, bool zone_is_utc, std::int64_t& out) {
  if (text.size() < 19 || text[4] != '-' || text[10] != ' ') return false;
  std::string_view time = text.substr(11);
  const std::size_t sign = time.find_first_of("+-");
  if (sign != std::string_view::npos) {
    if (time.substr(sign) != "+00") return false;
    time = time.substr(0, sign);
  } else if (!zone_is_utc) {
    return false;
  }
  auto days = parse_date(text.substr(0, 10));
  if (!days.ok()) return false;
  auto millis = parse_time(time);
  if (!millis.ok() || *millis >= kMillisPerDay) return false;
  out = static_cast<std::int64_t>(*days) * kMillisPerDay + *millis;
  return true;
}

Result<void> decode_scalar(const ColumnDef& column, ColumnKind kind, std::string_view text,
                           const TimeZone& tz, Value& out);

// The array text form: {1,2,NULL}, {"a b","c\"d",NULL}, {{1,2},{3,4}}, [0:1]={1,2}.
class ArrayParser {
 public:
  ArrayParser(const ColumnDef& column, std::string_view text, const TimeZone& tz)
      : column_(column), text_(text), tz_(tz) {}

  Result<void> parse(ValueList& out) {
    if (!text_.empty() && text_[0] == '[') {  // explicit bounds: skip up to '='
      const std::size_t eq = text_.find('=');
      if (eq == std::string_view::npos) return bad_value(column_, text_, "bad array");
      pos_ = eq + 1;
    }
    RMQC_RETURN_IF_ERROR(parse_level(out));
    skip_space();
    if (pos_ != text_.size()) return bad_value(column_, text_, "bad array");
    return ok_result();
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  Result<void> parse_level(ValueList& out) {
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] != '{') return bad_value(column_, text_, "bad array");
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return ok_result();
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size()) return bad_value(column_, text_, "unterminated array");
      if (text_[pos_] == '{') {
        ValueList inner;
        RMQC_RETURN_IF_ERROR(parse_level(inner));
        out.emplace_back(std::move(inner));
      } else if (text_[pos_] == '"') {
        ++pos_;
        buf_.clear();
        bool closed = false;
        while (pos_ < text_.size()) {
          char c = text_[pos_++];
          if (c == '\\' && pos_ < text_.size()) {
            buf_.push_back(text_[pos_++]);
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            buf_.push_back(c);
          }
        }
        if (!closed) return bad_value(column_, text_, "unterminated array element");
        out.emplace_back();
        RMQC_RETURN_IF_ERROR(decode_scalar(column_, column_.element_kind, buf_, tz_, out.back()));
      } else {
        buf_.clear();
        while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}') {
          char c = text_[pos_++];
          if (c == '\\' && pos_ < text_.size()) c = text_[pos_++];
          buf_.push_back(c);
        }
        while (!buf_.empty() && buf_.back() == ' ') buf_.pop_back();
        out.emplace_back();
        if (buf_.size() == 4 && (buf_[0] == 'N' || buf_[0] == 'n') &&
            (buf_[1] == 'U' || buf_[1] == 'u') && (buf_[2] == 'L' || buf_[2] == 'l') &&
            (buf_[3] == 'L' || buf_[3] == 'l')) {
          // NULL element: stays Value{}
        } else {
          RMQC_RETURN_IF_ERROR(decode_scalar(column_, column_.element_kind, buf_, tz_, out.back()));
        }
      }
      skip_space();
      if (pos_ >= text_.size()) return bad_value(column_, text_, "unterminated array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return ok_result();
      }
      return bad_value(column_, text_, "bad array");
    }
  }

  const ColumnDef& column_;
  std::string_view text_;
  const TimeZone& tz_;
  std::size_t pos_ = 0;
  std::string buf_;
};

Result<void> decode_scalar(const ColumnDef& column, ColumnKind kind, std::string_view text,
                           const TimeZone& tz, Value& out) {
  switch (kind) {
    case ColumnKind::kBoolean:
      if (text == "t" || text == "true") {
        out = Value(true);
      } else if (text == "f" || text == "false") {
        out = Value(false);
      } else {
        return bad_value(column, text, "not a boolean");
      }
      return ok_result();
    case ColumnKind::kInt8: {
      std::int8_t v = 0;
      if (!parse_integer(text, v)) return bad_value(column, text, "not an 8-bit integer");
      out = Value(v);
      return ok_result();
    }
    case ColumnKind::kInt16: {
      std::int16_t v = 0;
      if (!parse_integer(text, v)) return bad_value(column, text, "not a 16-bit integer");
      out = Value(v);
      return ok_result();
    }
    case ColumnKind::kInt32: {
      std::int32_t v = 0;
      if (!parse_integer(text, v)) return bad_value(column, text, "not a 32-bit integer");
      out = Value(v);
      return ok_result();
    }
    case ColumnKind::kInt64: {
      std::int64_t v = 0;
      if (!parse_integer(text, v)) return bad_value(column, text, "not a 64-bit integer");
      out = Value(v);
      return ok_result();
    }
    case ColumnKind::kFloat32: {
      float v = 0;
      if (!parse_float(text, v)) return bad_value(column, text, "not a float");
      out = Value(v);
      return ok_result();
    }
    case ColumnKind::kFloat64: {
      double v = 0;
      if (!parse_float(text, v)) return bad_value(column, text, "not a double");
      out = Value(v);
      return ok_result();
    }
    case ColumnKind::kDecimal: {
      auto d = parse_decimal(text, column.scale);
      if (!d.ok()) return bad_value(column, text, d.error().message());
      out = Value(std::move(d).value());
      return ok_result();
    }
    case ColumnKind::kString:
    case ColumnKind::kJson:
    case ColumnKind::kUuid:
      set_string(out, text);
      return ok_result();
    case ColumnKind::kBytes: {
      if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') {
        return bad_value(column, text, "bytea not in hex format");
      }
      auto bytes = from_hex(text.substr(2));
      if (!bytes.ok()) return bad_value(column, text, bytes.error().message());
      out = Value(std::move(bytes).value());
      return ok_result();
    }
    case ColumnKind::kDate: {
      auto d = parse_date(text);
      if (!d.ok()) return bad_value(column, text, "not a date");
      out = Value(*d);
      return ok_result();
    }
    case ColumnKind::kTime: {
      auto t = parse_time(text);
      if (!t.ok()) return bad_value(column, text, "not a time");
      out = Value(*t);
      return ok_result();
    }
    case ColumnKind::kTimestamp: {
      std::int64_t millis = 0;
      if (!fast_utc_timestamp(text, tz.is_utc(), millis)) {
        auto ts = parse_timestamp(text, tz);
        if (!ts.ok()) return bad_value(column, text, "not a timestamp");
        millis = *ts;
      }
      out = Value(millis);
      return ok_result();
    }
    case ColumnKind::kArray:
      return bad_value(column, text, "nested array kind");
  }
  return bad_value(column, text, "unknown kind");
}

ColumnKind kind_of_value(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kBoolean:
      return ColumnKind::kBoolean;
    case Value::Kind::kInt8:
    case Value::Kind::kInt16:
    case Value::Kind::kInt32:
    case Value::Kind::kInt64:
      return ColumnKind::kInt64;
    case Value::Kind::kFloat32:
      return ColumnKind::kFloat32;
    case Value::Kind::kFloat64:
      return ColumnKind::kFloat64;
    case Value::Kind::kBytes:
      return ColumnKind::kBytes;
    case Value::Kind::kDecimal:
      return ColumnKind::kDecimal;
    case Value::Kind::kArray:
      return ColumnKind::kArray;
    default:
      return ColumnKind::kString;
  }
}

template <typename T>
void append_number(T v, std::string& out) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, ptr);
}

template <typename T>
void append_float(T v, std::string& out) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
  } else {
    append_number(v, out);
  }
}

Error cannot_encode(ColumnKind kind, const Value& value) {
  return Error(ErrorCode::kSchemaMismatch, "cannot write a " +
                                               std::string(kind_name(value.kind())) + " value as " +
                                               std::string(column_kind_name(kind)));
}

void append_offset(std::int64_t epoch_millis, const TimeZone& tz, std::string& out) {
  if (tz.is_utc()) {
    out += "+00";
    return;
  }
  std::int64_t seconds = epoch_millis / 1000;
  if (epoch_millis % 1000 < 0) --seconds;
  int offset = tz.zone().At(absl::FromUnixSeconds(seconds)).offset;
  out.push_back(offset < 0 ? '-' : '+');
  if (offset < 0) offset = -offset;
  auto two = [&out](int v) {
    out.push_back(static_cast<char>('0' + v / 10));
    out.push_back(static_cast<char>('0' + v % 10));
  };
  two(offset / 3600);
  out.push_back(':');
  two(offset / 60 % 60);
  if (offset % 60 != 0) {
    out.push_back(':');
    two(offset % 60);
  }
}

Result<void> encode_array(const ValueList& list, const TimeZone& tz, std::string& out,
                          const ColumnKind* element_kind) {
  out.push_back('{');
  std::string element;
  bool first = true;
  for (const Value& v : list) {
    if (!first) out.push_back(',');
    first = false;
    if (v.is_null()) {
      out += "NULL";
      continue;
    }
    if (const auto* inner = v.get_if<ValueList>()) {
      RMQC_RETURN_IF_ERROR(encode_array(*inner, tz, out, element_kind));
      continue;
    }
    element.clear();
    ColumnKind kind = element_kind ? *element_kind : kind_of_value(v);
    RMQC_RETURN_IF_ERROR(encode_text(kind, v, tz, element));
    out.push_back('"');
    for (char c : element) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return ok_result();
}

}  // namespace

Result<void> decode_text(const ColumnDef& column, std::string_view text, const TimeZone& tz,
                         Value& out) {
  if (column.kind != ColumnKind::kArray) return decode_scalar(column, column.kind, text, tz, out);
  ValueList list;
  ArrayParser parser(column, text, tz);
  RMQC_RETURN_IF_ERROR(parser.parse(list));
  out = Value(std::move(list));
  return ok_result();
}

Result<void> encode_text(ColumnKind kind, const Value& value, const TimeZone& tz, std::string& out,
                         const ColumnKind* element_kind) {
  if (value.is_null()) return Error(ErrorCode::kInternal, "encode_text of a null value");
  if (const auto* s = value.get_if<std::string>()) {
    // Text in PostgreSQL's own input syntax, whatever the kind (a date as "2024-01-31").
    if (kind != ColumnKind::kBytes) {
      out += *s;
      return ok_result();
    }
  }
  std::int64_t i = 0;
  switch (kind) {
    case ColumnKind::kBoolean:
      if (const auto* b = value.get_if<bool>()) {
        out += *b ? "t" : "f";
        return ok_result();
      }
      if (value.to_int64(i)) {
        out += i != 0 ? "t" : "f";
        return ok_result();
      }
      return cannot_encode(kind, value);
    case ColumnKind::kInt8:
    case ColumnKind::kInt16:
    case ColumnKind::kInt32:
    case ColumnKind::kInt64:
      if (value.to_int64(i)) {
        append_number(i, out);
        return ok_result();
      }
      if (const auto* b = value.get_if<bool>()) {
        out += *b ? "1" : "0";
        return ok_result();
      }
      if (const auto* d = value.get_if<Decimal>()) {
        out += d->to_string();
        return ok_result();
      }
      return cannot_encode(kind, value);
    case ColumnKind::kFloat32:
    case ColumnKind::kFloat64:
    case ColumnKind::kDecimal:
      if (const auto* f = value.get_if<float>()) {
        append_float(*f, out);
        return ok_result();
      }
      if (const auto* d = value.get_if<double>()) {
        append_float(*d, out);
        return ok_result();
      }
      if (const auto* dec = value.get_if<Decimal>()) {
        out += dec->to_string();
        return ok_result();
      }
      if (value.to_int64(i)) {
        append_number(i, out);
        return ok_result();
      }
      return cannot_encode(kind, value);
    case ColumnKind::kString:
    case ColumnKind::kJson:
    case ColumnKind::kUuid:
      if (const auto* bytes = value.get_if<Bytes>()) {
        out.append(reinterpret_cast<const char*>(bytes->data()), bytes->size());
      } else {
        out += value.to_string();
      }
      return ok_result();
    case ColumnKind::kBytes:
      if (const auto* bytes = value.get_if<Bytes>()) {
        out += "\\x";
        out += to_hex(*bytes);
        return ok_result();
      }
      if (const auto* s = value.get_if<std::string>()) {
        out += "\\x";
        out += to_hex(Bytes(s->begin(), s->end()));
        return ok_result();
      }
      return cannot_encode(kind, value);
    case ColumnKind::kDate:
      if (value.to_int64(i)) {
        out += format_date(static_cast<std::int32_t>(i));
        return ok_result();
      }
      return cannot_encode(kind, value);
    case ColumnKind::kTime:
      if (value.to_int64(i)) {
        out += format_time(static_cast<std::int32_t>(i));
        return ok_result();
      }
      return cannot_encode(kind, value);
    case ColumnKind::kTimestamp:
      if (value.to_int64(i)) {
        out += format_timestamp(i, tz);
        append_offset(i, tz, out);
        return ok_result();
      }
      return cannot_encode(kind, value);
    case ColumnKind::kArray:
      if (const auto* list = value.get_if<ValueList>()) {
        return encode_array(*list, tz, out, element_kind);
      }
      return cannot_encode(kind, value);
  }
  return cannot_encode(kind, value);
}

void append_copy_escaped(std::string_view text, std::string& out) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char* esc = nullptr;
    switch (c) {
      case '\\':
        esc = "\\\\";
        break;
      case '\t':
        esc = "\\t";
        break;
      case '\n':
        esc = "\\n";
        break;
      case '\r':
        esc = "\\r";
        break;
      default:
        continue;
    }
    out.append(text.data() + run, i - run);
    out += esc;
    run = i + 1;
  }
  out.append(text.data() + run, text.size() - run);
}

unsigned param_type_oid(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kBoolean:
      return oid::kBool;
    case ColumnKind::kInt8:
    case ColumnKind::kInt16:
      return oid::kInt2;
    case ColumnKind::kInt32:
      return oid::kInt4;
    case ColumnKind::kInt64:
      return oid::kInt8;
    case ColumnKind::kFloat32:
      return oid::kFloat4;
    case ColumnKind::kFloat64:
      return oid::kFloat8;
    case ColumnKind::kDecimal:
      return oid::kNumeric;
    case ColumnKind::kBytes:
      return oid::kBytea;
    default:
      return 0;  // strings, JSON, UUID, dates, times, timestamps, arrays: the column decides
  }
}

}  // namespace rmqc::connectors::jdbc::postgres
