// JsonConverter: the JSON -> connect-data direction. simdjson's DOM parser validates the whole
// document (with the best SIMD kernel for the CPU, picked at run time) and the payload is walked
// from its tape straight into Values.
#include "rmqc/api/logical.h"
#include "rmqc/api/struct.h"

#include "base/base64.h"
#include "converters/json/json_converter.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <simdjson.h>

namespace rmqc::converters {
namespace {

namespace dom = simdjson::dom;
using DecimalFormat = JsonConverter::DecimalFormat;

constexpr std::size_t kDefaultCacheSize = 1000;
constexpr std::string_view kEnvelopeHelp =
    "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields; to read plain "
    "JSON set schemas.enable=false in the converter configuration";

Error json_error(simdjson::error_code code, std::string_view what) {
  return Error(ErrorCode::kParseError,
               "malformed JSON " + std::string(what) + ": " + simdjson::error_message(code));
}

Error type_error(const Schema& schema, std::string_view got) {
  std::string expected(field_type_name(schema.type()));
  if (!schema.name().empty()) expected += " (" + schema.name() + ")";
  return Error(ErrorCode::kSchemaMismatch,
               "expected " + expected + ", got JSON " + std::string(got));
}

// Null handling shared by present-but-null and absent fields: default, else null if optional.
Result<Value> null_for(const Schema& schema) {
  if (const Value* d = schema.default_value()) return *d;
  if (schema.optional()) return Value();
  return Error(ErrorCode::kSchemaMismatch,
               "null value for required " + std::string(field_type_name(schema.type())));
}

std::string_view json_type_label(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY:
      return "array";
    case dom::element_type::OBJECT:
      return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:
      return "number";
    case dom::element_type::STRING:
      return "string";
    case dom::element_type::BOOL:
      return "boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "value";
}

Result<Value> decode_schemaless(dom::element e);
Result<Value> decode_with_schema(dom::element e, const SchemaPtr& schema);

template <typename T>
Result<Value> decode_integer(dom::element e, const Schema& schema) {
  std::int64_t n = 0;
  if (e.type() != dom::element_type::INT64 || e.get_int64().get(n)) {
    if (e.is_number()) return type_error(schema, "number that is not a 64-bit integer");
    return type_error(schema, json_type_label(e.type()));
  }
  if (n < std::numeric_limits<T>::min() || n > std::numeric_limits<T>::max()) {
    return Error(ErrorCode::kSchemaMismatch, std::to_string(n) + " does not fit in " +
                                                 std::string(field_type_name(schema.type())));
  }
  return Value(static_cast<T>(n));
}

template <typename T>
Result<Value> decode_floating(dom::element e, const Schema& schema) {
  std::string_view s;
  if (!e.get_string().get(s)) {  // NaN and infinities travel as strings
    if (s == "NaN") return Value(std::numeric_limits<T>::quiet_NaN());
    if (s == "Infinity") return Value(std::numeric_limits<T>::infinity());
    if (s == "-Infinity") return Value(-std::numeric_limits<T>::infinity());
    return Error(ErrorCode::kSchemaMismatch,
                 "expected a number, got the string \"" + std::string(s) + "\"");
  }
  double d = 0;
  if (e.get_double().get(d)) return type_error(schema, json_type_label(e.type()));
  return Value(static_cast<T>(d));
}

Result<Value> decode_decimal(dom::element e, const Schema& schema) {
  if (e.is_number()) {
    // decimal.format=NUMERIC. The DOM keeps numbers as binary; integers convert exactly, other
    // numbers through their shortest round-trip form (what the writer produced from the digits).
    std::string text;
    if (e.is_int64()) {
      text = std::to_string(std::int64_t(e));
    } else if (e.is_uint64()) {
      text = std::to_string(std::uint64_t(e));
    } else {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, double(e));
      (void)ec;
      text.assign(buf, end);
    }
    Decimal d;
    if (!Decimal::parse(text, d)) {
      return Error(ErrorCode::kParseError, "invalid decimal number " + text);
    }
    return Value(std::move(d));
  }
  std::string_view text;
  if (e.get_string().get(text)) return type_error(schema, json_type_label(e.type()));
  auto bytes = base64_decode(text);
  if (!bytes) return Error(ErrorCode::kParseError, "Decimal value is not valid base64");
  if (bytes->empty()) return Error(ErrorCode::kParseError, "Decimal value has no bytes");
  return Value(Decimal{std::move(*bytes), logical::decimal_scale(schema)});
}

Result<Value> decode_struct(dom::object obj, const SchemaPtr& schema) {
  Struct s(schema);
  auto& values = s.values();
  for (auto [key, fv] : obj) {
    const Field* f = schema->field(key);
    if (!f) continue;  // fields the schema does not know are ignored, as the Java converter does
    auto decoded = decode_with_schema(fv, f->schema);
    if (!decoded.ok()) return std::move(decoded).error().with_context("field '" + f->name + "'");
    values[f->index] = std::move(decoded).value();
  }
  // Absent fields take their default, or stay null when optional.
  const auto& fields = schema->fields();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (!values[i].is_null()) continue;
    auto filled = null_for(*fields[i].schema);
    if (!filled.ok()) {
      return std::move(filled).error().with_context("field '" + fields[i].name + "'");
    }
    values[i] = std::move(filled).value();
  }
  return Value(std::move(s));
}

