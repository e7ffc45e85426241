#pragma once

#include "rmqc/api/schema.h"
#include "rmqc/api/value.h"

#include <string_view>
#include <vector>

namespace rmqc {

// A record of a STRUCT schema: one value slot per field, in field order.
//   Struct s(schema);
//   s.put("id", int64_t{12}).put("name", "name-06");
//   s.get_int64("id");
// put() checks the value's type against the field schema and throws DataException on a mismatch
// or an unknown field; validate() checks the whole struct (required fields set, nested values).
class Struct {
 public:
  explicit Struct(SchemaPtr schema);

  const SchemaPtr& schema() const { return schema_; }

  Struct& put(std::string_view field_name, Value value);
  Struct& put(const Field& field, Value value);

  // The value of a field, or its schema default when unset; throws DataException for an unknown
  // field name.
  const Value& get(std::string_view field_name) const;
  const Value& get(const Field& field) const;

  std::int8_t get_int8(std::string_view name) const { return get(name).as_int8(); }
  std::int16_t get_int16(std::string_view name) const { return get(name).as_int16(); }
  std::int32_t get_int32(std::string_view name) const { return get(name).as_int32(); }
  std::int64_t get_int64(std::string_view name) const { return get(name).as_int64(); }
  float get_float32(std::string_view name) const { return get(name).as_float32(); }
  double get_float64(std::string_view name) const { return get(name).as_float64(); }
  bool get_boolean(std::string_view name) const { return get(name).as_bool(); }
  const std::string& get_string(std::string_view name) const { return get(name).as_string(); }
  const Bytes& get_bytes(std::string_view name) const { return get(name).as_bytes(); }
  const ValueList& get_array(std::string_view name) const { return get(name).as_array(); }
  const ValueMap& get_map(std::string_view name) const { return get(name).as_map(); }
  const Struct& get_struct(std::string_view name) const { return get(name).as_struct(); }

  // Every field against its schema; the error names the field path and the problem.
  Result<void> validate() const;

  // Raw slots in field order, for converters and transforms that fill whole structs; values set
  // here are checked only by validate().
  std::vector<Value>& values() { return values_; }
  const std::vector<Value>& values() const { return values_; }

  bool operator==(const Struct& other) const;
  std::string to_string() const;

 private:
  const Field& field_or_throw(std::string_view name) const;

  SchemaPtr schema_;
  std::vector<Value> values_;
};

}  // namespace rmqc
