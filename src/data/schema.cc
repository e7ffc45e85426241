#include "rmqc/api/schema.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logical.h"
#include "rmqc/api/struct.h"

#include <array>

namespace rmqc {
namespace {

constexpr std::size_t kIndexedFieldThreshold = 8;

bool kind_matches(const Schema& schema, Value::Kind kind) {
  switch (schema.type()) {
    case FieldType::kInt8:
      return kind == Value::Kind::kInt8;
    case FieldType::kInt16:
      return kind == Value::Kind::kInt16;
    case FieldType::kInt32:
      return kind == Value::Kind::kInt32;
    case FieldType::kInt64:
      return kind == Value::Kind::kInt64;
    case FieldType::kFloat32:
      return kind == Value::Kind::kFloat32;
    case FieldType::kFloat64:
      return kind == Value::Kind::kFloat64;
    case FieldType::kBoolean:
      return kind == Value::Kind::kBoolean;
    case FieldType::kString:
      return kind == Value::Kind::kString;
    case FieldType::kBytes:
      return logical::logical_type_of(schema) == logical::LogicalType::kDecimal
                 ? kind == Value::Kind::kDecimal
                 : kind == Value::Kind::kBytes;
    case FieldType::kArray:
      return kind == Value::Kind::kArray;
    case FieldType::kMap:
      return kind == Value::Kind::kMap;
    case FieldType::kStruct:
      return kind == Value::Kind::kStruct;
  }
  return false;
}

std::string describe(const Schema& schema) {
  std::string out(field_type_name(schema.type()));
  if (!schema.name().empty()) {
    out += " (";
    out += schema.name();
    out += ')';
  }
  return out;
}

Result<void> check(const Schema& schema, const Value& value, const std::string& path) {
  auto fail = [&](std::string message) -> Result<void> {
    if (!path.empty()) message.insert(0, "field '" + path + "': ");
    return Error(ErrorCode::kSchemaMismatch, std::move(message));
  };
  if (value.is_null()) {
    if (schema.optional() || schema.default_value()) return {};
    return fail("null value for required " + describe(schema));
  }
  if (!kind_matches(schema, value.kind())) {
    return fail("expected " + describe(schema) + ", got " + std::string(kind_name(value.kind())));
  }
  switch (schema.type()) {
    case FieldType::kStruct: {
      const Struct& s = value.as_struct();
      if (s.schema().get() != &schema && !s.schema()->equals(schema)) {
        return fail("struct schema does not match the field schema " + describe(schema));
      }
      const auto& fields = schema.fields();
      for (std::size_t i = 0; i < fields.size(); ++i) {
        std::string child = path.empty() ? fields[i].name : path + "." + fields[i].name;
        RMQC_RETURN_IF_ERROR(check(*fields[i].schema, s.values()[i], child));
      }
      return {};
    }
    case FieldType::kArray: {
      const auto& list = value.as_array();
      for (std::size_t i = 0; i < list.size(); ++i) {
        RMQC_RETURN_IF_ERROR(
            check(*schema.value_schema(), list[i], path + "[" + std::to_string(i) + "]"));
      }
      return {};
    }
    case FieldType::kMap:
      for (const auto& [k, v] : value.as_map()) {
        RMQC_RETURN_IF_ERROR(check(*schema.key_schema(), k, path + "<key>"));
        RMQC_RETURN_IF_ERROR(check(*schema.value_schema(), v, path + "[" + k.to_string() + "]"));
      }
      return {};
    default:
      return {};
  }
}

}  // namespace

std::string_view field_type_name(FieldType type) {
  switch (type) {
    case FieldType::kInt8:
      return "INT8";
    case FieldType::kInt16:
      return "INT16";
    case FieldType::kInt32:
      return "INT32";
    case FieldType::kInt64:
      return "INT64";
    case FieldType::kFloat32:
      return "FLOAT32";
    case FieldType::kFloat64:
      return "FLOAT64";
    case FieldType::kBoolean:
      return "BOOLEAN";
    case FieldType::kString:
      return "STRING";
    case FieldType::kBytes:
      return "BYTES";
    case FieldType::kArray:
      return "ARRAY";
    case FieldType::kMap:
      return "MAP";
    case FieldType::kStruct:
      return "STRUCT";
  }
  return "UNKNOWN";
}

bool is_primitive(FieldType type) {
  return type != FieldType::kArray && type != FieldType::kMap && type != FieldType::kStruct;
}

const std::string* Schema::parameter(std::string_view key) const {
  auto it = parameters_.find(std::string(key));
  return it == parameters_.end() ? nullptr : &it->second;
}

const Field* Schema::field(std::string_view name) const {
  if (!field_index_.empty()) {
    auto it = field_index_.find(name);
    return it == field_index_.end() ? nullptr : &fields_[it->second];
  }
  for (const auto& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Result<void> Schema::validate_value(const Value& value) const {
  return check(*this, value, {});
}

bool schemas_equal(const SchemaPtr& a, const SchemaPtr& b) {
  if (a == b) return true;
  if (!a || !b) return false;
  return a->equals(*b);
}

bool Schema::equals(const Schema& o) const {
  if (this == &o) return true;
  if (type_ != o.type_ || optional_ != o.optional_ || version_ != o.version_ || name_ != o.name_ ||
      doc_ != o.doc_ || parameters_ != o.parameters_ || has_default_ != o.has_default_ ||
      !(default_ == o.default_) || fields_.size() != o.fields_.size() ||
      !schemas_equal(key_schema_, o.key_schema_) ||
      !schemas_equal(value_schema_, o.value_schema_)) {
    return false;
  }
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name != o.fields_[i].name ||
        !schemas_equal(fields_[i].schema, o.fields_[i].schema)) {
      return false;
    }
  }
  return true;
}

std::string Schema::to_string() const {
  std::string out = describe(*this);
  if (type_ == FieldType::kStruct) {
    out += '{';
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      if (i) out += ',';
      out += fields_[i].name + ':' + fields_[i].schema->to_string();
    }
    out += '}';
  } else if (type_ == FieldType::kArray) {
    out += '<' + value_schema_->to_string() + '>';
  } else if (type_ == FieldType::kMap) {
    out += '<' + key_schema_->to_string() + ',' + value_schema_->to_string() + '>';
  }
  if (optional_) out += '?';
  return out;
}