Result<Value> decode_array(dom::array arr, const SchemaPtr& element_schema) {
  ValueList list;
  list.reserve(arr.size());
  for (dom::element ev : arr) {
    auto decoded = element_schema ? decode_with_schema(ev, element_schema) : decode_schemaless(ev);
    if (!decoded.ok()) {
      return std::move(decoded).error().with_context("element " + std::to_string(list.size()));
    }
    list.push_back(std::move(decoded).value());
  }
  return Value(std::move(list));
}

Result<Value> decode_map(dom::element e, const Schema& schema) {
  ValueMap map;
  dom::object obj;
  if (schema.key_schema()->type() == FieldType::kString && !e.get_object().get(obj)) {
    map.reserve(obj.size());
    for (auto [key, fv] : obj) {
      auto decoded = decode_with_schema(fv, schema.value_schema());
      if (!decoded.ok()) {
        return std::move(decoded).error().with_context("map entry '" + std::string(key) + "'");
      }
      map.emplace_back(Value(key), std::move(decoded).value());
    }
    return Value(std::move(map));
  }
  dom::array entries;
  if (e.get_array().get(entries)) return type_error(schema, json_type_label(e.type()));
  map.reserve(entries.size());
  for (dom::element entry : entries) {  // [[key, value], ...]
    dom::array pair;
    if (entry.get_array().get(pair) || pair.size() != 2) {
      return Error(ErrorCode::kSchemaMismatch, "map entries must be [key, value] arrays");
    }
    auto key = decode_with_schema(pair.at(0).value_unsafe(), schema.key_schema());
    if (!key.ok()) return std::move(key).error().with_context("map key");
    auto value = decode_with_schema(pair.at(1).value_unsafe(), schema.value_schema());
    if (!value.ok()) return std::move(value).error().with_context("map value");
    map.emplace_back(std::move(key).value(), std::move(value).value());
  }
  return Value(std::move(map));
}

Result<Value> decode_with_schema(dom::element e, const SchemaPtr& schema) {
  if (e.is_null()) return null_for(*schema);
  switch (schema->type()) {
    case FieldType::kInt8:
      return decode_integer<std::int8_t>(e, *schema);
    case FieldType::kInt16:
      return decode_integer<std::int16_t>(e, *schema);
    case FieldType::kInt32:
      return decode_integer<std::int32_t>(e, *schema);
    case FieldType::kInt64:
      return decode_integer<std::int64_t>(e, *schema);
    case FieldType::kFloat32:
      return decode_floating<float>(e, *schema);
    case FieldType::kFloat64:
      return decode_floating<double>(e, *schema);
    case FieldType::kBoolean: {
      bool b = false;
      if (e.get_bool().get(b)) return type_error(*schema, json_type_label(e.type()));
      return Value(b);
    }
    case FieldType::kString: {
      std::string_view s;
      if (e.get_string().get(s)) return type_error(*schema, json_type_label(e.type()));
      return Value(s);
    }
    case FieldType::kBytes: {
      if (logical::logical_type_of(*schema) == logical::LogicalType::kDecimal) {
        return decode_decimal(e, *schema);
      }
      std::string_view s;
      if (e.get_string().get(s)) return type_error(*schema, json_type_label(e.type()));
      auto bytes = base64_decode(s);
      if (!bytes) return Error(ErrorCode::kParseError, "BYTES value is not valid base64");
      return Value(std::move(*bytes));
    }
    case FieldType::kArray: {
      dom::array arr;
      if (e.get_array().get(arr)) return type_error(*schema, json_type_label(e.type()));
      return decode_array(arr, schema->value_schema());
    }
    case FieldType::kMap:
      return decode_map(e, *schema);
    case FieldType::kStruct: {
      dom::object obj;
      if (e.get_object().get(obj)) return type_error(*schema, json_type_label(e.type()));
      return decode_struct(obj, schema);
    }
  }
  return Error(ErrorCode::kInternal, "unhandled schema type");
}

