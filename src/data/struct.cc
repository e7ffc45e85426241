#include "rmqc/api/struct.h"

#include "rmqc/api/errors.h"

namespace rmqc {

Struct::Struct(SchemaPtr schema) : schema_(std::move(schema)) {
  if (!schema_ || schema_->type() != FieldType::kStruct) {
    throw DataException("a Struct needs a STRUCT schema, got " +
                        (schema_ ? std::string(field_type_name(schema_->type())) : "null"));
  }
  values_.resize(schema_->fields().size());
}

Struct::Struct(const Struct& other) = default;
Struct::Struct(Struct&& other) noexcept = default;
Struct& Struct::operator=(const Struct& other) = default;
Struct& Struct::operator=(Struct&& other) noexcept = default;
Struct::~Struct() = default;

const Field& Struct::field_or_throw(std::string_view name) const {
  const Field* f = schema_->field(name);
  if (!f) {
    throw DataException("'" + std::string(name) + "' is not a field of " +
                        (schema_->name().empty() ? "this struct" : schema_->name()));
  }
  return *f;
}

Struct& Struct::put(std::string_view field_name, Value value) {
  return put(field_or_throw(field_name), std::move(value));
}

Struct& Struct::put(const Field& field, Value value) {
  if (field.index < 0 || static_cast<std::size_t>(field.index) >= values_.size() ||
      schema_->fields()[field.index].name != field.name) {
    throw DataException("field '" + field.name + "' does not belong to this struct's schema");
  }
  if (auto r = field.schema->validate_value(value); !r.ok()) {
    throw DataException("field '" + field.name + "': " + r.error().message());
  }
  values_[field.index] = std::move(value);
  return *this;
}

const Value& Struct::get(std::string_view field_name) const {
  return get(field_or_throw(field_name));
}

const Value& Struct::get(const Field& field) const {
  const Value& v = values_.at(field.index);
  if (v.is_null()) {
    if (const Value* d = field.schema->default_value()) return *d;
  }
  return v;
}

Result<void> Struct::validate() const {
  Value self(*this);  // reuse the recursive checker with the full path reporting
  return schema_->validate_value(self);
}

bool Struct::operator==(const Struct& other) const {
  return schemas_equal(schema_, other.schema_) && values_ == other.values_;
}

std::string Struct::to_string() const {
  return Value(*this).to_string();
}

}  // namespace rmqc
