#pragma once

#include "rmqc/api/converter.h"

namespace rmqc::converters {

// UTF-8 text. Encodes strings as they are and other values in their display form (as the Java
// StringConverter calls toString()); decodes to an optional STRING.
class StringConverter final : public RecordConverter {
 public:
  Result<void> from_connect_data(std::string_view topic, const SchemaPtr& schema,
                                 const Value& value, std::string& out) override;
  Result<SchemaAndValue> to_connect_data(std::string_view topic, std::string_view bytes) override;
  using RecordConverter::from_connect_data;
};

// Raw bytes: BYTES values pass through unchanged.
class ByteArrayConverter final : public RecordConverter {
 public:
  Result<void> from_connect_data(std::string_view topic, const SchemaPtr& schema,
                                 const Value& value, std::string& out) override;
  Result<SchemaAndValue> to_connect_data(std::string_view topic, std::string_view bytes) override;
  using RecordConverter::from_connect_data;
};

}  // namespace rmqc::converters