Result<Value> decode_schemaless(dom::element e) {
  switch (e.type()) {
    case dom::element_type::NULL_VALUE:
      return Value();
    case dom::element_type::BOOL:
      return Value(bool(e));
    case dom::element_type::STRING:
      return Value(std::string_view(e));
    case dom::element_type::INT64:
      return Value(std::int64_t(e));
    case dom::element_type::UINT64:
      return Value(static_cast<double>(std::uint64_t(e)));
    case dom::element_type::DOUBLE:
      return Value(double(e));
    case dom::element_type::ARRAY:
      return decode_array(dom::array(e), nullptr);
    case dom::element_type::OBJECT: {
      dom::object obj(e);
      ValueMap map;
      map.reserve(obj.size());
      for (auto [key, fv] : obj) {
        auto decoded = decode_schemaless(fv);
        if (!decoded.ok()) {
          return std::move(decoded).error().with_context("key '" + std::string(key) + "'");
        }
        map.emplace_back(Value(key), std::move(decoded).value());
      }
      return Value(std::move(map));
    }
  }
  return Error(ErrorCode::kInternal, "unhandled JSON type");
}

// The extent of the JSON value starting at text[pos] in a document already known to be valid:
// strings are skipped with their escapes, brackets are counted.
std::size_t value_end(std::string_view text, std::size_t pos) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = pos; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

// The raw text of the envelope's schema object, for the schema cache. Fast path for the layout
// every writer produces ({"schema":{...},"payload":...}): the text up to the first ,"payload":
// is the schema exactly when it is already a cached key, because a cached key is a complete
// object and an object's extent depends only on its own bytes. Otherwise scan for its extent.
template <typename Cache>
std::string_view raw_schema_text(std::string_view doc, Cache& cache) {
  constexpr std::string_view kPrefix = "{\"schema\":{";
  constexpr std::string_view kPayloadKey = ",\"payload\":";
  if (doc.starts_with(kPrefix)) {
    std::size_t start = kPrefix.size() - 1;
    // Most streams carry one schema: try the last one before hashing anything.
    if (const std::string& last = cache.last_key();
        !last.empty() && doc.compare(start, last.size(), last) == 0) {
      return doc.substr(start, last.size());
    }
    std::size_t end = doc.find(kPayloadKey, start);
    if (end != std::string_view::npos && cache.find(doc.substr(start, end - start))) {
      return doc.substr(start, end - start);
    }
  }
  // Slow path: locate "schema" at depth 1 by walking the top-level object.
  std::size_t i = doc.find('{');
  if (i == std::string_view::npos) return {};
  ++i;
  while (i < doc.size()) {
    while (i < doc.size() &&
           (doc[i] == ' ' || doc[i] == '\n' || doc[i] == '\t' || doc[i] == '\r' || doc[i] == ','))
      ++i;
    if (i >= doc.size() || doc[i] != '"') return {};
    std::size_t key_end = i + 1;
    while (key_end < doc.size() && doc[key_end] != '"') key_end += doc[key_end] == '\\' ? 2 : 1;
    std::string_view key = doc.substr(i + 1, key_end - i - 1);
    i = doc.find(':', key_end) + 1;
    while (i < doc.size() && (doc[i] == ' ' || doc[i] == '\n' || doc[i] == '\t' || doc[i] == '\r'))
      ++i;
    if (i >= doc.size()) return {};
    std::size_t end;
    if (doc[i] == '{' || doc[i] == '[') {
      end = value_end(doc, i);
    } else if (doc[i] == '"') {
      end = i + 1;
      while (end < doc.size() && doc[end] != '"') end += doc[end] == '\\' ? 2 : 1;
      ++end;
    } else {
      end = doc.find_first_of(",}", i);
    }
    if (end == std::string_view::npos || end > doc.size()) return {};
    if (key == "schema") return doc.substr(i, end - i);
    i = end;
  }
  return {};
}

