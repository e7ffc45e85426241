#include "jdbc/common/schema_mapping.h"

#include "rmqc/api/logical.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>

namespace rmqc::connectors::jdbc {
namespace {

constexpr std::string_view kPrecisionParameter = "connect.decimal.precision";

SchemaBuilder builder_for(const ColumnDef& column, ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kBoolean:
      return SchemaBuilder::bool_();
    case ColumnKind::kInt8:
      return SchemaBuilder::int8();
    case ColumnKind::kInt16:
      return SchemaBuilder::int16();
    case ColumnKind::kInt32:
      return SchemaBuilder::int32();
    case ColumnKind::kInt64:
      return SchemaBuilder::int64();
    case ColumnKind::kFloat32:
      return SchemaBuilder::float32();
    case ColumnKind::kFloat64:
      return SchemaBuilder::float64();
    case ColumnKind::kDecimal: {
      auto b = SchemaBuilder::decimal(column.scale);
      if (column.precision > 0) {
        b.parameter(std::string(kPrecisionParameter), std::to_string(column.precision));
      }
      return b;
    }
    case ColumnKind::kString:
    case ColumnKind::kJson:
    case ColumnKind::kUuid:
      return SchemaBuilder::string();
    case ColumnKind::kBytes:
      return SchemaBuilder::bytes();
    case ColumnKind::kDate:
      return SchemaBuilder::date();
    case ColumnKind::kTime:
      return SchemaBuilder::time();
    case ColumnKind::kTimestamp:
      return SchemaBuilder::timestamp();
    case ColumnKind::kArray:
      break;
  }
  return SchemaBuilder::string();
}

}  // namespace

Result<NumericMapping> parse_numeric_mapping(std::string_view text, bool precision_mapping) {
  std::string t(text);
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t.empty() || t == "none") {
    return precision_mapping ? NumericMapping::kPrecisionOnly : NumericMapping::kNone;
  }
  if (t == "precision_only") return NumericMapping::kPrecisionOnly;
  if (t == "best_fit") return NumericMapping::kBestFit;
  return Error(ErrorCode::kInvalidConfig, "numeric.mapping '" + std::string(text) +
                                              "' is not one of none, precision_only, best_fit");
}

FieldMapping map_column(const ColumnDef& column, NumericMapping mapping) {
  FieldMapping out;
  SchemaBuilder builder = SchemaBuilder::string();
  if (column.kind == ColumnKind::kDecimal && mapping != NumericMapping::kNone &&
      column.precision > 0 && column.precision < 19) {
    if (column.scale <= 0) {
      if (column.precision < 3) {
        builder = SchemaBuilder::int8();
        out.conversion = ValueConversion::kDecimalToInt8;
      } else if (column.precision < 5) {
        builder = SchemaBuilder::int16();
        out.conversion = ValueConversion::kDecimalToInt16;
      } else if (column.precision < 10) {
        builder = SchemaBuilder::int32();
        out.conversion = ValueConversion::kDecimalToInt32;
      } else {
        builder = SchemaBuilder::int64();
        out.conversion = ValueConversion::kDecimalToInt64;
      }
    } else if (mapping == NumericMapping::kBestFit) {
      builder = SchemaBuilder::float64();
      out.conversion = ValueConversion::kDecimalToFloat64;
    } else {
      builder = builder_for(column, column.kind);
    }
  } else if (column.kind == ColumnKind::kArray) {
    ColumnDef element = column;
    element.kind = column.element_kind;
    auto element_schema = builder_for(element, element.kind).optional().build();
    builder = SchemaBuilder::array(std::move(element_schema));
  } else {
    builder = builder_for(column, column.kind);
  }
  if (column.nullable) builder.optional();
  out.schema = builder.build();
  return out;
}

RowMapping map_row(std::string_view schema_name, const std::vector<ColumnDef>& columns,
                   NumericMapping mapping) {
  RowMapping out;
  auto builder = SchemaBuilder::struct_();
  if (!schema_name.empty()) builder.name(std::string(schema_name));
  out.conversions.reserve(columns.size());
  for (const auto& c : columns) {
    FieldMapping f = map_column(c, mapping);
    builder.field(c.name, f.schema);
    out.conversions.push_back(f.conversion);
    out.needs_conversion = out.needs_conversion || f.conversion != ValueConversion::kAsIs;
  }
  out.schema = builder.build();
  return out;
}

