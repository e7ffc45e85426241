// Type-changing SMTs: Cast and TimestampConverter.
#include "rmqc/api/logical.h"

#include "base/base64.h"
#include "transforms/time_format.h"
#include "transforms/transform_support.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace rmqc::transforms {
namespace {

const TimeFormat& fixed_format(std::string_view pattern) {
  // Only called with the three constant patterns below.
  static const auto compile = [](std::string_view p) {
    std::string e;
    return *TimeFormat::compile(p, e);
  };
  static const TimeFormat date = compile("yyyy-MM-dd");
  static const TimeFormat time = compile("HH:mm:ss.SSS");
  static const TimeFormat timestamp = compile("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");
  return pattern == "date" ? date : pattern == "time" ? time : timestamp;
}

// Java's Double.toString / Float.toString: "1.0", "0.001", "1.0E7".
template <typename F>
std::string java_float_string(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  F mag = std::fabs(v);
  if (v == 0 || (mag >= F(1e-3) && mag < F(1e7))) {
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    std::string s(buf, r.ptr);
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  auto e = s.find('e');
  std::string mantissa = s.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  int exponent = std::stoi(s.substr(e + 1));
  return mantissa + "E" + std::to_string(exponent);
}

// Java's (long) of a double: saturating, NaN to 0.
std::int64_t saturating_int64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.2233720368547758e18) return std::numeric_limits<std::int64_t>::max();
  if (d <= -9.2233720368547758e18) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(d);
}

const std::vector<std::string>& cast_type_names() {
  static const std::vector<std::string> names = {"int8",    "int16",   "int32",   "int64",
                                                 "float32", "float64", "boolean", "string"};
  return names;
}

std::optional<FieldType> parse_cast_type(std::string_view name) {
  static const FieldType types[] = {FieldType::kInt8,    FieldType::kInt16,   FieldType::kInt32,
                                    FieldType::kInt64,   FieldType::kFloat32, FieldType::kFloat64,
                                    FieldType::kBoolean, FieldType::kString};
  const auto& names = cast_type_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return types[i];
  }
  return std::nullopt;
}

// A number held by v, as int64 (exact) or double.
struct Number {
  bool is_integer = true;
  std::int64_t i = 0;
  double d = 0;
};

DataException cast_error(const Value& v, FieldType target, const std::string& why = {}) {
  return DataException("Cast: cannot cast " + std::string(kind_name(v.kind())) + " value " +
                       v.to_string() + " to " + std::string(field_type_name(target)) +
                       (why.empty() ? "" : ": " + why));
}

Number number_of(const Value& v, FieldType target) {
  Number n;
  if (v.to_int64(n.i)) return n;
  n.is_integer = false;
  switch (v.kind()) {
    case Value::Kind::kFloat32:
      n.d = v.as_float32();
      return n;
    case Value::Kind::kFloat64:
      n.d = v.as_float64();
      return n;
    case Value::Kind::kBoolean:
      n.is_integer = true;
      n.i = v.as_bool() ? 1 : 0;
      return n;
    case Value::Kind::kDecimal: {
      std::string text = v.as_decimal().to_string();
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n.d);
      if (ec != std::errc()) throw cast_error(v, target);
      return n;
    }
    case Value::Kind::kString: {
      const std::string& s = v.as_string();
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n.i);
      if (ec == std::errc() && end == s.data() + s.size()) {
        n.is_integer = true;
        return n;
      }
      auto [end2, ec2] = std::from_chars(s.data(), s.data() + s.size(), n.d);
      if (ec2 == std::errc() && end2 == s.data() + s.size() && !s.empty()) return n;
      throw cast_error(v, target, "not a number");
    }
    default:
      throw cast_error(v, target);
  }
}

std::string string_of(const Value& v, const Schema* schema) {
  if (schema) {
    switch (logical::logical_type_of(*schema)) {
      case logical::LogicalType::kDate:
        return fixed_format("date").format(v.as_int32() * logical::kMillisPerDay);
      case logical::LogicalType::kTime:
        return fixed_format("time").format(v.as_int32());
      case logical::LogicalType::kTimestamp:
        return fixed_format("timestamp").format(v.as_int64());
      default:
        break;
    }
  }
  switch (v.kind()) {
    case Value::Kind::kFloat32:
      return java_float_string(v.as_float32());
    case Value::Kind::kFloat64:
      return java_float_string(v.as_float64());
    case Value::Kind::kBoolean:
      return v.as_bool() ? "true" : "false";
    case Value::Kind::kBytes: {
      const Bytes& b = v.as_bytes();
      std::string out;
      base64_encode_append(b.data(), b.size(), out);
      return out;
    }
    default:
      return v.to_string();
  }
}

