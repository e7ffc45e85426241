// Kafka Connect's field-level SMTs: InsertField, ReplaceField, MaskField, ValueToKey, HoistField,
// ExtractField and Flatten.
#include "rmqc/api/logical.h"

#include "transforms/transform_support.h"

#include <charconv>
#include <cmath>

namespace rmqc::transforms {
namespace {

// The record's position value under one of names, as int64 (numbers or numeric strings).
std::optional<std::int64_t> position_number(const RecordPartition::Map& map,
                                            std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    auto it = map.find(name);
    if (it == map.end()) continue;
    std::int64_t n = 0;
    if (it->second.to_int64(n)) return n;
    if (const auto* s = it->second.get_if<std::string>()) {
      auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
      if (ec == std::errc() && end == s->data() + s->size()) return n;
    }
  }
  return std::nullopt;
}

// --- InsertField ---------------------------------------------------------------------------

class InsertField final : public StructOrMapTransform {
 public:
  explicit InsertField(Side side) : StructOrMapTransform(side, "field insertion") {}

  ConfigDef config_def() const override {
    ConfigDef def;
    auto opt = [&](const char* key, const char* doc) {
      def.define(key, ConfigDef::Type::kString, "", ConfigDef::Importance::kMedium, doc);
    };
    opt("topic.field",
        "Field for the record's topic. Suffix '!' makes it required, '?' optional (default).");
    opt("partition.field",
        "Field for the record's queue id (partition 'queueId'), INT32. Suffix '!' or '?'.");
    opt("offset.field",
        "Field for the record's queue offset (offset 'queueOffset'), INT64. Suffix '!' or '?'.");
    opt("timestamp.field",
        "Field for the record timestamp, as a Timestamp (epoch ms). Suffix '!' or '?'.");
    opt("static.field", "Field for a fixed string value. Suffix '!' or '?'.");
    opt("static.value", "The value of static.field.");
    define_ignored_replace_null_with_default(def);
    return def;
  }

  void configure(const KeyValue& c) override {
    inserts_.clear();
    add(c.get_string("topic.field"), Kind::kTopic);
    add(c.get_string("partition.field"), Kind::kPartition);
    add(c.get_string("offset.field"), Kind::kOffset);
    add(c.get_string("timestamp.field"), Kind::kTimestamp);
    add(c.get_string("static.field"), Kind::kStatic);
    static_value_ = c.get_string("static.value");
    if (inserts_.empty()) {
      throw ConfigError("topic.field",
                        "Invalid configuration: set at least one of topic.field, partition.field, "
                        "offset.field, timestamp.field, static.field");
    }
  }

 protected:
  void apply_to_map(ValueMap& map, ConnectRecord& record) const override {
    for (const auto& ins : inserts_) set_entry(map, ins.name, value_of(ins, record));
  }

  void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord& record) const override {
    auto out_schema = cache_.get(schema, [&](const SchemaPtr& s) { return derive(*s); });
    Struct out(out_schema);
    auto& slots = out.values();
    std::size_t n = in.values().size();
    // Inserted values first: value_of may throw, and the input must stay intact if it does.
    for (std::size_t i = 0; i < inserts_.size(); ++i) slots[n + i] = value_of(inserts_[i], record);
    rebuild_struct(in, std::move(out));
    schema = std::move(out_schema);
  }

 private:
  enum class Kind { kTopic, kPartition, kOffset, kTimestamp, kStatic };
  struct Insert {
    std::string name;
    Kind kind;
    bool optional;
  };

  void add(std::string spec, Kind kind) {
    if (spec.empty()) return;
    bool optional = true;
    if (spec.back() == '!' || spec.back() == '?') {
      optional = spec.back() == '?';
      spec.pop_back();
    }
    inserts_.push_back({std::move(spec), kind, optional});
  }