// --- schema JSON -> Schema (cache misses only, so the DOM API is fine here) ---

Result<FieldType> parse_type_name(std::string_view name) {
  static constexpr std::pair<std::string_view, FieldType> kTypes[] = {
      {"boolean", FieldType::kBoolean}, {"int8", FieldType::kInt8},
      {"int16", FieldType::kInt16},     {"int32", FieldType::kInt32},
      {"int64", FieldType::kInt64},     {"float", FieldType::kFloat32},
      {"double", FieldType::kFloat64},  {"bytes", FieldType::kBytes},
      {"string", FieldType::kString},   {"array", FieldType::kArray},
      {"map", FieldType::kMap},         {"struct", FieldType::kStruct}};
  for (auto [n, t] : kTypes) {
    if (n == name) return t;
  }
  return Error(ErrorCode::kParseError, "unknown schema type \"" + std::string(name) + "\"");
}

Result<SchemaPtr> schema_from_dom(simdjson::dom::element e) {
  simdjson::dom::object obj;
  if (e.get_object().get(obj))
    return Error(ErrorCode::kParseError, "a schema must be a JSON object");
  std::string_view type_name;
  if (obj["type"].get_string().get(type_name)) {
    return Error(ErrorCode::kParseError, "schema has no \"type\" string");
  }
  RMQC_ASSIGN_OR_RETURN(FieldType type, parse_type_name(type_name));
  std::optional<SchemaBuilder> builder;
  switch (type) {
    case FieldType::kArray: {
      simdjson::dom::element items;
      if (obj["items"].get(items))
        return Error(ErrorCode::kParseError, "array schema has no \"items\"");
      RMQC_ASSIGN_OR_RETURN(SchemaPtr item_schema, schema_from_dom(items));
      builder.emplace(SchemaBuilder::array(std::move(item_schema)));
      break;
    }
    case FieldType::kMap: {
      simdjson::dom::element keys;
      simdjson::dom::element values;
      if (obj["keys"].get(keys) || obj["values"].get(values)) {
        return Error(ErrorCode::kParseError, "map schema needs \"keys\" and \"values\"");
      }
      RMQC_ASSIGN_OR_RETURN(SchemaPtr key_schema, schema_from_dom(keys));
      RMQC_ASSIGN_OR_RETURN(SchemaPtr value_schema, schema_from_dom(values));
      builder.emplace(SchemaBuilder::map(std::move(key_schema), std::move(value_schema)));
      break;
    }
    case FieldType::kStruct: {
      builder.emplace(SchemaBuilder::struct_());
      simdjson::dom::array fields;
      if (obj["fields"].get_array().get(fields)) {
        return Error(ErrorCode::kParseError, "struct schema's \"fields\" is not an array");
      }
      for (auto f : fields) {
        std::string_view name;
        if (f["field"].get_string().get(name)) {
          return Error(ErrorCode::kParseError, "struct field has no \"field\" name");
        }
        auto field_schema = schema_from_dom(f);
        if (!field_schema.ok()) {
          return std::move(field_schema).error().with_context("field '" + std::string(name) + "'");
        }
        try {
          builder->field(std::string(name), std::move(field_schema).value());
        } catch (const std::exception& ex) {
          return Error(ErrorCode::kParseError, ex.what());
        }
      }
      break;
    }
    default:
      builder.emplace(type);
      break;
  }
  bool optional = false;
  if (!obj["optional"].get_bool().get(optional) && optional) builder->optional();
  std::string_view text;
  if (!obj["name"].get_string().get(text)) builder->name(std::string(text));
  if (!obj["doc"].get_string().get(text)) builder->doc(std::string(text));
  std::int64_t version = 0;
  if (!obj["version"].get_int64().get(version))
    builder->version(static_cast<std::int32_t>(version));
  simdjson::dom::object params;
  if (!obj["parameters"].get_object().get(params)) {
    for (auto [k, v] : params) {
      std::string_view pv;
      if (v.get_string().get(pv)) {
        return Error(ErrorCode::kParseError,
                     "schema parameter \"" + std::string(k) + "\" is not a string");
      }
      builder->parameter(std::string(k), std::string(pv));
    }
  }
  simdjson::dom::element def;
  if (!obj["default"].get(def) && !def.is_null()) {
    // Decode the default against the schema built so far (same type, parameters and fields).
    SchemaBuilder probe = *builder;
    RMQC_ASSIGN_OR_RETURN(Value d, decode_with_schema(def, probe.build()));
    builder->default_value(std::move(d));
  }
  try {
    return builder->build();
  } catch (const std::exception& ex) {
    return Error(ErrorCode::kParseError, ex.what());
  }
}

}  // namespace

