#include "jdbc/sink/record_mapper.h"

#include "rmqc/api/logical.h"
#include "rmqc/api/struct.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace rmqc::connectors::jdbc {
namespace {

Error record_error(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

const std::string* map_key(const Value& key) {
  return key.get_if<std::string>();
}

// The position of a string key in a schemaless map, or -1.
int map_index(const ValueMap& map, std::string_view name) {
  for (std::size_t i = 0; i < map.size(); ++i) {
    const std::string* k = map_key(map[i].first);
    if (k && *k == name) return static_cast<int>(i);
  }
  return -1;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

bool RowShape::same_columns(const RowShape& other) const {
  if (this == &other) return true;
  if (op != other.op || key_count != other.key_count || columns.size() != other.columns.size()) {
    return false;
  }
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name != other.columns[i].name) return false;
  }
  return true;
}

Result<ColumnDef> column_for_schema(std::string name, const Schema& schema) {
  ColumnDef col;
  col.name = std::move(name);
  col.nullable = schema.optional();
  switch (logical::logical_type_of(schema)) {
    case logical::LogicalType::kDecimal: {
      col.kind = ColumnKind::kDecimal;
      col.scale = logical::decimal_scale(schema);
      if (const std::string* p = schema.parameter("connect.decimal.precision")) {
        int precision = 0;
        auto [ptr, ec] = std::from_chars(p->data(), p->data() + p->size(), precision);
        if (ec == std::errc() && ptr == p->data() + p->size()) col.precision = precision;
      }
      return col;
    }
    case logical::LogicalType::kDate:
      col.kind = ColumnKind::kDate;
      return col;
    case logical::LogicalType::kTime:
      col.kind = ColumnKind::kTime;
      return col;
    case logical::LogicalType::kTimestamp:
      col.kind = ColumnKind::kTimestamp;
      return col;
    case logical::LogicalType::kNone:
      break;
  }
  switch (schema.type()) {
    case FieldType::kInt8:
      col.kind = ColumnKind::kInt8;
      break;
    case FieldType::kInt16:
      col.kind = ColumnKind::kInt16;
      break;
    case FieldType::kInt32:
      col.kind = ColumnKind::kInt32;
      break;
    case FieldType::kInt64:
      col.kind = ColumnKind::kInt64;
      break;
    case FieldType::kFloat32:
      col.kind = ColumnKind::kFloat32;
      break;
    case FieldType::kFloat64:
      col.kind = ColumnKind::kFloat64;
      break;
    case FieldType::kBoolean:
      col.kind = ColumnKind::kBoolean;
      break;
    case FieldType::kString:
      col.kind = ColumnKind::kString;
      break;
    case FieldType::kBytes:
      col.kind = ColumnKind::kBytes;
      break;
    case FieldType::kArray: {
      col.kind = ColumnKind::kArray;
      if (!schema.value_schema() || !is_primitive(schema.value_schema()->type())) {
        return record_error("field '" + col.name + "': only arrays of primitives can be written");
      }
      auto element = column_for_schema(col.name, *schema.value_schema());
      if (!element.ok()) return std::move(element).error();
      col.element_kind = element->kind;
      break;
    }
    case FieldType::kMap:
    case FieldType::kStruct:
      return record_error("field '" + col.name + "' is a " +
                          std::string(field_type_name(schema.type())) +
                          ", which has no column type (flatten it first, e.g. with a transform)");
  }
  return col;
}

Result<ColumnKind> column_kind_of_value(const Value& value, ColumnKind* element_kind) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      return ColumnKind::kString;
    case Value::Kind::kBoolean:
      return ColumnKind::kBoolean;
    case Value::Kind::kInt8:
      return ColumnKind::kInt8;
    case Value::Kind::kInt16:
      return ColumnKind::kInt16;
    case Value::Kind::kInt32:
      return ColumnKind::kInt32;
    case Value::Kind::kInt64:
      return ColumnKind::kInt64;
    case Value::Kind::kFloat32:
      return ColumnKind::kFloat32;
    case Value::Kind::kFloat64:
      return ColumnKind::kFloat64;
    case Value::Kind::kString:
      return ColumnKind::kString;
    case Value::Kind::kBytes:
      return ColumnKind::kBytes;
    case Value::Kind::kDecimal:
      return ColumnKind::kDecimal;
    case Value::Kind::kArray: {
      ColumnKind element = ColumnKind::kString;
      for (const Value& v : value.as_array()) {
        if (v.is_null()) continue;
        ColumnKind nested = ColumnKind::kString;
        auto k = column_kind_of_value(v, &nested);
        if (!k.ok()) return k;
        if (*k == ColumnKind::kArray) return record_error("nested arrays have no column type");
        element = *k;
        break;
      }
      if (element_kind) *element_kind = element;
      return ColumnKind::kArray;
    }
    case Value::Kind::kMap:
    case Value::Kind::kStruct:
      break;
  }
  return record_error(std::string("a ") + std::string(kind_name(value.kind())) +
                      " value has no column type (flatten it first, e.g. with a transform)");
}

