#include "converters/string_converter.h"

namespace rmqc::converters {

Result<void> StringConverter::from_connect_data(std::string_view, const SchemaPtr&,
                                                const Value& value, std::string& out) {
  if (const auto* s = value.get_if<std::string>()) {
    out.assign(*s);
  } else if (value.is_null()) {
    out.clear();
  } else {
    out = value.to_string();
  }
  return {};
}

Result<SchemaAndValue> StringConverter::to_connect_data(std::string_view, std::string_view bytes) {
  return SchemaAndValue{schemas::string(true), Value(bytes)};
}

Result<void> ByteArrayConverter::from_connect_data(std::string_view, const SchemaPtr& schema,
                                                   const Value& value, std::string& out) {
  if (schema && schema->type() != FieldType::kBytes) {
    return Error(ErrorCode::kSchemaMismatch, "ByteArrayConverter needs a BYTES schema, got " +
                                                 std::string(field_type_name(schema->type())));
  }
  if (value.is_null()) {
    out.clear();
    return {};
  }
  const auto* bytes = value.get_if<Bytes>();
  if (!bytes) {
    return Error(ErrorCode::kSchemaMismatch, "ByteArrayConverter needs a BYTES value, got " +
                                                 std::string(kind_name(value.kind())));
  }
  out.assign(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  return {};
}

Result<SchemaAndValue> ByteArrayConverter::to_connect_data(std::string_view,
                                                           std::string_view bytes) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  return SchemaAndValue{schemas::bytes(true), Value(Bytes(p, p + bytes.size()))};
}

}  // namespace rmqc::converters
