#include "converters/number_converters.h"

#include <bit>
#include <limits>
#include <type_traits>

namespace rmqc::converters {
namespace {

template <typename T>
using Unsigned =
    std::conditional_t<sizeof(T) == 2, std::uint16_t,
                       std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;

template <typename T>
void write_big_endian(T v, std::string& out) {
  auto bits = std::bit_cast<Unsigned<T>>(v);
  out.resize(sizeof(T));
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out[sizeof(T) - 1 - i] = static_cast<char>(bits & 0xff);
    bits >>= 8;
  }
}

template <typename T>
T read_big_endian(std::string_view bytes) {
  Unsigned<T> bits = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    bits = static_cast<Unsigned<T>>((bits << 8) | static_cast<std::uint8_t>(bytes[i]));
  }
  return std::bit_cast<T>(bits);
}

template <typename T>
const char* converter_name() {
  if constexpr (std::is_same_v<T, std::int16_t>) return "ShortConverter";
  if constexpr (std::is_same_v<T, std::int32_t>) return "IntegerConverter";
  if constexpr (std::is_same_v<T, std::int64_t>) return "LongConverter";
  if constexpr (std::is_same_v<T, float>) return "FloatConverter";
  return "DoubleConverter";
}

// Accepts any integer kind for integer converters (narrowing only when the value fits) and any
// float kind for float converters.
template <typename T>
bool to_number(const Value& value, T& out) {
  if constexpr (std::is_integral_v<T>) {
    std::int64_t wide = 0;
    if (!value.to_int64(wide)) return false;
    if (wide < std::numeric_limits<T>::min() || wide > std::numeric_limits<T>::max()) return false;
    out = static_cast<T>(wide);
    return true;
  } else {
    if (const auto* f = value.get_if<float>()) {
      out = static_cast<T>(*f);
      return true;
    }
    if (const auto* d = value.get_if<double>()) {
      out = static_cast<T>(*d);
      return true;
    }
    return false;
  }
}

}  // namespace

template <typename T, FieldType kType>
Result<void> NumberConverter<T, kType>::from_connect_data(std::string_view, const SchemaPtr& schema,
                                                          const Value& value, std::string& out) {
  if (schema && schema->type() != kType) {
    return Error(ErrorCode::kSchemaMismatch, std::string(converter_name<T>()) + " needs a " +
                                                 std::string(field_type_name(kType)) +
                                                 " schema, got " +
                                                 std::string(field_type_name(schema->type())));
  }
  if (value.is_null()) {
    out.clear();
    return {};
  }
  T number{};
  if (!to_number(value, number)) {
    return Error(ErrorCode::kSchemaMismatch,
                 std::string(converter_name<T>()) + " cannot encode a " +
                     std::string(kind_name(value.kind())) + " value " + value.to_string() + " as " +
                     std::string(field_type_name(kType)));
  }
  write_big_endian(number, out);
  return {};
}

template <typename T, FieldType kType>
Result<SchemaAndValue> NumberConverter<T, kType>::to_connect_data(std::string_view,
                                                                  std::string_view bytes) {
  if (bytes.empty()) return SchemaAndValue{schemas::of(kType, true), Value()};
  if (bytes.size() != sizeof(T)) {
    return Error(ErrorCode::kParseError, std::string(converter_name<T>()) + ": expected " +
                                             std::to_string(sizeof(T)) + " bytes, got " +
                                             std::to_string(bytes.size()));
  }
  return SchemaAndValue{schemas::of(kType, true), Value(read_big_endian<T>(bytes))};
}

template class NumberConverter<std::int16_t, FieldType::kInt16>;
template class NumberConverter<std::int32_t, FieldType::kInt32>;
template class NumberConverter<std::int64_t, FieldType::kInt64>;
template class NumberConverter<float, FieldType::kFloat32>;
template class NumberConverter<double, FieldType::kFloat64>;

}  // namespace rmqc::converters