Value cast_value(const Value& v, const Schema* schema, FieldType target) {
  if (v.is_null()) return Value();
  if (target == FieldType::kString) return Value(string_of(v, schema));
  if (target == FieldType::kBoolean) {
    if (const auto* s = v.get_if<std::string>()) {
      if (*s == "true" || *s == "TRUE" || *s == "True") return Value(true);
      if (*s == "false" || *s == "FALSE" || *s == "False") return Value(false);
      throw cast_error(v, target, "expected true or false");
    }
    Number n = number_of(v, target);
    return Value(n.is_integer ? n.i != 0 : n.d != 0);
  }
  Number n = number_of(v, target);
  // Integers narrow as Java's casts do (two's complement wrap); doubles saturate into int64 first.
  std::int64_t i = n.is_integer ? n.i : saturating_int64(n.d);
  double d = n.is_integer ? static_cast<double>(n.i) : n.d;
  switch (target) {
    case FieldType::kInt8:
      return Value(static_cast<std::int8_t>(i));
    case FieldType::kInt16:
      return Value(static_cast<std::int16_t>(i));
    case FieldType::kInt32:
      return Value(static_cast<std::int32_t>(i));
    case FieldType::kInt64:
      return Value(i);
    case FieldType::kFloat32:
      if (std::fabs(d) > std::numeric_limits<float>::max() && std::isfinite(d)) {
        return Value(d > 0 ? std::numeric_limits<float>::infinity()
                           : -std::numeric_limits<float>::infinity());
      }
      return Value(static_cast<float>(d));
    case FieldType::kFloat64:
      return Value(d);
    default:
      throw cast_error(v, target);
  }
}

SchemaPtr cast_schema(const Schema& in, FieldType target) {
  if (in.type() == FieldType::kStruct || in.type() == FieldType::kArray ||
      in.type() == FieldType::kMap) {
    if (target != FieldType::kString) {
      throw DataException("Cast: cannot cast a " + std::string(field_type_name(in.type())) +
                          " to " + std::string(field_type_name(target)));
    }
  }
  SchemaBuilder b(target);
  if (in.optional()) b.optional();
  if (const Value* d = in.default_value()) b.default_value(cast_value(*d, &in, target));
  return b.build();
}

class Cast final : public StructOrMapTransform {
 public:
  explicit Cast(Side side) : StructOrMapTransform(side, "casting fields") {}

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("spec", ConfigDef::Type::kList, std::nullopt, ConfigDef::Importance::kHigh,
               "field:type pairs (comma list) or one type for the whole key/value. Types: int8, "
               "int16, int32, int64, float32, float64, boolean, string.",
               validators::non_empty());
    def.define("replace.null.with.default", ConfigDef::Type::kBoolean, "true",
               ConfigDef::Importance::kLow,
               "A null field with a schema default is cast from the default.");
    return def;
  }

  void configure(const KeyValue& c) override {
    casts_.clear();
    whole_.reset();
    auto items = split_list(c.get_string("spec"));
    auto bad = [&](const std::string& item, const std::string& why) {
      return ConfigError("spec", "Invalid value '" + c.get_string("spec") +
                                     "' for configuration spec: '" + item + "' " + why);
    };
    for (const auto& item : items) {
      auto colon = item.find(':');
      std::string field = colon == std::string::npos ? "" : item.substr(0, colon);
      std::string type = colon == std::string::npos ? item : item.substr(colon + 1);
      auto t = parse_cast_type(type);
      if (!t) {
        throw bad(item,
                  "has an unknown type; use int8, int16, int32, int64, float32, float64, "
                  "boolean or string");
      }
      if (colon == std::string::npos) {
        if (items.size() != 1) throw bad(item, "casts the whole value; it must be the only item");
        whole_ = *t;
      } else {
        if (field.empty()) throw bad(item, "has an empty field name");
        casts_.emplace_back(std::move(field), *t);
      }
    }
    replace_null_ = c.get_bool("replace.null.with.default");
  }

 protected:
  struct Derived {
    SchemaPtr schema;
    std::vector<std::pair<const Field*, FieldType>> casts;  // fields of the input schema
  };

  bool apply(SchemaPtr& schema, Value& value, ConnectRecord& record) const override {
    // Field casts walk the struct or map; a whole-value cast takes any kind, null included.
    if (!whole_) return StructOrMapTransform::apply(schema, value, record);
    if (schema) {
      auto out =
          whole_cache_.get(schema, [&](const SchemaPtr& s) { return cast_schema(*s, *whole_); });
      value = cast_value(value, schema.get(), *whole_);
      schema = std::move(out);
    } else {
      value = cast_value(value, nullptr, *whole_);
    }
    return true;
  }

  void apply_to_map(ValueMap& map, ConnectRecord&) const override {
    for (const auto& [field, type] : casts_) {
      if (Value* v = find_entry(map, field)) *v = cast_value(*v, nullptr, type);
    }
  }

  void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord&) const override {
    auto d = cache_.get(schema, [&](const SchemaPtr& s) { return derive(*s); });
    for (const auto& [field, type] : d->casts) {
      Value& slot = in.values()[field->index];
      const Value* src = &slot;
      if (slot.is_null() && replace_null_ && field->schema->default_value()) {
        src = field->schema->default_value();
      }
      slot = cast_value(*src, field->schema.get(), type);
    }
    rebuild_struct(in, d->schema);
    schema = d->schema;
  }

 private:
  Derived derive(const Schema& in) const {
    Derived d;
    SchemaBuilder b = copy_struct_header(in);
    for (const auto& f : in.fields()) {
      auto it = std::find_if(casts_.begin(), casts_.end(),
                             [&](const auto& c) { return c.first == f.name; });
      if (it == casts_.end()) {
        b.field(f.name, f.schema);
      } else {
        b.field(f.name, cast_schema(*f.schema, it->second));
        d.casts.emplace_back(&f, it->second);
      }
    }
    d.schema = b.build();
    return d;
  }

  std::vector<std::pair<std::string, FieldType>> casts_;
  std::optional<FieldType> whole_;
  bool replace_null_ = true;
  SchemaCache<Derived> cache_;
  SchemaCache<SchemaPtr> whole_cache_;
};