RecordMapper::RecordMapper(const JdbcSinkConfig& config, bool catalog_tables)
    : config_(config), catalog_tables_(catalog_tables) {}

std::string RecordMapper::table_name(const ConnectRecord& record) const {
  if (config_.table_name_from_header) {
    if (const std::string* t = record.extension(kSinkTableHeader); t && !t->empty()) return *t;
  }
  std::string out;
  const std::string& format = config_.table_name_format;
  static constexpr std::string_view kTopic = "${topic}";
  std::size_t from = 0;
  while (true) {
    std::size_t at = format.find(kTopic, from);
    if (at == std::string::npos) {
      out.append(format, from, std::string::npos);
      break;
    }
    out.append(format, from, at - from);
    out += record.topic();
    from = at + kTopic.size();
  }
  return out;
}

TableId RecordMapper::table_id(const std::string& name) const {
  TableId id;
  std::vector<std::string> parts;
  std::size_t from = 0;
  while (true) {
    std::size_t dot = name.find('.', from);
    parts.push_back(name.substr(from, dot == std::string::npos ? std::string::npos : dot - from));
    if (dot == std::string::npos) break;
    from = dot + 1;
  }
  id.table = parts.back();
  if (parts.size() == 2) {
    (catalog_tables_ ? id.catalog : id.schema) = parts[0];
  } else if (parts.size() >= 3) {
    id.catalog = parts[parts.size() - 3];
    id.schema = parts[parts.size() - 2];
  }
  return id;
}

bool RecordMapper::table_allowed(const std::string& name) const {
  if (config_.tables_whitelist.empty()) return true;
  if (config_.tables_whitelist.contains(name)) return true;
  // "db.table" whitelisted and the record names "table" (or the reverse): compare table parts.
  const TableId id = table_id(name);
  for (const auto& allowed : config_.tables_whitelist) {
    const TableId a = table_id(allowed);
    if (a.table != id.table) continue;
    if ((a.catalog.empty() || id.catalog.empty() || a.catalog == id.catalog) &&
        (a.schema.empty() || id.schema.empty() || a.schema == id.schema)) {
      return true;
    }
  }
  return false;
}