  Value value_of(const Insert& ins, const ConnectRecord& record) const {
    Value v;
    switch (ins.kind) {
      case Kind::kTopic:
        if (!record.topic().empty()) v = Value(record.topic());
        break;
      case Kind::kPartition:
        if (auto n =
                position_number(record.position.partition.partition(), {"queueId", "partition"})) {
          v = Value(static_cast<std::int32_t>(*n));
        }
        break;
      case Kind::kOffset:
        if (auto n = position_number(record.position.offset.offset(), {"queueOffset", "offset"})) {
          v = Value(*n);
        }
        break;
      case Kind::kTimestamp:
        if (record.timestamp) v = Value(*record.timestamp);
        break;
      case Kind::kStatic:
        v = Value(static_value_);
        break;
    }
    if (v.is_null() && !ins.optional) {
      throw DataException("InsertField: no value for required field '" + ins.name + "'");
    }
    return v;
  }

  SchemaPtr derive(const Schema& in) const {
    SchemaBuilder b = copy_struct_header(in);
    for (const auto& f : in.fields()) b.field(f.name, f.schema);
    for (const auto& ins : inserts_) {
      SchemaBuilder fb = ins.kind == Kind::kTopic       ? SchemaBuilder::string()
                         : ins.kind == Kind::kPartition ? SchemaBuilder::int32()
                         : ins.kind == Kind::kOffset    ? SchemaBuilder::int64()
                         : ins.kind == Kind::kTimestamp ? SchemaBuilder::timestamp()
                                                        : SchemaBuilder::string();
      if (ins.optional) fb.optional();
      b.field(ins.name, fb.build());
    }
    return b.build();
  }

  std::vector<Insert> inserts_;
  std::string static_value_;
  SchemaCache<SchemaPtr> cache_;
};

// --- ReplaceField --------------------------------------------------------------------------

class ReplaceField final : public StructOrMapTransform {
 public:
  explicit ReplaceField(Side side) : StructOrMapTransform(side, "field replacement") {}

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("exclude", ConfigDef::Type::kList, "", ConfigDef::Importance::kMedium,
               "Fields to drop; they win over include.");
    def.define("include", ConfigDef::Type::kList, "", ConfigDef::Importance::kMedium,
               "Fields to keep (empty: all but the excluded ones).");
    def.define("renames", ConfigDef::Type::kList, "", ConfigDef::Importance::kMedium,
               "Renames as old:new pairs, comma separated.", [](std::string_view v) {
                 for (const auto& item : split_list(v)) {
                   auto colon = item.find(':');
                   if (colon == std::string::npos || colon == 0 || colon + 1 == item.size()) {
                     return std::optional<std::string>("'" + item + "' is not an old:new pair");
                   }
                 }
                 return std::optional<std::string>();
               });
    def.define("blacklist", ConfigDef::Type::kList, "", ConfigDef::Importance::kLow,
               "Deprecated alias of exclude.");
    def.define("whitelist", ConfigDef::Type::kList, "", ConfigDef::Importance::kLow,
               "Deprecated alias of include.");
    define_ignored_replace_null_with_default(def);
    return def;
  }

  void configure(const KeyValue& c) override {
    exclude_ = split_list(c.get_string("exclude"));
    for (auto& f : split_list(c.get_string("blacklist"))) exclude_.push_back(std::move(f));
    include_ = split_list(c.get_string("include"));
    for (auto& f : split_list(c.get_string("whitelist"))) include_.push_back(std::move(f));
    renames_.clear();
    for (const auto& item : split_list(c.get_string("renames"))) {
      auto colon = item.find(':');
      renames_.emplace_back(item.substr(0, colon), item.substr(colon + 1));
    }
  }

 protected:
  void apply_to_map(ValueMap& map, ConnectRecord&) const override {
    std::erase_if(map, [&](const auto& e) {
      const auto* k = e.first.template get_if<std::string>();
      return k && !kept(*k);
    });
    for (auto& [k, v] : map) {
      if (auto* name = k.get_if<std::string>()) *name = renamed(*name);
    }
  }

  void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord&) const override {
    auto d = cache_.get(schema, [&](const SchemaPtr& s) { return derive(*s); });
    rebuild_struct(in, d->schema, d->source);
    schema = d->schema;
  }

 private:
  bool kept(const std::string& name) const {
    if (std::find(exclude_.begin(), exclude_.end(), name) != exclude_.end()) return false;
    return include_.empty() || std::find(include_.begin(), include_.end(), name) != include_.end();
  }
  const std::string& renamed(const std::string& name) const {
    for (const auto& [from, to] : renames_) {
      if (from == name) return to;
    }
    return name;
  }

  StructProjection derive(const Schema& in) const {
    StructProjection d;
    SchemaBuilder b = copy_struct_header(in);
    for (const auto& f : in.fields()) {
      if (!kept(f.name)) continue;
      b.field(renamed(f.name), f.schema);
      d.source.push_back(f.index);
    }
    d.schema = b.build();
    return d;
  }

  std::vector<std::string> exclude_;
  std::vector<std::string> include_;
  std::vector<std::pair<std::string, std::string>> renames_;
  SchemaCache<StructProjection> cache_;
};

