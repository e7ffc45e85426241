// JsonConverter: configuration and the connect-data -> JSON direction.
#include "rmqc/api/logical.h"
#include "rmqc/api/struct.h"

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

// One encoding: the output cursor, the decimal format and, after a write returned false, the
// error (with the path of contexts added on the way out). The writers return bool rather than
// Result<void> so that a value written costs no Error constructed and destroyed.
struct Encoder {
  using FieldKeyCache = JsonConverter::FieldKeyCache;
  json::Out out;
  DecimalFormat format;
  FieldKeyCache* keys;  // nullptr: field names escaped as they are written
  Error error{ErrorCode::kOk, {}};

  Encoder(std::string& text, DecimalFormat decimal_format, FieldKeyCache* key_cache = nullptr)
      : out(text), format(decimal_format), keys(key_cache) {}

  bool fail(Error e) {
    error = std::move(e);
    return false;
  }
  bool fail_with_context(std::string_view context) {
    error.with_context(context);
    return false;
  }
  Result<void> result() && {
    if (error.code() == ErrorCode::kOk) return {};
    return std::move(error);
  }
};

void write_base64(json::Out& out, const std::uint8_t* data, std::size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char* p = out.room(4 * ((size + 2) / 3));
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                            std::uint32_t{data[i + 2]};
    p[0] = kAlphabet[(v >> 18) & 63];
    p[1] = kAlphabet[(v >> 12) & 63];
    p[2] = kAlphabet[(v >> 6) & 63];
    p[3] = kAlphabet[v & 63];
    p += 4;
  }
  if (i < size) {
    const bool two = i + 1 < size;
    const std::uint32_t v =
        (std::uint32_t{data[i]} << 16) | (two ? std::uint32_t{data[i + 1]} << 8 : 0);
    p[0] = kAlphabet[(v >> 18) & 63];
    p[1] = kAlphabet[(v >> 12) & 63];
    p[2] = two ? kAlphabet[(v >> 6) & 63] : '=';
    p[3] = '=';
    p += 4;
  }
  out.set_cursor(p);
}

void write_bytes(json::Out& out, const Bytes& bytes) {
  out.put('"');
  write_base64(out, bytes.data(), bytes.size());
  out.put('"');
}

void write_decimal(json::Out& out, const Decimal& d, DecimalFormat format) {
  if (format == DecimalFormat::kNumeric) {
    out.append(d.to_string());
  } else {
    write_bytes(out, d.unscaled);
  }
}

bool write_value(Encoder& e, const Schema* schema, const Value& value);

// Maps whose keys are all strings become objects; others become [[key, value], ...].
bool write_map(Encoder& e, const Schema* schema, const ValueMap& map) {
  bool object_form = schema ? schema->key_schema()->type() == FieldType::kString
                            : std::all_of(map.begin(), map.end(), [](const auto& entry) {
                                return entry.first.kind() == Value::Kind::kString;
                              });
  const Schema* key_schema = schema ? schema->key_schema().get() : nullptr;
  const Schema* value_schema = schema ? schema->value_schema().get() : nullptr;
  e.out.put(object_form ? '{' : '[');
  bool first = true;
  for (const auto& [k, v] : map) {
    if (!first) e.out.put(',');
    first = false;
    if (object_form) {
      const auto* key = k.get_if<std::string>();
      if (!key) return e.fail(mismatch(*key_schema, k).with_context("map key"));
      write_string(e.out, *key);
      e.out.put(':');
    } else {
      e.out.put('[');
      if (!write_value(e, key_schema, k)) return false;
      e.out.put(',');
    }
    if (!write_value(e, value_schema, v)) return e.fail_with_context("map value");
    if (!object_form) e.out.put(']');
  }
  e.out.put(object_form ? '}' : ']');
  return true;
}

bool write_struct(Encoder& e, const Struct& s) {
  const auto& fields = s.schema()->fields();
  const auto& values = s.values();
  if (e.keys != nullptr && !fields.empty()) {
    const auto& keys = e.keys->get(s.schema());
    std::uint32_t begin = 0;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      e.out.append(keys.text.data() + begin, keys.ends[i] - begin);
      begin = keys.ends[i];
      if (!write_value(e, fields[i].schema.get(), values[i])) {
        return e.fail_with_context("field '" + fields[i].name + "'");
      }
    }
    e.out.put('}');
    return true;
  }
  e.out.put('{');
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) e.out.put(',');
    write_string(e.out, fields[i].name);
    e.out.put(':');
    if (!write_value(e, fields[i].schema.get(), values[i])) {
      return e.fail_with_context("field '" + fields[i].name + "'");
    }
  }
  e.out.put('}');
  return true;
}