// --- TimestampConverter --------------------------------------------------------------------

enum class TimeType { kString, kUnix, kDate, kTime, kTimestamp };

class TimestampConverter final : public StructOrMapTransform {
 public:
  explicit TimestampConverter(Side side) : StructOrMapTransform(side, "converting timestamps") {}

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("field", ConfigDef::Type::kString, "", ConfigDef::Importance::kHigh,
               "The top-level field to convert (empty: the whole key/value).");
    def.define("target.type", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kHigh,
               "string, unix (epoch number in unix.precision), Date, Time or Timestamp.",
               one_of_exact({"string", "unix", "Date", "Time", "Timestamp"}));
    def.define("format", ConfigDef::Type::kString, "", ConfigDef::Importance::kMedium,
               "java.text.SimpleDateFormat pattern (UTC) for string input and output; required "
               "when either side is a string.");
    def.define("unix.precision", ConfigDef::Type::kString, "milliseconds",
               ConfigDef::Importance::kLow,
               "Unit of unix timestamps: seconds, milliseconds, microseconds or nanoseconds.",
               one_of_exact({"seconds", "milliseconds", "microseconds", "nanoseconds"}));
    define_ignored_replace_null_with_default(def);
    return def;
  }

  void configure(const KeyValue& c) override {
    field_ = c.get_string("field");
    std::string t = c.get_string("target.type");
    target_ = t == "string" ? TimeType::kString
              : t == "unix" ? TimeType::kUnix
              : t == "Date" ? TimeType::kDate
              : t == "Time" ? TimeType::kTime
                            : TimeType::kTimestamp;
    std::string p = c.get_string("unix.precision");
    unix_unit_ = p == "seconds"        ? 1000
                 : p == "milliseconds" ? 1
                 : p == "microseconds" ? -1000
                                       : -1000000;
    std::string fmt = c.get_string("format");
    format_.reset();
    if (!fmt.empty()) {
      std::string error;
      auto f = TimeFormat::compile(fmt, error);
      if (!f) {
        throw ConfigError("format",
                          "Invalid value '" + fmt + "' for configuration format: " + error);
      }
      format_ = std::move(*f);
    }
    if (target_ == TimeType::kString && !format_) {
      throw ConfigError("format",
                        "Missing configuration format: required when target.type is string");
    }
  }

 protected:
  bool apply(SchemaPtr& schema, Value& value, ConnectRecord& record) const override {
    // A field converts within the struct or map; otherwise the whole value, null included.
    if (!field_.empty()) return StructOrMapTransform::apply(schema, value, record);
    TimeType from = schema ? type_of_schema(*schema) : type_of_value(value);
    if (schema) schema = target_schema(schema->optional());
    value = convert(value, from);
    return true;
  }

  void apply_to_map(ValueMap& map, ConnectRecord&) const override {
    if (Value* v = find_entry(map, field_)) *v = convert(*v, type_of_value(*v));
  }

  void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord&) const override {
    auto d = cache_.get(schema, [&](const SchemaPtr& s) { return derive(*s); });
    Value& slot = in.values()[d->index];
    slot = convert(slot, d->from);
    rebuild_struct(in, d->schema);
    schema = d->schema;
  }

 private:
  struct Derived {
    SchemaPtr schema;
    int index = 0;
    TimeType from = TimeType::kUnix;
  };

  Derived derive(const Schema& in) const {
    const Field& f = require_field(in, field_, "TimestampConverter");
    Derived d;
    d.index = f.index;
    d.from = type_of_schema(*f.schema);
    SchemaBuilder b = copy_struct_header(in);
    for (const auto& field : in.fields()) {
      b.field(field.name,
              field.index == f.index ? target_schema(f.schema->optional()) : field.schema);
    }
    d.schema = b.build();
    return d;
  }

  static TimeType type_of_schema(const Schema& s) {
    switch (logical::logical_type_of(s)) {
      case logical::LogicalType::kDate:
        return TimeType::kDate;
      case logical::LogicalType::kTime:
        return TimeType::kTime;
      case logical::LogicalType::kTimestamp:
        return TimeType::kTimestamp;
      default:
        break;
    }
    if (s.type() == FieldType::kString) return TimeType::kString;
    if (s.type() == FieldType::kInt64 || s.type() == FieldType::kInt32) return TimeType::kUnix;
    throw DataException("TimestampConverter: a " + std::string(field_type_name(s.type())) +
                        " schema is not a timestamp");
  }

  static TimeType type_of_value(const Value& v) {
    return v.get_if<std::string>() ? TimeType::kString : TimeType::kUnix;
  }

  SchemaPtr target_schema(bool optional) const {
    SchemaBuilder b = target_ == TimeType::kString ? SchemaBuilder::string()
                      : target_ == TimeType::kUnix ? SchemaBuilder::int64()
                      : target_ == TimeType::kDate ? SchemaBuilder::date()
                      : target_ == TimeType::kTime ? SchemaBuilder::time()
                                                   : SchemaBuilder::timestamp();
    if (optional) b.optional();
    return b.build();
  }

  Value convert(const Value& v, TimeType from) const {
    if (v.is_null()) return Value();
    std::int64_t millis = 0;
    switch (from) {
      case TimeType::kString: {
        if (!format_) {
          throw DataException("TimestampConverter: 'format' is needed to parse string '" +
                              v.to_string() + "'");
        }
        auto parsed = v.get_if<std::string>() ? format_->parse(v.as_string()) : std::nullopt;
        if (!parsed) {
          throw DataException("TimestampConverter: '" + v.to_string() +
                              "' does not match the configured format");
        }
        millis = *parsed;
        break;
      }
      case TimeType::kUnix: {
        std::int64_t n = 0;
        if (!v.to_int64(n)) {
          throw DataException("TimestampConverter: expected an integer timestamp, got " +
                              std::string(kind_name(v.kind())));
        }
        if (unix_unit_ > 0) {
          if (__builtin_mul_overflow(n, unix_unit_, &millis)) {
            throw DataException("TimestampConverter: unix timestamp " + std::to_string(n) +
                                " is out of range");
          }
        } else {
          millis = floor_div(n, -unix_unit_);
        }
        break;
      }
      case TimeType::kDate:
        millis = std::int64_t{v.as_int32()} * logical::kMillisPerDay;
        break;
      case TimeType::kTime:
        millis = v.as_int32();
        break;
      case TimeType::kTimestamp:
        millis = v.as_int64();
        break;
    }
    switch (target_) {
      case TimeType::kString:
        return Value(format_->format(millis));
      case TimeType::kUnix: {
        if (unix_unit_ > 0) return Value(floor_div(millis, unix_unit_));
        std::int64_t out = 0;
        if (__builtin_mul_overflow(millis, -unix_unit_, &out)) {
          throw DataException("TimestampConverter: " + std::to_string(millis) +
                              " ms does not fit in a 64-bit unix timestamp");
        }
        return Value(out);
      }
      case TimeType::kDate:
        return Value(static_cast<std::int32_t>(floor_div(millis, logical::kMillisPerDay)));
      case TimeType::kTime:
        return Value(static_cast<std::int32_t>(floor_mod(millis, logical::kMillisPerDay)));
      case TimeType::kTimestamp:
        return Value(millis);
    }
    return Value();
  }

  std::string field_;
  TimeType target_ = TimeType::kTimestamp;
  // Milliseconds per unit when positive (seconds: 1000); units per millisecond when negative.
  std::int64_t unix_unit_ = 1;
  std::optional<TimeFormat> format_;
  SchemaCache<Derived> cache_;
};

}  // namespace

void register_cast_transforms(PluginRegistrar& registrar) {
  add_side_transform<Cast>(registrar, kKafkaPackage, "Cast",
                           "Casts fields, or the whole key/value, to another primitive type.");
  add_side_transform<TimestampConverter>(
      registrar, kKafkaPackage, "TimestampConverter",
      "Converts timestamps between strings, unix epochs and Date/Time/Timestamp.");
}

}  // namespace rmqc::transforms
