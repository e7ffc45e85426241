// JsonConverter: configuration and the connect-data -> JSON direction.
#include "rmqc/api/logical.h"
#include "rmqc/api/struct.h"

#include "base/base64.h"
#include "converters/json/json_converter.h"
#include "data/json_writer.h"

#include <algorithm>
#include <limits>

namespace rmqc::converters {
namespace {

using json::write_floating;
using json::write_integer;
using json::write_string;
using DecimalFormat = JsonConverter::DecimalFormat;

constexpr std::size_t kDefaultCacheSize = 1000;

std::string_view json_type_name(FieldType type) {
  switch (type) {
    case FieldType::kInt8:
      return "int8";
    case FieldType::kInt16:
      return "int16";
    case FieldType::kInt32:
      return "int32";
    case FieldType::kInt64:
      return "int64";
    case FieldType::kFloat32:
      return "float";
    case FieldType::kFloat64:
      return "double";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kString:
      return "string";
    case FieldType::kBytes:
      return "bytes";
    case FieldType::kArray:
      return "array";
    case FieldType::kMap:
      return "map";
    case FieldType::kStruct:
      return "struct";
  }
  return "unknown";
}

Error mismatch(const Schema& schema, const Value& value) {
  std::string expected(field_type_name(schema.type()));
  if (!schema.name().empty()) expected += " (" + schema.name() + ")";
  return Error(ErrorCode::kSchemaMismatch,
               "expected " + expected + ", got " + std::string(kind_name(value.kind())));
}

void write_bytes(std::string& out, const Bytes& bytes) {
  out += '"';
  base64_encode_append(bytes.data(), bytes.size(), out);
  out += '"';
}

void write_decimal(std::string& out, const Decimal& d, DecimalFormat format) {
  if (format == DecimalFormat::kNumeric) {
    out += d.to_string();
  } else {
    write_bytes(out, d.unscaled);
  }
}

Result<void> write_value(const Schema* schema, const Value& value, DecimalFormat format,
                         std::string& out);

// Maps whose keys are all strings become objects; others become [[key, value], ...].
Result<void> write_map(const Schema* schema, const ValueMap& map, DecimalFormat format,
                       std::string& out) {
  bool object_form = schema ? schema->key_schema()->type() == FieldType::kString
                            : std::all_of(map.begin(), map.end(), [](const auto& e) {
                                return e.first.kind() == Value::Kind::kString;
                              });
  const Schema* key_schema = schema ? schema->key_schema().get() : nullptr;
  const Schema* value_schema = schema ? schema->value_schema().get() : nullptr;
  out += object_form ? '{' : '[';
  bool first = true;
  for (const auto& [k, v] : map) {
    if (!first) out += ',';
    first = false;
    if (object_form) {
      const auto* key = k.get_if<std::string>();
      if (!key) return mismatch(*key_schema, k).with_context("map key");
      write_string(out, *key);
      out += ':';
    } else {
      out += '[';
      RMQC_RETURN_IF_ERROR(write_value(key_schema, k, format, out));
      out += ',';
    }
    if (auto r = write_value(value_schema, v, format, out); !r.ok()) {
      return std::move(r).error().with_context("map value");
    }
    if (!object_form) out += ']';
  }
  out += object_form ? '}' : ']';
  return {};
}

Result<void> write_struct(const Struct& s, DecimalFormat format, std::string& out) {
  const auto& fields = s.schema()->fields();
  const auto& values = s.values();
  out += '{';
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    write_string(out, fields[i].name);
    out += ':';
    if (auto r = write_value(fields[i].schema.get(), values[i], format, out); !r.ok()) {
      return std::move(r).error().with_context("field '" + fields[i].name + "'");
    }
  }
  out += '}';
  return {};
}

// Schemaless: the value's own kind decides.
Result<void> write_inferred(const Value& value, DecimalFormat format, std::string& out) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      out += "null";
      return {};
    case Value::Kind::kBoolean:
      out += value.as_bool() ? "true" : "false";
      return {};
    case Value::Kind::kInt8:
      write_integer(out, int{value.as_int8()});
      return {};
    case Value::Kind::kInt16:
      write_integer(out, value.as_int16());
      return {};
    case Value::Kind::kInt32:
      write_integer(out, value.as_int32());
      return {};
    case Value::Kind::kInt64:
      write_integer(out, value.as_int64());
      return {};
    case Value::Kind::kFloat32:
      write_floating(out, value.as_float32());
      return {};
    case Value::Kind::kFloat64:
      write_floating(out, value.as_float64());
      return {};
    case Value::Kind::kString:
      write_string(out, value.as_string());
      return {};
    case Value::Kind::kBytes:
      write_bytes(out, value.as_bytes());
      return {};
    case Value::Kind::kDecimal:
      write_decimal(out, value.as_decimal(), format);
      return {};
    case Value::Kind::kStruct:
      return write_struct(value.as_struct(), format, out);
    case Value::Kind::kMap:
      return write_map(nullptr, value.as_map(), format, out);
    case Value::Kind::kArray: {
      out += '[';
      bool first = true;
      for (const auto& e : value.as_array()) {
        if (!first) out += ',';
        first = false;
        RMQC_RETURN_IF_ERROR(write_inferred(e, format, out));
      }
      out += ']';
      return {};
    }
  }
  return {};
}