// Schemaless: the value's own kind decides.
bool write_inferred(Encoder& e, const Value& value) {
  json::Out& out = e.out;
  switch (value.kind()) {
    case Value::Kind::kNull:
      out.literal("null");
      return true;
    case Value::Kind::kBoolean:
      if (value.as_bool()) {
        out.literal("true");
      } else {
        out.literal("false");
      }
      return true;
    case Value::Kind::kInt8:
      write_integer(out, int{value.as_int8()});
      return true;
    case Value::Kind::kInt16:
      write_integer(out, value.as_int16());
      return true;
    case Value::Kind::kInt32:
      write_integer(out, value.as_int32());
      return true;
    case Value::Kind::kInt64:
      write_integer(out, value.as_int64());
      return true;
    case Value::Kind::kFloat32:
      write_floating(out, value.as_float32());
      return true;
    case Value::Kind::kFloat64:
      write_floating(out, value.as_float64());
      return true;
    case Value::Kind::kString:
      write_string(out, value.as_string());
      return true;
    case Value::Kind::kBytes:
      write_bytes(out, value.as_bytes());
      return true;
    case Value::Kind::kDecimal:
      write_decimal(out, value.as_decimal(), e.format);
      return true;
    case Value::Kind::kStruct:
      return write_struct(e, value.as_struct());
    case Value::Kind::kMap:
      return write_map(e, nullptr, value.as_map());
    case Value::Kind::kArray: {
      out.put('[');
      bool first = true;
      for (const auto& element : value.as_array()) {
        if (!first) out.put(',');
        first = false;
        if (!write_inferred(e, element)) return false;
      }
      out.put(']');
      return true;
    }
  }
  return true;
}

template <typename T>
bool write_checked_integer(Encoder& e, const Schema& schema, const Value& value) {
  std::int64_t wide = 0;
  if (!value.to_int64(wide)) return e.fail(mismatch(schema, value));
  if (wide < std::numeric_limits<T>::min() || wide > std::numeric_limits<T>::max()) {
    return e.fail(Error(
        ErrorCode::kSchemaMismatch,
        std::to_string(wide) + " does not fit in " + std::string(field_type_name(schema.type()))));
  }
  write_integer(e.out, wide);
  return true;
}

bool write_value(Encoder& e, const Schema* schema, const Value& value) {
  if (!schema) return write_inferred(e, value);
  if (value.is_null()) {
    if (const Value* d = schema->default_value(); d && !d->is_null()) {
      return write_value(e, schema, *d);
    }
    if (schema->optional()) {
      e.out.literal("null");
      return true;
    }
    return e.fail(Error(ErrorCode::kSchemaMismatch,
                        "null value for required " + std::string(field_type_name(schema->type()))));
  }
  switch (schema->type()) {
    case FieldType::kInt8:
      return write_checked_integer<std::int8_t>(e, *schema, value);
    case FieldType::kInt16:
      return write_checked_integer<std::int16_t>(e, *schema, value);
    case FieldType::kInt32:
      return write_checked_integer<std::int32_t>(e, *schema, value);
    case FieldType::kInt64:
      return write_checked_integer<std::int64_t>(e, *schema, value);
    case FieldType::kFloat32:
    case FieldType::kFloat64: {
      if (const auto* d = value.get_if<double>()) {
        write_floating(e.out, *d);
      } else if (const auto* f = value.get_if<float>()) {
        write_floating(e.out, *f);
      } else {
        return e.fail(mismatch(*schema, value));
      }
      return true;
    }
    case FieldType::kBoolean:
      if (const auto* b = value.get_if<bool>()) {
        if (*b) {
          e.out.literal("true");
        } else {
          e.out.literal("false");
        }
        return true;
      }
      return e.fail(mismatch(*schema, value));
    case FieldType::kString:
      if (const auto* s = value.get_if<std::string>()) {
        write_string(e.out, *s);
        return true;
      }
      return e.fail(mismatch(*schema, value));
    case FieldType::kBytes:
      if (const auto* b = value.get_if<Bytes>()) {
        write_bytes(e.out, *b);
        return true;
      }
      if (const auto* d = value.get_if<Decimal>()) {
        write_decimal(e.out, *d, e.format);
        return true;
      }
      return e.fail(mismatch(*schema, value));
    case FieldType::kArray: {
      const auto* list = value.get_if<ValueList>();
      if (!list) return e.fail(mismatch(*schema, value));
      e.out.put('[');
      for (std::size_t i = 0; i < list->size(); ++i) {
        if (i) e.out.put(',');
        if (!write_value(e, schema->value_schema().get(), (*list)[i])) {
          return e.fail_with_context("element " + std::to_string(i));
        }
      }
      e.out.put(']');
      return true;
    }
    case FieldType::kMap: {
      const auto* map = value.get_if<ValueMap>();
      if (!map) return e.fail(mismatch(*schema, value));
      return write_map(e, schema, *map);
    }
    case FieldType::kStruct: {
      const Struct* s = value.get_struct_if();
      if (!s) return e.fail(mismatch(*schema, value));
      if (s->schema().get() != schema && !s->schema()->equals(*schema)) {
        return e.fail(
            Error(ErrorCode::kSchemaMismatch, "struct schema " + s->schema()->to_string() +
                                                  " does not match " + schema->to_string()));
      }
      return write_struct(e, *s);
    }
  }
  return true;
}

