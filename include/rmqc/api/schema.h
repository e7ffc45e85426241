#pragma once

#include "rmqc/api/value.h"
#include "rmqc/base/result.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rmqc {

// The field types of openconnect's FieldType (DATETIME is expressed as the Timestamp logical type).
enum class FieldType : std::uint8_t {
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFloat32,
  kFloat64,
  kBoolean,
  kString,
  kBytes,
  kArray,
  kMap,
  kStruct,
};

// "INT8", "STRUCT", ...
std::string_view field_type_name(FieldType type);
bool is_primitive(FieldType type);

class Schema;
using SchemaPtr = std::shared_ptr<const Schema>;

struct Field {
  int index = 0;
  std::string name;
  SchemaPtr schema;
};

// An immutable schema, shared between records through SchemaPtr. Built with SchemaBuilder.
class Schema {
 public:
  FieldType type() const { return type_; }
  // For logical types the name says which one (see rmqc/api/logical.h).
  const std::string& name() const { return name_; }
  std::optional<std::int32_t> version() const { return version_; }
  const std::string& doc() const { return doc_; }
  bool optional() const { return optional_; }
  // nullptr when the schema has no default.
  const Value* default_value() const { return has_default_ ? &default_ : nullptr; }
  const std::map<std::string, std::string>& parameters() const { return parameters_; }
  // The value of a parameter, or nullptr.
  const std::string* parameter(std::string_view key) const;

  // STRUCT only: fields in declaration order, and lookup by name (nullptr when absent).
  const std::vector<Field>& fields() const { return fields_; }
  const Field* field(std::string_view name) const;

  // MAP: key and value schemas. ARRAY: value_schema() is the element schema.
  const SchemaPtr& key_schema() const { return key_schema_; }
  const SchemaPtr& value_schema() const { return value_schema_; }

  // Checks a value against this schema, recursively; the error names the path and both types.
  Result<void> validate_value(const Value& value) const;

  // Structural equality (names, types, parameters, fields, defaults).
  bool equals(const Schema& other) const;

  std::string to_string() const;

 private:
  friend class SchemaBuilder;
  Schema() = default;

  FieldType type_ = FieldType::kStruct;
  bool optional_ = false;
  bool has_default_ = false;
  std::optional<std::int32_t> version_;
  std::string name_;
  std::string doc_;
  Value default_;
  std::map<std::string, std::string> parameters_;
  std::vector<Field> fields_;
  // Built for wide structs only; narrow ones are scanned (faster below ~8 fields).
  std::unordered_map<std::string_view, int> field_index_;
  SchemaPtr key_schema_;
  SchemaPtr value_schema_;
};

bool schemas_equal(const SchemaPtr& a, const SchemaPtr& b);

// Fluent construction, as openconnect's SchemaBuilder:
//   SchemaBuilder::struct_().name("test").optional().doc("a demo")
//       .field("string-field", SchemaBuilder::string().build())
//       .field("bool-field", SchemaBuilder::bool_().build())
//       .build();
// Misuse (field() on a non-struct, duplicate field, bad default) throws SchemaBuilderException.
class SchemaBuilder {
 public:
  explicit SchemaBuilder(FieldType type);
  // Copies are independent builders (deep copy of the schema under construction).
  SchemaBuilder(const SchemaBuilder& other);
  SchemaBuilder& operator=(const SchemaBuilder& other);
  SchemaBuilder(SchemaBuilder&&) noexcept = default;
  SchemaBuilder& operator=(SchemaBuilder&&) noexcept = default;
  ~SchemaBuilder() = default;

  static SchemaBuilder int8() { return SchemaBuilder(FieldType::kInt8); }
  static SchemaBuilder int16() { return SchemaBuilder(FieldType::kInt16); }
  static SchemaBuilder int32() { return SchemaBuilder(FieldType::kInt32); }
  static SchemaBuilder int64() { return SchemaBuilder(FieldType::kInt64); }
  static SchemaBuilder float32() { return SchemaBuilder(FieldType::kFloat32); }
  static SchemaBuilder float64() { return SchemaBuilder(FieldType::kFloat64); }
  static SchemaBuilder bool_() { return SchemaBuilder(FieldType::kBoolean); }
  static SchemaBuilder string() { return SchemaBuilder(FieldType::kString); }
  static SchemaBuilder bytes() { return SchemaBuilder(FieldType::kBytes); }
  static SchemaBuilder struct_() { return SchemaBuilder(FieldType::kStruct); }
  static SchemaBuilder array(SchemaPtr value_schema);
  static SchemaBuilder map(SchemaPtr key_schema, SchemaPtr value_schema);
  // Logical types.
  static SchemaBuilder decimal(std::int32_t scale);
  static SchemaBuilder date();
  static SchemaBuilder time();
  static SchemaBuilder timestamp();

  SchemaBuilder& name(std::string name);
  SchemaBuilder& version(std::int32_t version);
  SchemaBuilder& doc(std::string doc);
  SchemaBuilder& optional();
  SchemaBuilder& required();
  SchemaBuilder& parameter(std::string key, std::string value);
  SchemaBuilder& parameters(const std::map<std::string, std::string>& params);
  SchemaBuilder& default_value(Value value);
  SchemaBuilder& field(std::string name, SchemaPtr schema);

  FieldType type() const { return schema_->type_; }
  SchemaPtr build();

 private:
  std::shared_ptr<Schema> schema_;
  bool built_ = false;
};

// Shared instances of the primitive schemas, so hot paths need not allocate one per record.
namespace schemas {
const SchemaPtr& of(FieldType type, bool optional = false);
inline const SchemaPtr& string(bool optional = false) {
  return of(FieldType::kString, optional);
}
inline const SchemaPtr& bytes(bool optional = false) {
  return of(FieldType::kBytes, optional);
}
}  // namespace schemas

// A schema and a value, the result of decoding bytes with a converter.
struct SchemaAndValue {
  SchemaPtr schema;
  Value value;
};

}  // namespace rmqc
