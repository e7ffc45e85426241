#pragma once

#include "rmqc/base/result.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace rmqc {

class Value;

using Bytes = std::vector<std::uint8_t>;
using ValueList = std::vector<Value>;
// Insertion-ordered entries; keys may be of any type (a MAP schema allows non-string keys).
using ValueMap = std::vector<std::pair<Value, Value>>;

// An arbitrary-precision decimal: the two's-complement big-endian unscaled value and a scale,
// value = unscaled * 10^-scale (the encoding of the Decimal logical type).
struct Decimal {
  Bytes unscaled;
  std::int32_t scale = 0;

  static Decimal from_unscaled(std::int64_t unscaled, std::int32_t scale);
  // Parses "-123.4500" or "1e-3"; the scale is the number of fractional digits written.
  static bool parse(std::string_view text, Decimal& out);
  // Plain notation, exact: "-123.4500".
  std::string to_string() const;
  // The unscaled value when it fits in 64 bits.
  bool to_int64(std::int64_t& out) const;
  bool operator==(const Decimal& other) const = default;
};

class Schema;
using SchemaPtr = std::shared_ptr<const Schema>;
struct Field;

// A record of a STRUCT schema: one value slot per field, in field order.
//   Struct s(schema);
//   s.put("id", int64_t{12}).put("name", "name-06");
//   s.get_int64("id");
// put() checks the value's type against the field schema and throws DataException on a mismatch
// or an unknown field; validate() checks the whole struct (required fields set, nested values).
// A Value holds a Struct in place (no allocation of its own: only the slots are allocated), so
// the class is defined here, before Value; rmqc/api/struct.h is the header to include.
class Struct {
 public:
  explicit Struct(SchemaPtr schema);
  Struct(const Struct& other);
  Struct(Struct&& other) noexcept;
  Struct& operator=(const Struct& other);
  Struct& operator=(Struct&& other) noexcept;
  ~Struct();

  const SchemaPtr& schema() const { return schema_; }

  Struct& put(std::string_view field_name, Value value);
  Struct& put(const Field& field, Value value);

  // The value of a field, or its schema default when unset; throws DataException for an unknown
  // field name.
  const Value& get(std::string_view field_name) const;
  const Value& get(const Field& field) const;

  std::int8_t get_int8(std::string_view name) const;
  std::int16_t get_int16(std::string_view name) const;
  std::int32_t get_int32(std::string_view name) const;
  std::int64_t get_int64(std::string_view name) const;
  float get_float32(std::string_view name) const;
  double get_float64(std::string_view name) const;
  bool get_boolean(std::string_view name) const;
  const std::string& get_string(std::string_view name) const;
  const Bytes& get_bytes(std::string_view name) const;
  const ValueList& get_array(std::string_view name) const;
  const ValueMap& get_map(std::string_view name) const;
  const Struct& get_struct(std::string_view name) const;

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

// A dynamically typed value able to hold every schema type, schemaless maps and lists, and
// decimals. Moving is cheap (no allocation); copying is deep; a struct is held in place. Logical
// Date/Time/Timestamp values are their physical int32/int64; the schema name says how to read
// them.
class Value {
 public:
  enum class Kind : std::uint8_t {
    kNull,
    kBoolean,
    kInt8,
    kInt16,
    kInt32,
    kInt64,
    kFloat32,
    kFloat64,
    kString,
    kBytes,
    kArray,
    kMap,
    kStruct,
    kDecimal,
  };

  Value() = default;
  Value(std::nullptr_t) {}                              // NOLINT: implicit by design
  Value(bool v) : data_(v) {}                           // NOLINT
  Value(std::int8_t v) : data_(v) {}                    // NOLINT
  Value(std::int16_t v) : data_(v) {}                   // NOLINT
  Value(std::int32_t v) : data_(v) {}                   // NOLINT
  Value(std::int64_t v) : data_(v) {}                   // NOLINT
  Value(float v) : data_(v) {}                          // NOLINT
  Value(double v) : data_(v) {}                         // NOLINT
  Value(std::string v) : data_(std::move(v)) {}         // NOLINT
  Value(std::string_view v) : data_(std::string(v)) {}  // NOLINT
  Value(const char* v) : data_(std::string(v)) {}       // NOLINT: else it binds to bool
  Value(Bytes v) : data_(std::move(v)) {}               // NOLINT
  Value(ValueList v) : data_(std::move(v)) {}           // NOLINT
  Value(ValueMap v) : data_(std::move(v)) {}            // NOLINT
  Value(Struct v) : data_(std::move(v)) {}              // NOLINT
  Value(Decimal v) : data_(std::move(v)) {}             // NOLINT

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_null() const { return data_.index() == 0; }

  // Pointer to the held alternative, or nullptr when the value is of another kind.
  template <typename T>
  const T* get_if() const {
    return std::get_if<T>(&data_);
  }
  template <typename T>
  T* get_if() {
    return std::get_if<T>(&data_);
  }
  const Struct* get_struct_if() const { return std::get_if<Struct>(&data_); }
  Struct* get_struct_if() { return std::get_if<Struct>(&data_); }

  // Typed accessors; throw DataException naming both kinds on a mismatch.
  bool as_bool() const;
  std::int8_t as_int8() const;
  std::int16_t as_int16() const;
  std::int32_t as_int32() const;
  std::int64_t as_int64() const;
  float as_float32() const;
  double as_float64() const;
  const std::string& as_string() const;
  const Bytes& as_bytes() const;
  const ValueList& as_array() const;
  const ValueMap& as_map() const;
  const Struct& as_struct() const;
  const Decimal& as_decimal() const;
  ValueList& as_array();
  ValueMap& as_map();
  Struct& as_struct();

  // Any integer kind widened to int64; false for other kinds.
  bool to_int64(std::int64_t& out) const;

  // For string-keyed maps: the value stored under key, or nullptr.
  const Value* find(std::string_view key) const;

  bool operator==(const Value& other) const;
  std::size_t hash() const;

  // Human-readable rendering (JSON-like), for logs, errors and StringConverter.
  std::string to_string() const;

 private:
  std::variant<std::monostate, bool, std::int8_t, std::int16_t, std::int32_t, std::int64_t, float,
               double, std::string, Bytes, ValueList, ValueMap, Struct, Decimal>
      data_;
};

std::string_view kind_name(Value::Kind kind);

inline std::int8_t Struct::get_int8(std::string_view name) const {
  return get(name).as_int8();
}
inline std::int16_t Struct::get_int16(std::string_view name) const {
  return get(name).as_int16();
}
inline std::int32_t Struct::get_int32(std::string_view name) const {
  return get(name).as_int32();
}
inline std::int64_t Struct::get_int64(std::string_view name) const {
  return get(name).as_int64();
}
inline float Struct::get_float32(std::string_view name) const {
  return get(name).as_float32();
}
inline double Struct::get_float64(std::string_view name) const {
  return get(name).as_float64();
}
inline bool Struct::get_boolean(std::string_view name) const {
  return get(name).as_bool();
}
inline const std::string& Struct::get_string(std::string_view name) const {
  return get(name).as_string();
}
inline const Bytes& Struct::get_bytes(std::string_view name) const {
  return get(name).as_bytes();
}
inline const ValueList& Struct::get_array(std::string_view name) const {
  return get(name).as_array();
}
inline const ValueMap& Struct::get_map(std::string_view name) const {
  return get(name).as_map();
}
inline const Struct& Struct::get_struct(std::string_view name) const {
  return get(name).as_struct();
}

struct ValueHash {
  std::size_t operator()(const Value& v) const { return v.hash(); }
};

}  // namespace rmqc