Result<void> RecordMapper::add_key_columns(const ConnectRecord& record, RowShape& shape) const {
  const auto add = [&](ColumnDef col, ColumnSource src, bool has_default, bool unknown) {
    col.nullable = false;
    col.primary_key = true;
    shape.key_names.push_back(col.name);
    shape.columns.push_back(std::move(col));
    shape.sources.push_back(src);
    shape.has_default.push_back(has_default);
    shape.kind_unknown.push_back(unknown);
  };
  switch (config_.pk_mode) {
    case PkMode::kNone:
      return {};
    case PkMode::kRecordKey: {
      if (record.key.is_null()) {
        return record_error("pk.mode=record_key but the record has no key");
      }
      const Schema* ks = record.key_schema.get();
      const bool is_struct =
          ks ? ks->type() == FieldType::kStruct : record.key.kind() == Value::Kind::kStruct;
      const bool is_map = !ks && record.key.kind() == Value::Kind::kMap;
      if (is_struct) {
        const Struct& key = record.key.as_struct();
        const Schema& schema = *key.schema();
        if (config_.pk_fields.empty()) {
          for (const Field& f : schema.fields()) {
            auto col = column_for_schema(f.name, *f.schema);
            if (!col.ok()) return std::move(col).error();
            add(std::move(*col), {ColumnSource::Kind::kKeyField, f.index}, false, false);
          }
        } else {
          for (const auto& name : config_.pk_fields) {
            const Field* f = schema.field(name);
            if (!f) {
              return record_error("pk.fields names '" + name +
                                  "', which the record key struct does not have");
            }
            auto col = column_for_schema(f->name, *f->schema);
            if (!col.ok()) return std::move(col).error();
            add(std::move(*col), {ColumnSource::Kind::kKeyField, f->index}, false, false);
          }
        }
        if (shape.columns.empty()) return record_error("the record key struct has no fields");
        return {};
      }
      if (is_map) {
        const ValueMap& key = record.key.as_map();
        const auto add_entry = [&](int i) -> Result<void> {
          const std::string* name = map_key(key[static_cast<std::size_t>(i)].first);
          if (!name) return record_error("the record key map has a key that is not a string");
          ColumnDef col;
          col.name = *name;
          auto kind =
              column_kind_of_value(key[static_cast<std::size_t>(i)].second, &col.element_kind);
          if (!kind.ok()) return std::move(kind).error();
          col.kind = *kind;
          add(std::move(col), {ColumnSource::Kind::kKeyMapEntry, i}, false, false);
          return {};
        };
        if (config_.pk_fields.empty()) {
          for (std::size_t i = 0; i < key.size(); ++i) {
            RMQC_RETURN_IF_ERROR(add_entry(static_cast<int>(i)));
          }
        } else {
          for (const auto& name : config_.pk_fields) {
            int i = map_index(key, name);
            if (i < 0) {
              return record_error("pk.fields names '" + name + "', which the record key lacks");
            }
            RMQC_RETURN_IF_ERROR(add_entry(i));
          }
        }
        if (shape.columns.empty()) return record_error("the record key map is empty");
        return {};
      }
      // A primitive key: one column, named by pk.fields.
      if (config_.pk_fields.size() != 1) {
        return record_error(
            "pk.mode=record_key with a primitive record key needs exactly one pk.fields name "
            "(the key column), got " +
            std::to_string(config_.pk_fields.size()));
      }
      ColumnDef col;
      if (ks) {
        auto c = column_for_schema(config_.pk_fields[0], *ks);
        if (!c.ok()) return std::move(c).error();
        col = std::move(*c);
      } else {
        col.name = config_.pk_fields[0];
        auto kind = column_kind_of_value(record.key, &col.element_kind);
        if (!kind.ok()) return std::move(kind).error();
        col.kind = *kind;
      }
      add(std::move(col), {ColumnSource::Kind::kKey, 0}, false, false);
      return {};
    }
    case PkMode::kRecordValue: {
      if (const Struct* value = record.value.get_struct_if()) {
        const Schema& schema = *value->schema();
        if (config_.pk_fields.empty()) {
          for (const Field& f : schema.fields()) {
            auto col = column_for_schema(f.name, *f.schema);
            if (!col.ok()) return std::move(col).error();
            add(std::move(*col), {ColumnSource::Kind::kValueField, f.index},
                f.schema->default_value() != nullptr, false);
          }
        } else {
          for (const auto& name : config_.pk_fields) {
            const Field* f = schema.field(name);
            if (!f) {
              return record_error("pk.fields names '" + name +
                                  "', which the record value does not have");
            }
            auto col = column_for_schema(f->name, *f->schema);
            if (!col.ok()) return std::move(col).error();
            add(std::move(*col), {ColumnSource::Kind::kValueField, f->index},
                f->schema->default_value() != nullptr, false);
          }
        }
        return {};
      }
      if (const ValueMap* value = record.value.get_if<ValueMap>()) {
        const auto add_entry = [&](int i) -> Result<void> {
          const auto& [k, v] = (*value)[static_cast<std::size_t>(i)];
          const std::string* name = map_key(k);
          if (!name) return record_error("the record value map has a key that is not a string");
          ColumnDef col;
          col.name = *name;
          auto kind = column_kind_of_value(v, &col.element_kind);
          if (!kind.ok()) return std::move(kind).error();
          col.kind = *kind;
          add(std::move(col), {ColumnSource::Kind::kValueMapEntry, i}, false, v.is_null());
          return {};
        };
        if (config_.pk_fields.empty()) {
          for (std::size_t i = 0; i < value->size(); ++i) {
            RMQC_RETURN_IF_ERROR(add_entry(static_cast<int>(i)));
          }
        } else {
          for (const auto& name : config_.pk_fields) {
            int i = map_index(*value, name);
            if (i < 0) {
              return record_error("pk.fields names '" + name + "', which the record value lacks");
            }
            RMQC_RETURN_IF_ERROR(add_entry(i));
          }
        }
        return {};
      }
      return record_error("pk.mode=record_value needs a struct or map value");
    }
  }
  return {};
}