template <typename T>
Result<void> write_checked_integer(const Schema& schema, const Value& value, std::string& out) {
  std::int64_t wide = 0;
  if (!value.to_int64(wide)) return mismatch(schema, value);
  if (wide < std::numeric_limits<T>::min() || wide > std::numeric_limits<T>::max()) {
    return Error(ErrorCode::kSchemaMismatch, std::to_string(wide) + " does not fit in " +
                                                 std::string(field_type_name(schema.type())));
  }
  write_integer(out, wide);
  return {};
}

Result<void> write_value(const Schema* schema, const Value& value, DecimalFormat format,
                         std::string& out) {
  if (!schema) return write_inferred(value, format, out);
  if (value.is_null()) {
    if (const Value* d = schema->default_value(); d && !d->is_null()) {
      return write_value(schema, *d, format, out);
    }
    if (schema->optional()) {
      out += "null";
      return {};
    }
    return Error(ErrorCode::kSchemaMismatch,
                 "null value for required " + std::string(field_type_name(schema->type())));
  }
  switch (schema->type()) {
    case FieldType::kInt8:
      return write_checked_integer<std::int8_t>(*schema, value, out);
    case FieldType::kInt16:
      return write_checked_integer<std::int16_t>(*schema, value, out);
    case FieldType::kInt32:
      return write_checked_integer<std::int32_t>(*schema, value, out);
    case FieldType::kInt64:
      return write_checked_integer<std::int64_t>(*schema, value, out);
    case FieldType::kFloat32:
    case FieldType::kFloat64: {
      if (const auto* d = value.get_if<double>()) {
        write_floating(out, *d);
      } else if (const auto* f = value.get_if<float>()) {
        write_floating(out, *f);
      } else {
        return mismatch(*schema, value);
      }
      return {};
    }
    case FieldType::kBoolean:
      if (const auto* b = value.get_if<bool>()) {
        out += *b ? "true" : "false";
        return {};
      }
      return mismatch(*schema, value);
    case FieldType::kString:
      if (const auto* s = value.get_if<std::string>()) {
        write_string(out, *s);
        return {};
      }
      return mismatch(*schema, value);
    case FieldType::kBytes:
      if (const auto* b = value.get_if<Bytes>()) {
        write_bytes(out, *b);
        return {};
      }
      if (const auto* d = value.get_if<Decimal>()) {
        write_decimal(out, *d, format);
        return {};
      }
      return mismatch(*schema, value);
    case FieldType::kArray: {
      const auto* list = value.get_if<ValueList>();
      if (!list) return mismatch(*schema, value);
      out += '[';
      for (std::size_t i = 0; i < list->size(); ++i) {
        if (i) out += ',';
        if (auto r = write_value(schema->value_schema().get(), (*list)[i], format, out); !r.ok()) {
          return std::move(r).error().with_context("element " + std::to_string(i));
        }
      }
      out += ']';
      return {};
    }
    case FieldType::kMap: {
      const auto* map = value.get_if<ValueMap>();
      if (!map) return mismatch(*schema, value);
      return write_map(schema, *map, format, out);
    }
    case FieldType::kStruct: {
      const Struct* s = value.get_struct_if();
      if (!s) return mismatch(*schema, value);
      if (s->schema().get() != schema && !s->schema()->equals(*schema)) {
        return Error(ErrorCode::kSchemaMismatch, "struct schema " + s->schema()->to_string() +
                                                     " does not match " + schema->to_string());
      }
      return write_struct(*s, format, out);
    }
  }
  return {};
}