// --- MaskField -----------------------------------------------------------------------------

class MaskField final : public StructOrMapTransform {
 public:
  explicit MaskField(Side side) : StructOrMapTransform(side, "masking fields") {}

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("fields", ConfigDef::Type::kList, std::nullopt, ConfigDef::Importance::kHigh,
               "Top-level fields to mask.", validators::non_empty());
    def.define("replacement", ConfigDef::Type::kString, "", ConfigDef::Importance::kLow,
               "Replacement for masked numeric and string fields (empty: the type's zero value: "
               "0, false, \"\", empty bytes/array/map).");
    define_ignored_replace_null_with_default(def);
    return def;
  }

  void configure(const KeyValue& c) override {
    fields_ = split_list(c.get_string("fields"));
    replacement_ = c.get_string("replacement");
    has_replacement_ = !replacement_.empty();
  }

 protected:
  void apply_to_map(ValueMap& map, ConnectRecord&) const override {
    for (const auto& f : fields_) {
      if (Value* v = find_entry(map, f); v && !v->is_null()) *v = masked(*v, f);
    }
  }

  void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord&) const override {
    for (const auto& f : fields_) {
      Value& v = in.values()[require_field(*schema, f, "MaskField").index];
      if (!v.is_null()) v = masked(v, f);
    }
  }

 private:
  // The value's kind decides the mask (a Decimal value carries its scale).
  Value masked(const Value& v, const std::string& name) const {
    auto unsupported = [&]() {
      return DataException("MaskField: cannot mask field '" + name + "' of type " +
                           std::string(kind_name(v.kind())) +
                           (has_replacement_ ? " with replacement '" + replacement_ + "'" : ""));
    };
    auto parse_int = [&](std::int64_t& out) {
      auto [end, ec] =
          std::from_chars(replacement_.data(), replacement_.data() + replacement_.size(), out);
      if (ec != std::errc() || end != replacement_.data() + replacement_.size()) {
        throw unsupported();
      }
      return out;
    };
    auto parse_double = [&]() {
      double d = 0;
      auto [end, ec] =
          std::from_chars(replacement_.data(), replacement_.data() + replacement_.size(), d);
      if (ec != std::errc() || end != replacement_.data() + replacement_.size()) {
        throw unsupported();
      }
      return d;
    };
    std::int64_t n = 0;
    switch (v.kind()) {
      case Value::Kind::kString:
        return Value(has_replacement_ ? replacement_ : std::string());
      case Value::Kind::kInt8:
        return Value(static_cast<std::int8_t>(has_replacement_ ? parse_int(n) : 0));
      case Value::Kind::kInt16:
        return Value(static_cast<std::int16_t>(has_replacement_ ? parse_int(n) : 0));
      case Value::Kind::kInt32:
        return Value(static_cast<std::int32_t>(has_replacement_ ? parse_int(n) : 0));
      case Value::Kind::kInt64:
        return Value(has_replacement_ ? parse_int(n) : std::int64_t{0});
      case Value::Kind::kFloat32:
        return Value(static_cast<float>(has_replacement_ ? parse_double() : 0.0));
      case Value::Kind::kFloat64:
        return Value(has_replacement_ ? parse_double() : 0.0);
      case Value::Kind::kDecimal: {
        std::int32_t scale = v.as_decimal().scale;
        if (!has_replacement_) return Value(Decimal::from_unscaled(0, scale));
        Decimal d;
        if (!Decimal::parse(replacement_, d) || d.scale > scale) throw unsupported();
        // Re-express at the field's scale (the schema fixes it).
        std::string text = d.to_string();
        if (d.scale < scale) {
          if (d.scale <= 0) text += '.';
          text.append(static_cast<std::size_t>(scale - std::max(d.scale, 0)), '0');
        }
        Decimal::parse(text, d);
        return Value(std::move(d));
      }
      case Value::Kind::kBoolean:
        if (has_replacement_) throw unsupported();
        return Value(false);
      case Value::Kind::kBytes:
        if (has_replacement_) throw unsupported();
        return Value(Bytes{});
      case Value::Kind::kArray:
        if (has_replacement_) throw unsupported();
        return Value(ValueList{});
      case Value::Kind::kMap:
        if (has_replacement_) throw unsupported();
        return Value(ValueMap{});
      default:
        throw unsupported();
    }
  }

  std::vector<std::string> fields_;
  std::string replacement_;
  bool has_replacement_ = false;
};