Result<void> RecordMapper::add_value_columns(const ConnectRecord& record, RowShape& shape) const {
  const auto wanted = [&](const std::string& name) {
    if (contains(shape.key_names, name)) return false;
    return config_.fields_whitelist.empty() || config_.fields_whitelist.contains(name);
  };
  if (const Struct* value = record.value.get_struct_if()) {
    for (const Field& f : value->schema()->fields()) {
      if (!wanted(f.name)) continue;
      auto col = column_for_schema(f.name, *f.schema);
      if (!col.ok()) return std::move(col).error();
      shape.columns.push_back(std::move(*col));
      shape.sources.push_back({ColumnSource::Kind::kValueField, f.index});
      shape.has_default.push_back(f.schema->default_value() != nullptr);
      shape.kind_unknown.push_back(false);
    }
    return {};
  }
  if (const ValueMap* value = record.value.get_if<ValueMap>()) {
    for (std::size_t i = 0; i < value->size(); ++i) {
      const auto& [k, v] = (*value)[i];
      const std::string* name = map_key(k);
      if (!name) return record_error("the record value map has a key that is not a string");
      if (!wanted(*name)) continue;
      ColumnDef col;
      col.name = *name;
      auto kind = column_kind_of_value(v, &col.element_kind);
      if (!kind.ok()) return record_error("field '" + *name + "': " + kind.error().message());
      col.kind = *kind;
      shape.columns.push_back(std::move(col));
      shape.sources.push_back({ColumnSource::Kind::kValueMapEntry, static_cast<int>(i)});
      shape.has_default.push_back(false);
      shape.kind_unknown.push_back(v.is_null());
    }
    return {};
  }
  return record_error(std::string("the record value must be a struct or a map, not a ") +
                      std::string(kind_name(record.value.kind())));
}

Result<std::shared_ptr<RowShape>> RecordMapper::build_shape(const ConnectRecord& record,
                                                            RowOp op) const {
  auto shape = std::make_shared<RowShape>();
  shape->op = op;
  RMQC_RETURN_IF_ERROR(add_key_columns(record, *shape));
  shape->key_count = shape->columns.size();
  if (op == RowOp::kWrite) {
    RMQC_RETURN_IF_ERROR(add_value_columns(record, *shape));
    if (shape->columns.empty()) return record_error("the record has no fields to write");
    if (config_.insert_mode == InsertMode::kUpdate && shape->columns.size() == shape->key_count) {
      return record_error("insert.mode=update but the record has no non-key fields");
    }
  }
  return shape;
}

Result<std::shared_ptr<const RowShape>> RecordMapper::shape_for(const ConnectRecord& record,
                                                                RowOp op) {
  const bool cacheable = record.value_schema != nullptr || op == RowOp::kDelete;
  const bool key_ok = config_.pk_mode != PkMode::kRecordKey || record.key_schema != nullptr;
  if (!cacheable || !key_ok) {
    auto built = build_shape(record, op);
    if (!built.ok()) return std::move(built).error();
    return std::shared_ptr<const RowShape>(std::move(*built));
  }
  // The key's schema matters only when the key gives columns.
  const Schema* ks = config_.pk_mode == PkMode::kRecordKey ? record.key_schema.get() : nullptr;
  const Schema* vs = op == RowOp::kWrite ? record.value_schema.get() : nullptr;
  auto key = std::make_tuple(ks, vs, op);
  if (last_ && key == last_key_) return last_->shape;
  auto it = shapes_.find(key);
  if (it == shapes_.end()) {
    auto built = build_shape(record, op);
    if (!built.ok()) return std::move(built).error();
    if (shapes_.size() >= 4096) shapes_.clear();
    it = shapes_
             .emplace(key, CacheEntry{ks ? record.key_schema : nullptr,
                                      vs ? record.value_schema : nullptr, std::move(*built)})
             .first;
  }
  last_ = &it->second;
  last_key_ = key;
  return last_->shape;
}