bool write_schema_body(Encoder& e, const Schema& schema, const std::string* field_name) {
  json::Out& out = e.out;
  out.put('{');
  if (field_name) {
    out.literal("\"field\":");
    write_string(out, *field_name);
    out.put(',');
  }
  out.literal("\"type\":\"");
  out.append(json_type_name(schema.type()));
  out.put('"');
  switch (schema.type()) {
    case FieldType::kArray:
      out.literal(",\"items\":");
      if (!write_schema_body(e, *schema.value_schema(), nullptr)) return false;
      break;
    case FieldType::kMap:
      out.literal(",\"keys\":");
      if (!write_schema_body(e, *schema.key_schema(), nullptr)) return false;
      out.literal(",\"values\":");
      if (!write_schema_body(e, *schema.value_schema(), nullptr)) return false;
      break;
    case FieldType::kStruct: {
      out.literal(",\"fields\":[");
      bool first = true;
      for (const auto& f : schema.fields()) {
        if (!first) out.put(',');
        first = false;
        if (!write_schema_body(e, *f.schema, &f.name)) return false;
      }
      out.put(']');
      break;
    }
    default:
      break;
  }
  if (schema.optional()) {
    out.literal(",\"optional\":true");
  } else {
    out.literal(",\"optional\":false");
  }
  if (!schema.name().empty()) {
    out.literal(",\"name\":");
    write_string(out, schema.name());
  }
  if (schema.version()) {
    out.literal(",\"version\":");
    write_integer(out, *schema.version());
  }
  if (!schema.doc().empty()) {
    out.literal(",\"doc\":");
    write_string(out, schema.doc());
  }
  if (!schema.parameters().empty()) {
    out.literal(",\"parameters\":{");
    bool first = true;
    for (const auto& [k, v] : schema.parameters()) {
      if (!first) out.put(',');
      first = false;
      write_string(out, k);
      out.put(':');
      write_string(out, v);
    }
    out.put('}');
  }
  if (const Value* d = schema.default_value(); d && !d->is_null()) {
    out.literal(",\"default\":");
    if (!write_value(e, &schema, *d)) return e.fail_with_context("schema default");
  }
  out.put('}');
  return true;
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
  field_keys_.set_capacity(cache_size);
  set_decode_cache_capacity(cache_size);
  return {};
}

Result<void> JsonConverter::write_schema(const Schema& schema, DecimalFormat format,
                                         std::string& out) {
  Encoder e(out, format);
  write_schema_body(e, schema, nullptr);
  return std::move(e).result();
}

const JsonConverter::FieldKeys& JsonConverter::FieldKeyCache::get(const SchemaPtr& schema) {
  for (const auto& [cached, keys] : recent_) {
    if (cached == schema.get()) return *keys;
  }
  auto it = all_.find(schema.get());
  if (it == all_.end()) {
    if (all_.size() >= capacity_) {  // schemas come and go with DDL: start over when full
      all_.clear();
      recent_ = {};
    }
    FieldKeys keys;
    keys.schema = schema;
    std::string scratch;
    for (const auto& f : schema->fields()) {
      scratch.clear();
      scratch += keys.ends.empty() ? '{' : ',';
      write_string(scratch, f.name);
      scratch += ':';
      keys.text += scratch;
      keys.ends.push_back(static_cast<std::uint32_t>(keys.text.size()));
    }
    it = all_.emplace(schema.get(), std::move(keys)).first;
  }
  recent_[next_recent_] = {schema.get(), &it->second};
  next_recent_ = (next_recent_ + 1) % kRecent;
  return it->second;
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
  const std::string* schema_text = nullptr;
  if (schemas_enable_ && schema) {
    RMQC_ASSIGN_OR_RETURN(schema_text, schema_json(schema));
    out.reserve(schema_text->size() + 64);
  }
  Encoder e(out, decimal_format_, &field_keys_);
  if (!schemas_enable_) {
    write_value(e, schema.get(), value);
    return std::move(e).result();
  }
  if (schema_text) {
    e.out.literal("{\"schema\":");
    e.out.append(*schema_text);
  } else {
    e.out.literal("{\"schema\":null");
  }
  e.out.literal(",\"payload\":");
  if (write_value(e, schema.get(), value)) e.out.put('}');
  return std::move(e).result();
}

}  // namespace rmqc::converters