// --- ValueToKey ----------------------------------------------------------------------------

class ValueToKey final : public Configured<Transform> {
 public:
  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("fields", ConfigDef::Type::kList, std::nullopt, ConfigDef::Importance::kHigh,
               "Value fields that make up the new key (a struct or map of them).",
               validators::non_empty());
    define_ignored_replace_null_with_default(def);
    return def;
  }

  void configure(const KeyValue& c) override { fields_ = split_list(c.get_string("fields")); }

  std::optional<ConnectRecord> do_transform(ConnectRecord record) override {
    if (record.value.is_null()) return record;  // a tombstone keeps its key
    if (!record.value_schema) {
      require_map(record.value, "copying fields from value to key");
      ValueMap key;
      key.reserve(fields_.size());
      for (const auto& f : fields_) {
        const Value* v = record.value.find(f);
        key.emplace_back(f, v ? *v : Value());
      }
      record.key_schema = nullptr;
      record.key = Value(std::move(key));
      return record;
    }
    Struct& in = require_struct(record.value, "copying fields from value to key");
    auto d = cache_.get(record.value_schema, [&](const SchemaPtr& s) { return derive(*s); });
    Struct key(d->schema);
    for (std::size_t i = 0; i < d->source.size(); ++i) {
      key.values()[i] = in.values()[d->source[i]];
    }
    record.key_schema = d->schema;
    record.key = Value(std::move(key));
    return record;
  }

 private:
  StructProjection derive(const Schema& in) const {
    StructProjection d;
    SchemaBuilder b = SchemaBuilder::struct_();
    for (const auto& f : fields_) {
      const Field* field = in.field(f);
      if (!field) {
        throw DataException("ValueToKey: '" + f + "' is not a field of the value schema " +
                            in.to_string());
      }
      b.field(f, field->schema);
      d.source.push_back(field->index);
    }
    d.schema = b.build();
    return d;
  }

  std::vector<std::string> fields_;
  SchemaCache<StructProjection> cache_;
};

// --- HoistField ----------------------------------------------------------------------------