Result<bool> RecordMapper::map(ConnectRecord& record, MappedRow& row) {
  RowOp op = RowOp::kWrite;
  if (record.value.is_null()) {
    if (!config_.delete_enabled) return false;
    op = RowOp::kDelete;
  }
  auto shape = shape_for(record, op);
  if (!shape.ok()) {
    // A cached shape is only a fast path; the map entry stays valid.
    return std::move(shape).error();
  }
  row.shape = std::move(*shape);
  const RowShape& s = *row.shape;
  row.params.clear();
  row.params.reserve(s.columns.size());
  row.moved.assign(s.columns.size(), false);
  Struct* value_struct = record.value.get_struct_if();
  ValueMap* value_map = record.value.get_if<ValueMap>();
  for (std::size_t j = 0; j < s.columns.size(); ++j) {
    const ColumnSource& src = s.sources[j];
    const ColumnKind kind = s.columns[j].kind;
    switch (src.kind) {
      case ColumnSource::Kind::kKey:
        row.params.push_back({kind, record.key});
        break;
      case ColumnSource::Kind::kKeyField: {
        const Struct* key = record.key.get_struct_if();
        if (!key || key->schema()->fields().size() <= static_cast<std::size_t>(src.index)) {
          return record_error("the record key does not match its schema");
        }
        row.params.push_back({kind, key->get(key->schema()->fields()[src.index])});
        break;
      }
      case ColumnSource::Kind::kKeyMapEntry: {
        const ValueMap* key = record.key.get_if<ValueMap>();
        if (!key || key->size() <= static_cast<std::size_t>(src.index)) {
          return record_error("the record key map changed shape");
        }
        row.params.push_back({kind, (*key)[static_cast<std::size_t>(src.index)].second});
        break;
      }
      case ColumnSource::Kind::kValueField: {
        if (!value_struct || value_struct->values().size() <= static_cast<std::size_t>(src.index)) {
          return record_error("the record value does not match its schema");
        }
        Value& slot = value_struct->values()[static_cast<std::size_t>(src.index)];
        if (slot.is_null()) {
          const Field& f = value_struct->schema()->fields()[static_cast<std::size_t>(src.index)];
          const Value* def = f.schema->default_value();
          row.params.push_back({kind, def ? *def : Value()});
        } else {
          row.params.push_back({kind, std::exchange(slot, Value())});
          row.moved[j] = true;
        }
        break;
      }
      case ColumnSource::Kind::kValueMapEntry: {
        if (!value_map || value_map->size() <= static_cast<std::size_t>(src.index)) {
          return record_error("the record value map changed shape");
        }
        row.params.push_back(
            {kind,
             std::exchange((*value_map)[static_cast<std::size_t>(src.index)].second, Value())});
        row.moved[j] = true;
        break;
      }
    }
    if (kind == ColumnKind::kArray) row.params.back().element_kind = s.columns[j].element_kind;
  }
  return true;
}

void RecordMapper::restore(ConnectRecord& record, MappedRow& row) {
  if (!row.shape) return;
  const RowShape& s = *row.shape;
  Struct* value_struct = record.value.get_struct_if();
  ValueMap* value_map = record.value.get_if<ValueMap>();
  for (std::size_t j = 0; j < s.columns.size() && j < row.params.size(); ++j) {
    if (j >= row.moved.size() || !row.moved[j]) continue;
    const ColumnSource& src = s.sources[j];
    const auto at = static_cast<std::size_t>(src.index);
    if (src.kind == ColumnSource::Kind::kValueField && value_struct &&
        at < value_struct->values().size()) {
      value_struct->values()[at] = std::move(row.params[j].value);
    } else if (src.kind == ColumnSource::Kind::kValueMapEntry && value_map &&
               at < value_map->size()) {
      (*value_map)[at].second = std::move(row.params[j].value);
    }
    row.moved[j] = false;
  }
}

}  // namespace rmqc::connectors::jdbc