Result<void> convert_value(Value& value, ValueConversion conversion) {
  if (conversion == ValueConversion::kAsIs || value.is_null()) return {};
  const Decimal* d = value.get_if<Decimal>();
  if (d == nullptr) return {};  // already converted (or the dialect produced the target type)
  if (conversion == ValueConversion::kDecimalToFloat64) {
    value = Value(std::strtod(d->to_string().c_str(), nullptr));
    return {};
  }
  std::int64_t unscaled = 0;
  if (!d->to_int64(unscaled)) {
    return Error(ErrorCode::kSchemaMismatch, "decimal " + d->to_string() + " overflows INT64");
  }
  for (std::int32_t s = d->scale; s > 0; --s) unscaled /= 10;  // scale 0 columns: no-op
  auto in_range = [&](auto type_tag) {
    using T = decltype(type_tag);
    return unscaled >= std::numeric_limits<T>::min() && unscaled <= std::numeric_limits<T>::max();
  };
  switch (conversion) {
    case ValueConversion::kDecimalToInt8:
      if (!in_range(std::int8_t{})) break;
      value = Value(static_cast<std::int8_t>(unscaled));
      return {};
    case ValueConversion::kDecimalToInt16:
      if (!in_range(std::int16_t{})) break;
      value = Value(static_cast<std::int16_t>(unscaled));
      return {};
    case ValueConversion::kDecimalToInt32:
      if (!in_range(std::int32_t{})) break;
      value = Value(static_cast<std::int32_t>(unscaled));
      return {};
    case ValueConversion::kDecimalToInt64:
      value = Value(unscaled);
      return {};
    default:
      break;
  }
  return Error(ErrorCode::kSchemaMismatch,
               "decimal " + d->to_string() + " does not fit the column's integer type");
}

Result<ColumnKind> column_kind_of(const Schema& schema) {
  switch (logical::logical_type_of(schema)) {
    case logical::LogicalType::kDecimal:
      return ColumnKind::kDecimal;
    case logical::LogicalType::kDate:
      return ColumnKind::kDate;
    case logical::LogicalType::kTime:
      return ColumnKind::kTime;
    case logical::LogicalType::kTimestamp:
      return ColumnKind::kTimestamp;
    case logical::LogicalType::kNone:
      break;
  }
  switch (schema.type()) {
    case FieldType::kInt8:
      return ColumnKind::kInt8;
    case FieldType::kInt16:
      return ColumnKind::kInt16;
    case FieldType::kInt32:
      return ColumnKind::kInt32;
    case FieldType::kInt64:
      return ColumnKind::kInt64;
    case FieldType::kFloat32:
      return ColumnKind::kFloat32;
    case FieldType::kFloat64:
      return ColumnKind::kFloat64;
    case FieldType::kBoolean:
      return ColumnKind::kBoolean;
    case FieldType::kString:
      return ColumnKind::kString;
    case FieldType::kBytes:
      return ColumnKind::kBytes;
    case FieldType::kArray:
      return ColumnKind::kArray;
    case FieldType::kMap:
    case FieldType::kStruct:
      break;
  }
  return Error(ErrorCode::kUnsupported,
               "a " + std::string(field_type_name(schema.type())) + " has no column type");
}

Result<ColumnDef> column_from_schema(std::string name, const Schema& schema) {
  ColumnDef c;
  c.name = std::move(name);
  c.nullable = schema.optional();
  auto kind = column_kind_of(schema);
  if (!kind.ok()) {
    Error e = std::move(kind).error();
    e.with_context("field '" + c.name + "'");
    return e;
  }
  c.kind = *kind;
  if (c.kind == ColumnKind::kDecimal) {
    c.scale = logical::decimal_scale(schema);
    if (const std::string* p = schema.parameter(kPrecisionParameter)) {
      c.precision = std::atoi(p->c_str());
    }
  } else if (c.kind == ColumnKind::kArray) {
    if (!schema.value_schema()) {
      return Error(ErrorCode::kUnsupported, "field '" + c.name + "': array without element schema");
    }
    auto element = column_kind_of(*schema.value_schema());
    if (!element.ok() || *element == ColumnKind::kArray) {
      return Error(ErrorCode::kUnsupported,
                   "field '" + c.name + "': arrays of " +
                       std::string(field_type_name(schema.value_schema()->type())) +
                       " have no column type");
    }
    c.element_kind = *element;
    if (c.element_kind == ColumnKind::kDecimal) {
      c.scale = logical::decimal_scale(*schema.value_schema());
    }
  }
  c.native_type =
      schema.name().empty() ? std::string(field_type_name(schema.type())) : schema.name();
  return c;
}

}  // namespace rmqc::connectors::jdbc