class HoistField final : public SideTransform {
 public:
  using SideTransform::SideTransform;

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("field", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kMedium,
               "Name of the single field of the struct (or map) that wraps the data.",
               validators::non_empty());
    return def;
  }

  void configure(const KeyValue& c) override { field_ = c.get_string("field"); }

 protected:
  bool apply(SchemaPtr& schema, Value& value, ConnectRecord&) const override {
    if (!schema) {
      ValueMap map;
      map.emplace_back(field_, std::move(value));
      value = Value(std::move(map));
      return true;
    }
    auto out = cache_.get(schema, [&](const SchemaPtr& s) {
      return SchemaBuilder::struct_().field(field_, s).build();
    });
    Struct s(out);
    s.values()[0] = std::move(value);
    value = Value(std::move(s));
    schema = std::move(out);
    return true;
  }

 private:
  std::string field_;
  SchemaCache<SchemaPtr> cache_;
};

// --- ExtractField --------------------------------------------------------------------------

// "a.b.c" (V2), with `back.ticked` segments for names containing dots.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : path) {
    if (c == '`') {
      quoted = !quoted;
    } else if (c == '.' && !quoted) {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(std::move(cur));
  return out;
}

class ExtractField final : public SideTransform {
 public:
  using SideTransform::SideTransform;

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("field", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kMedium,
               "The field to extract; with field.syntax.version=V2 a dotted path into nested "
               "structs/maps (`quote` names containing dots).",
               validators::non_empty());
    def.define("field.syntax.version", ConfigDef::Type::kString, "V1", ConfigDef::Importance::kLow,
               "V1: 'field' is a top-level name. V2: 'field' is a dotted path.",
               one_of_exact({"V1", "V2"}));
    def.define("replace.null.with.default", ConfigDef::Type::kBoolean, "true",
               ConfigDef::Importance::kLow,
               "When the extracted value is null, use the field schema's default.");
    return def;
  }

  void configure(const KeyValue& c) override {
    std::string field = c.get_string("field");
    path_ = c.get_string("field.syntax.version") == "V2" ? split_path(field)
                                                         : std::vector<std::string>{field};
    for (const auto& p : path_) {
      if (p.empty()) {
        throw ConfigError(
            "field", "Invalid value '" + field + "' for configuration field: empty path segment");
      }
    }
    replace_null_ = c.get_bool("replace.null.with.default");
  }

 protected:
  struct Derived {
    SchemaPtr schema;
    std::vector<const Field*> path;  // fields of the cached input schema's tree
  };

  bool apply(SchemaPtr& schema, Value& value, ConnectRecord&) const override {
    if (!schema) {
      Value* cur = &value;
      for (const auto& p : path_) {
        auto* map = cur->get_if<ValueMap>();
        cur = map ? find_entry(*map, p) : nullptr;
        if (!cur) break;
      }
      value = cur ? Value(std::move(*cur)) : Value();
      return true;
    }
    auto d = cache_.get(schema, [&](const SchemaPtr& s) { return derive(s); });
    Value* cur = &value;
    for (const Field* f : d->path) {
      Struct* s = cur->get_struct_if();
      if (!s) {
        cur = nullptr;
        break;
      }
      cur = &s->values()[f->index];
    }
    Value out = cur ? Value(std::move(*cur)) : Value();
    if (out.is_null() && replace_null_) {
      if (const Value* def = d->schema->default_value()) out = *def;
    }
    value = std::move(out);
    schema = d->schema;
    return true;
  }

 private:
  Derived derive(const SchemaPtr& in) const {
    Derived d;
    const Schema* cur = in.get();
    bool optional = false;
    for (const auto& p : path_) {
      const Field* f = cur->type() == FieldType::kStruct ? cur->field(p) : nullptr;
      if (!f) {
        throw DataException("ExtractField: unknown field '" + p + "' in " + cur->to_string());
      }
      optional |= cur->optional();
      d.path.push_back(f);
      cur = f->schema.get();
    }
    d.schema = d.path.back()->schema;
    // A field under an optional struct can be missing, so its schema must allow null.
    if (optional && !d.schema->optional()) d.schema = copy_schema(*d.schema).optional().build();
    return d;
  }

  std::vector<std::string> path_;
  bool replace_null_ = true;
  SchemaCache<Derived> cache_;
};

