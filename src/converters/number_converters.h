#pragma once

#include "rmqc/api/converter.h"

#include <cstdint>

namespace rmqc::converters {

// Fixed-width big-endian numbers, byte-compatible with the Java Short/Integer/Long/Float/Double
// converters. A null value encodes as empty bytes, and empty bytes decode as null.
template <typename T, FieldType kType>
class NumberConverter final : public RecordConverter {
 public:
  Result<void> from_connect_data(std::string_view topic, const SchemaPtr& schema,
                                 const Value& value, std::string& out) override;
  Result<SchemaAndValue> to_connect_data(std::string_view topic, std::string_view bytes) override;
  using RecordConverter::from_connect_data;
};

using ShortConverter = NumberConverter<std::int16_t, FieldType::kInt16>;
using IntegerConverter = NumberConverter<std::int32_t, FieldType::kInt32>;
using LongConverter = NumberConverter<std::int64_t, FieldType::kInt64>;
using FloatConverter = NumberConverter<float, FieldType::kFloat32>;
using DoubleConverter = NumberConverter<double, FieldType::kFloat64>;

extern template class NumberConverter<std::int16_t, FieldType::kInt16>;
extern template class NumberConverter<std::int32_t, FieldType::kInt32>;
extern template class NumberConverter<std::int64_t, FieldType::kInt64>;
extern template class NumberConverter<float, FieldType::kFloat32>;
extern template class NumberConverter<double, FieldType::kFloat64>;

}  // namespace rmqc::converters