// The decode-side schema cache: an LRU keyed by schema JSON text, plus the last hit so a stream
// with one schema pays one memcmp per record instead of a hash of the schema text.
class SchemaTextCache {
 public:
  explicit SchemaTextCache(std::size_t capacity) : lru_(capacity) {}
  const SchemaPtr* find(std::string_view text) {
    if (!last_key_.empty() && text == last_key_) return &last_schema_;
    SchemaPtr* hit = lru_.find(text);
    if (hit) remember(text, *hit);
    return hit;
  }
  void put(std::string_view text, SchemaPtr schema) {
    remember(text, schema);
    lru_.put(std::string(text), std::move(schema));
  }
  const std::string& last_key() const { return last_key_; }
  void set_capacity(std::size_t capacity) { lru_.set_capacity(capacity); }

 private:
  void remember(std::string_view text, const SchemaPtr& schema) {
    last_key_.assign(text);
    last_schema_ = schema;
  }
  LruCache<std::string, SchemaPtr, StringHash, std::equal_to<>> lru_;
  std::string last_key_;
  SchemaPtr last_schema_;
};

struct JsonConverter::Decoder {
  dom::parser parser;
  dom::parser schema_parser;
  SchemaTextCache schema_cache{kDefaultCacheSize};
};

JsonConverter::JsonConverter()
    : encode_cache_(kDefaultCacheSize), decoder_(std::make_unique<Decoder>()) {}

JsonConverter::~JsonConverter() = default;

void JsonConverter::set_decode_cache_capacity(std::size_t capacity) {
  decoder_->schema_cache.set_capacity(capacity);
}

Result<SchemaPtr> JsonConverter::parse_schema(std::string_view json) {
  if (const SchemaPtr* hit = decoder_->schema_cache.find(json)) return *hit;
  dom::element root;
  if (auto err = decoder_->schema_parser.parse(json.data(), json.size()).get(root)) {
    return json_error(err, "schema");
  }
  auto schema = schema_from_dom(root);
  if (!schema.ok()) return std::move(schema).error().with_context("invalid schema");
  decoder_->schema_cache.put(json, *schema);
  return schema;
}

Result<SchemaAndValue> JsonConverter::to_connect_data(std::string_view, std::string_view bytes) {
  if (bytes.empty()) return SchemaAndValue{nullptr, Value()};
  dom::element root;
  if (auto err = decoder_->parser.parse(bytes.data(), bytes.size()).get(root)) {
    return json_error(err, "message");
  }
  SchemaAndValue out;
  if (!schemas_enable_) {
    RMQC_ASSIGN_OR_RETURN(out.value, decode_schemaless(root));
    return out;
  }
  dom::object envelope;
  dom::element schema_element;
  dom::element payload;
  if (root.get_object().get(envelope) || envelope["schema"].get(schema_element) ||
      envelope["payload"].get(payload)) {
    return Error(ErrorCode::kParseError, std::string(kEnvelopeHelp));
  }
  if (schema_element.is_object()) {
    auto& cache = decoder_->schema_cache;
    std::string_view raw = raw_schema_text(bytes, cache);
    if (const SchemaPtr* hit = raw.empty() ? nullptr : cache.find(raw)) {
      out.schema = *hit;
    } else {
      auto schema = schema_from_dom(schema_element);
      if (!schema.ok()) return std::move(schema).error().with_context("invalid schema");
      out.schema = std::move(schema).value();
      if (!raw.empty()) cache.put(raw, out.schema);
    }
  } else if (!schema_element.is_null()) {
    return Error(ErrorCode::kParseError, "\"schema\" must be an object or null");
  }
  auto decoded = out.schema ? decode_with_schema(payload, out.schema) : decode_schemaless(payload);
  if (!decoded.ok()) return std::move(decoded).error().with_context("payload");
  out.value = std::move(decoded).value();
  return out;
}

}  // namespace rmqc::converters