// --- SchemaBuilder ---

SchemaBuilder::SchemaBuilder(FieldType type) : schema_(new Schema()) {
  schema_->type_ = type;
}

SchemaBuilder::SchemaBuilder(const SchemaBuilder& other)
    : schema_(other.schema_ ? std::shared_ptr<Schema>(new Schema(*other.schema_)) : nullptr),
      built_(other.built_) {}

SchemaBuilder& SchemaBuilder::operator=(const SchemaBuilder& other) {
  if (this != &other) *this = SchemaBuilder(other);
  return *this;
}

SchemaBuilder SchemaBuilder::array(SchemaPtr value_schema) {
  if (!value_schema) throw SchemaBuilderException("array element schema must not be null");
  SchemaBuilder b(FieldType::kArray);
  b.schema_->value_schema_ = std::move(value_schema);
  return b;
}

SchemaBuilder SchemaBuilder::map(SchemaPtr key_schema, SchemaPtr value_schema) {
  if (!key_schema || !value_schema) {
    throw SchemaBuilderException("map key and value schemas must not be null");
  }
  SchemaBuilder b(FieldType::kMap);
  b.schema_->key_schema_ = std::move(key_schema);
  b.schema_->value_schema_ = std::move(value_schema);
  return b;
}

SchemaBuilder SchemaBuilder::decimal(std::int32_t scale) {
  SchemaBuilder b(FieldType::kBytes);
  b.name(std::string(logical::kDecimalName)).version(1);
  b.parameter(std::string(logical::kScaleParameter), std::to_string(scale));
  return b;
}
SchemaBuilder SchemaBuilder::date() {
  SchemaBuilder b(FieldType::kInt32);
  b.name(std::string(logical::kDateName)).version(1);
  return b;
}
SchemaBuilder SchemaBuilder::time() {
  SchemaBuilder b(FieldType::kInt32);
  b.name(std::string(logical::kTimeName)).version(1);
  return b;
}
SchemaBuilder SchemaBuilder::timestamp() {
  SchemaBuilder b(FieldType::kInt64);
  b.name(std::string(logical::kTimestampName)).version(1);
  return b;
}