Result<void> write_schema_body(const Schema& schema, DecimalFormat format, std::string& out,
                               const std::string* field_name) {
  out += '{';
  if (field_name) {
    out += "\"field\":";
    write_string(out, *field_name);
    out += ',';
  }
  out += "\"type\":\"";
  out += json_type_name(schema.type());
  out += '"';
  switch (schema.type()) {
    case FieldType::kArray:
      out += ",\"items\":";
      RMQC_RETURN_IF_ERROR(write_schema_body(*schema.value_schema(), format, out, nullptr));
      break;
    case FieldType::kMap:
      out += ",\"keys\":";
      RMQC_RETURN_IF_ERROR(write_schema_body(*schema.key_schema(), format, out, nullptr));
      out += ",\"values\":";
      RMQC_RETURN_IF_ERROR(write_schema_body(*schema.value_schema(), format, out, nullptr));
      break;
    case FieldType::kStruct: {
      out += ",\"fields\":[";
      bool first = true;
      for (const auto& f : schema.fields()) {
        if (!first) out += ',';
        first = false;
        RMQC_RETURN_IF_ERROR(write_schema_body(*f.schema, format, out, &f.name));
      }
      out += ']';
      break;
    }
    default:
      break;
  }
  out += schema.optional() ? ",\"optional\":true" : ",\"optional\":false";
  if (!schema.name().empty()) {
    out += ",\"name\":";
    write_string(out, schema.name());
  }
  if (schema.version()) {
    out += ",\"version\":";
    write_integer(out, *schema.version());
  }
  if (!schema.doc().empty()) {
    out += ",\"doc\":";
    write_string(out, schema.doc());
  }
  if (!schema.parameters().empty()) {
    out += ",\"parameters\":{";
    bool first = true;
    for (const auto& [k, v] : schema.parameters()) {
      if (!first) out += ',';
      first = false;
      write_string(out, k);
      out += ':';
      write_string(out, v);
    }
    out += '}';
  }
  if (const Value* d = schema.default_value(); d && !d->is_null()) {
    out += ",\"default\":";
    if (auto r = write_value(&schema, *d, format, out); !r.ok()) {
      return std::move(r).error().with_context("schema default");
    }
  }
  out += '}';
  return {};
}

}  // namespace

ConfigDef JsonConverter::config_def() const {
  ConfigDef def;
  def.define("schemas.enable", ConfigDef::Type::kBoolean, "true", ConfigDef::Importance::kHigh,
             "Write and expect the {\"schema\":...,\"payload\":...} envelope; false = bare JSON.")
      .define("schemas.cache.size", ConfigDef::Type::kInt, std::to_string(kDefaultCacheSize),
              ConfigDef::Importance::kLow, "Schemas cached in each direction.",
              validators::at_least(1))
      .define("decimal.format", ConfigDef::Type::kString, "BASE64", ConfigDef::Importance::kLow,
              "How Decimal values are written: BASE64 (of the unscaled bytes) or NUMERIC.",
              validators::one_of({"BASE64", "NUMERIC"}));
  return def;
}

Result<void> JsonConverter::configure(const KeyValue& config, bool is_key) {
  (void)is_key;
  RMQC_ASSIGN_OR_RETURN(KeyValue parsed, config_def().parse(config));
  schemas_enable_ = parsed.get_bool("schemas.enable");
  std::string format = parsed.get_string("decimal.format");
  decimal_format_ = (format == "NUMERIC" || format == "numeric") ? DecimalFormat::kNumeric
                                                                 : DecimalFormat::kBase64;
  auto cache_size = static_cast<std::size_t>(parsed.get_int("schemas.cache.size"));
  encode_cache_.set_capacity(cache_size);
  set_decode_cache_capacity(cache_size);
  return {};
}

Result<void> JsonConverter::write_schema(const Schema& schema, DecimalFormat format,
                                         std::string& out) {
  return write_schema_body(schema, format, out, nullptr);
}

Result<const std::string*> JsonConverter::schema_json(const SchemaPtr& schema) {
  if (auto* hit = encode_cache_.find(schema.get())) return &hit->json;
  std::string json;
  RMQC_RETURN_IF_ERROR(write_schema(*schema, decimal_format_, json));
  return &encode_cache_.put(schema.get(), CachedSchemaJson{schema, std::move(json)}).json;
}

Result<void> JsonConverter::from_connect_data(std::string_view, const SchemaPtr& schema,
                                              const Value& value, std::string& out) {
  out.clear();
  if (!schemas_enable_) return write_value(schema.get(), value, decimal_format_, out);
  if (schema) {
    RMQC_ASSIGN_OR_RETURN(const std::string* schema_text, schema_json(schema));
    out.reserve(schema_text->size() + 64);
    out += "{\"schema\":";
    out += *schema_text;
  } else {
    out += "{\"schema\":null";
  }
  out += ",\"payload\":";
  RMQC_RETURN_IF_ERROR(write_value(schema.get(), value, decimal_format_, out));
  out += '}';
  return {};
}

}  // namespace rmqc::converters