// --- Flatten -------------------------------------------------------------------------------

class Flatten final : public StructOrMapTransform {
 public:
  explicit Flatten(Side side) : StructOrMapTransform(side, "flattening") {}

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("delimiter", ConfigDef::Type::kString, ".", ConfigDef::Importance::kMedium,
               "Joins the names of nested fields into the flat field name.");
    return def;
  }

  void configure(const KeyValue& c) override { delimiter_ = c.get_string("delimiter"); }

 protected:
  void apply_to_map(ValueMap& map, ConnectRecord&) const override {
    ValueMap out;
    out.reserve(map.size());
    flatten_map(map, "", out);
    map = std::move(out);
  }

  void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord&) const override {
    auto out_schema = cache_.get(schema, [&](const SchemaPtr& s) {
      SchemaBuilder b = copy_struct_header(*s);
      flatten_schema(*s, "", false, b);
      return b.build();
    });
    Struct out(out_schema);
    std::size_t next = 0;
    flatten_struct(*schema, &in, out.values(), next);
    in = std::move(out);
    schema = std::move(out_schema);
  }

 private:
  std::string join(const std::string& prefix, const std::string& name) const {
    return prefix.empty() ? name : prefix + delimiter_ + name;
  }

  void flatten_schema(const Schema& s, const std::string& prefix, bool parent_optional,
                      SchemaBuilder& b) const {
    for (const auto& f : s.fields()) {
      std::string name = join(prefix, f.name);
      if (f.schema->type() == FieldType::kStruct) {
        flatten_schema(*f.schema, name, parent_optional || f.schema->optional(), b);
      } else if (parent_optional && !f.schema->optional()) {
        b.field(name, copy_schema(*f.schema).optional().build());
      } else {
        b.field(name, f.schema);
      }
    }
  }

  // Walks s in field order, moving leaves into out; a null nested struct yields null leaves.
  void flatten_struct(const Schema& s, Struct* in, std::vector<Value>& out,
                      std::size_t& next) const {
    for (const auto& f : s.fields()) {
      Value* v = in ? &in->values()[f.index] : nullptr;
      if (f.schema->type() == FieldType::kStruct) {
        flatten_struct(*f.schema, v ? v->get_struct_if() : nullptr, out, next);
      } else {
        out[next++] = v ? std::move(*v) : Value();
      }
    }
  }

  void flatten_map(ValueMap& map, const std::string& prefix, ValueMap& out) const {
    for (auto& [k, v] : map) {
      std::string name = join(prefix, k.to_string());
      if (auto* nested = v.get_if<ValueMap>()) {
        flatten_map(*nested, name, out);
      } else {
        out.emplace_back(std::move(name), std::move(v));
      }
    }
  }

  std::string delimiter_;
  SchemaCache<SchemaPtr> cache_;
};

}  // namespace

void register_field_transforms(PluginRegistrar& registrar) {
  add_side_transform<InsertField>(registrar, kKafkaPackage, "InsertField",
                                  "Adds fields from record metadata or a static value.");
  add_side_transform<ReplaceField>(registrar, kKafkaPackage, "ReplaceField",
                                   "Keeps, drops and renames fields.");
  add_side_transform<MaskField>(registrar, kKafkaPackage, "MaskField",
                                "Replaces field values with a zero value or a replacement.");
  add_plain_transform<ValueToKey>(registrar, kKafkaPackage, "ValueToKey",
                                  "Builds the key from value fields.");
  add_side_transform<HoistField>(registrar, kKafkaPackage, "HoistField",
                                 "Wraps the data in a struct or map with one field.");
  add_side_transform<ExtractField>(registrar, kKafkaPackage, "ExtractField",
                                   "Replaces the data with one (possibly nested) field of it.");
  add_side_transform<Flatten>(registrar, kKafkaPackage, "Flatten",
                              "Flattens nested structs and maps into delimited field names.");
}

}  // namespace rmqc::transforms