SchemaBuilder& SchemaBuilder::name(std::string name) {
  schema_->name_ = std::move(name);
  return *this;
}
SchemaBuilder& SchemaBuilder::version(std::int32_t version) {
  schema_->version_ = version;
  return *this;
}
SchemaBuilder& SchemaBuilder::doc(std::string doc) {
  schema_->doc_ = std::move(doc);
  return *this;
}
SchemaBuilder& SchemaBuilder::optional() {
  schema_->optional_ = true;
  return *this;
}
SchemaBuilder& SchemaBuilder::required() {
  schema_->optional_ = false;
  return *this;
}
SchemaBuilder& SchemaBuilder::parameter(std::string key, std::string value) {
  schema_->parameters_[std::move(key)] = std::move(value);
  return *this;
}
SchemaBuilder& SchemaBuilder::parameters(const std::map<std::string, std::string>& params) {
  for (const auto& [k, v] : params) schema_->parameters_[k] = v;
  return *this;
}
SchemaBuilder& SchemaBuilder::default_value(Value value) {
  schema_->default_ = std::move(value);
  schema_->has_default_ = true;
  return *this;
}

SchemaBuilder& SchemaBuilder::field(std::string name, SchemaPtr schema) {
  if (schema_->type_ != FieldType::kStruct) {
    throw SchemaBuilderException("cannot add field '" + name + "' to a " +
                                 std::string(field_type_name(schema_->type_)) + " schema");
  }
  if (name.empty()) throw SchemaBuilderException("field name must not be empty");
  if (!schema) throw SchemaBuilderException("field '" + name + "' has a null schema");
  for (const auto& f : schema_->fields_) {
    if (f.name == name) throw SchemaBuilderException("duplicate field '" + name + "'");
  }
  schema_->fields_.push_back(
      Field{static_cast<int>(schema_->fields_.size()), std::move(name), std::move(schema)});
  return *this;
}

SchemaPtr SchemaBuilder::build() {
  if (built_) throw SchemaBuilderException("SchemaBuilder::build() called twice");
  // A struct default is written against this very schema: validate it once the schema is final.
  if (schema_->has_default_ && !schema_->default_.is_null()) {
    bool empty_string_default = schema_->type_ != FieldType::kString &&
                                schema_->default_.kind() == Value::Kind::kString &&
                                schema_->default_.as_string().empty();
    if (empty_string_default) {
      // openconnect examples write defaultValue("") on structs; treat it as "no default".
      schema_->default_ = Value();
      schema_->has_default_ = false;
    } else if (auto r = check(*schema_, schema_->default_, {}); !r.ok()) {
      throw SchemaBuilderException("invalid default value: " + r.error().message());
    }
  }
  if (schema_->fields_.size() > kIndexedFieldThreshold) {
    for (const auto& f : schema_->fields_) schema_->field_index_.emplace(f.name, f.index);
  }
  built_ = true;
  return std::move(schema_);
}

namespace schemas {
const SchemaPtr& of(FieldType type, bool optional) {
  static const auto table = [] {
    std::array<std::array<SchemaPtr, 2>, 12> t;
    for (int i = 0; i < 12; ++i) {
      auto type_i = static_cast<FieldType>(i);
      if (!is_primitive(type_i)) continue;
      t[i][0] = SchemaBuilder(type_i).build();
      t[i][1] = SchemaBuilder(type_i).optional().build();
    }
    return t;
  }();
  const auto& s = table[static_cast<int>(type)][optional ? 1 : 0];
  if (!s)
    throw SchemaBuilderException("no shared schema for " + std::string(field_type_name(type)));
  return s;
}
}  // namespace schemas

// --- logical ---

namespace logical {

LogicalType logical_type_of(const Schema& schema) {
  const auto& n = schema.name();
  if (n.empty()) return LogicalType::kNone;
  switch (schema.type()) {
    case FieldType::kBytes:
      if (n == kDecimalName || n == kKafkaDecimalName) return LogicalType::kDecimal;
      break;
    case FieldType::kInt32:
      if (n == kDateName || n == kKafkaDateName) return LogicalType::kDate;
      if (n == kTimeName || n == kKafkaTimeName) return LogicalType::kTime;
      break;
    case FieldType::kInt64:
      if (n == kTimestampName || n == kKafkaTimestampName) return LogicalType::kTimestamp;
      break;
    default:
      break;
  }
  return LogicalType::kNone;
}

std::int32_t decimal_scale(const Schema& schema) {
  const std::string* s = schema.parameter(kScaleParameter);
  if (!s) return 0;
  try {
    return std::stoi(*s);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace logical
}  // namespace rmqc
