// The RocketMQ Connect seed set: ChangeCase, ExtractNestedField, PatternRename, PatternFilter,
// SetMaximumPrecision and SetNull (RegexRouter lives with the other routers).
#include "rmqc/api/logical.h"

#include "transforms/transform_support.h"

#include <cctype>

namespace rmqc::transforms {
namespace {

// --- ChangeCase ----------------------------------------------------------------------------

enum class CaseFormat {
  kLowerCamel,
  kLowerUnderscore,
  kUpperCamel,
  kUpperUnderscore,
  kLowerHyphen
};

const std::vector<std::string>& case_format_names() {
  static const std::vector<std::string> names = {"LOWER_CAMEL", "LOWER_UNDERSCORE", "UPPER_CAMEL",
                                                 "UPPER_UNDERSCORE", "LOWER_HYPHEN"};
  return names;
}

CaseFormat parse_case_format(const std::string& name) {
  const auto& names = case_format_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<CaseFormat>(i);
  }
  return CaseFormat::kLowerCamel;  // unreachable: validated by the ConfigDef
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}
char upper(char c) {
  return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
}

// Guava CaseFormat semantics: camel formats split before each upper-case letter, the others on
// their separator; words are then re-cased for the target format.
std::string convert_case(std::string_view name, CaseFormat from, CaseFormat to) {
  std::vector<std::string_view> words;
  bool camel = from == CaseFormat::kLowerCamel || from == CaseFormat::kUpperCamel;
  char sep = from == CaseFormat::kLowerHyphen ? '-' : '_';
  std::size_t start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    bool boundary =
        i == name.size() ||
        (camel ? (i > start && std::isupper(static_cast<unsigned char>(name[i]))) : name[i] == sep);
    if (!boundary) continue;
    if (i > start || !camel) words.push_back(name.substr(start, i - start));
    start = camel ? i : i + 1;
  }
  std::string out;
  out.reserve(name.size() + words.size());
  for (std::size_t w = 0; w < words.size(); ++w) {
    std::string_view word = words[w];
    switch (to) {
      case CaseFormat::kLowerUnderscore:
      case CaseFormat::kLowerHyphen:
        if (w > 0) out += to == CaseFormat::kLowerHyphen ? '-' : '_';
        for (char c : word) out += lower(c);
        break;
      case CaseFormat::kUpperUnderscore:
        if (w > 0) out += '_';
        for (char c : word) out += upper(c);
        break;
      case CaseFormat::kLowerCamel:
      case CaseFormat::kUpperCamel:
        for (std::size_t i = 0; i < word.size(); ++i) {
          bool cap = i == 0 && (w > 0 || to == CaseFormat::kUpperCamel);
          out += cap ? upper(word[i]) : lower(word[i]);
        }
        break;
    }
  }
  return out;
}

class ChangeCase final : public StructOrMapTransform {
 public:
  explicit ChangeCase(Side side) : StructOrMapTransform(side, "changing field name case") {}

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("from", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kHigh,
               "The case format of the field names now: LOWER_CAMEL, LOWER_UNDERSCORE, "
               "UPPER_CAMEL, UPPER_UNDERSCORE or LOWER_HYPHEN.",
               one_of_exact(case_format_names()));
    def.define("to", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kHigh,
               "The case format to rename the fields to (same choices as 'from').",
               one_of_exact(case_format_names()));
    return def;
  }

  void configure(const KeyValue& c) override {
    from_ = parse_case_format(c.get_string("from"));
    to_ = parse_case_format(c.get_string("to"));
  }

 protected:
  void apply_to_map(ValueMap& map, ConnectRecord&) const override { rename_map(map); }

  void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord&) const override {
    auto derived = cache_.get(schema, [&](const SchemaPtr& s) { return rename_schema(*s); });
    in = rename_struct(in, derived);
    schema = derived;
  }

 private:
  SchemaPtr rename_schema(const Schema& in) const {
    SchemaBuilder b = copy_struct_header(in);
    for (const auto& f : in.fields()) {
      b.field(convert_case(f.name, from_, to_),
              f.schema->type() == FieldType::kStruct ? rename_schema(*f.schema) : f.schema);
    }
    return b.build();
  }

  Struct rename_struct(Struct& in, const SchemaPtr& out) const {
    Struct s(out);
    for (std::size_t i = 0; i < out->fields().size(); ++i) {
      Value& v = in.values()[i];
      const SchemaPtr& fs = out->fields()[i].schema;
      if (fs->type() == FieldType::kStruct && v.get_struct_if()) {
        s.values()[i] = Value(rename_struct(v.as_struct(), fs));
      } else {
        s.values()[i] = std::move(v);
      }
    }
    return s;
  }

  void rename_map(ValueMap& map) const {
    for (auto& [k, v] : map) {
      if (auto* name = k.get_if<std::string>()) *name = convert_case(*name, from_, to_);
      if (auto* nested = v.get_if<ValueMap>()) rename_map(*nested);
    }
  }

  CaseFormat from_ = CaseFormat::kLowerCamel;
  CaseFormat to_ = CaseFormat::kLowerCamel;
  SchemaCache<SchemaPtr> cache_;
};

// --- ExtractNestedField --------------------------------------------------------------------

class ExtractNestedField final : public StructOrMapTransform {
 public:
  explicit ExtractNestedField(Side side)
      : StructOrMapTransform(side, "extracting a nested field") {}

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("input.outer.field.name", ConfigDef::Type::kString, std::nullopt,
               ConfigDef::Importance::kHigh, "The top-level struct (or map) field to read from.",
               validators::non_empty());
    def.define("input.inner.field.name", ConfigDef::Type::kString, std::nullopt,
               ConfigDef::Importance::kHigh, "The field inside the outer field to copy.",
               validators::non_empty());
    def.define(
        "output.field.name", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kHigh,
        "The name of the new top-level field receiving the inner value.", validators::non_empty());
    return def;
  }

  void configure(const KeyValue& c) override {
    outer_ = c.get_string("input.outer.field.name");
    inner_ = c.get_string("input.inner.field.name");
    output_ = c.get_string("output.field.name");
  }

 protected:
  struct Derived {
    SchemaPtr schema;
    const Field* outer = nullptr;  // in the input schema (kept alive by the cache entry)
    const Field* inner = nullptr;
  };

  void apply_to_map(ValueMap& map, ConnectRecord&) const override {
    Value extracted;
    if (const Value* outer = find_entry(map, outer_)) {
      if (const Value* inner = outer->find(inner_)) extracted = *inner;
    }
    set_entry(map, output_, std::move(extracted));
  }

  void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord&) const override {
    auto d = cache_.get(schema, [&](const SchemaPtr& s) { return derive(*s); });
    Value extracted;
    if (const Struct* outer = in.get(*d->outer).get_struct_if()) extracted = outer->get(*d->inner);
    rebuild_struct(in, d->schema);
    in.values().back() = std::move(extracted);
    schema = d->schema;
  }

 private:
  Derived derive(const Schema& in) const {
    Derived d;
    d.outer = in.field(outer_);
    if (!d.outer || d.outer->schema->type() != FieldType::kStruct) {
      throw DataException("ExtractNestedField: '" + outer_ + "' is not a struct field of " +
                          in.to_string());
    }
    d.inner = d.outer->schema->field(inner_);
    if (!d.inner) {
      throw DataException("ExtractNestedField: '" + inner_ + "' is not a field of '" + outer_ +
                          "'");
    }
    SchemaBuilder b = copy_struct_header(in);
    for (const auto& f : in.fields()) b.field(f.name, f.schema);
    SchemaPtr inner_schema = d.inner->schema;
    if (d.outer->schema->optional() && !inner_schema->optional()) {
      inner_schema = copy_schema(*inner_schema).optional().build();
    }
    b.field(output_, inner_schema);  // a clash with an existing field throws DataException
    d.schema = b.build();
    return d;
  }

  std::string outer_;
  std::string inner_;
  std::string output_;
  SchemaCache<Derived> cache_;
};

// --- PatternRename -------------------------------------------------------------------------

// Java Pattern flag names as RE2 inline flags; flags RE2 has no use for are accepted and ignored,
// those it cannot honour are config errors.
std::string pattern_flags_prefix(const std::vector<std::string>& flags) {
  std::string inline_flags;
  for (const auto& f : flags) {
    if (f == "CASE_INSENSITIVE") {
      inline_flags += 'i';
    } else if (f == "MULTILINE") {
      inline_flags += 'm';
    } else if (f == "DOTALL") {
      inline_flags += 's';
    } else if (f == "UNICODE_CASE" || f == "UNICODE_CHARACTER_CLASS" || f == "CANON_EQ" ||
               f == "UNIX_LINES") {
      // RE2 matches UTF-8 code points already; nothing to add.
    } else {
      throw ConfigError("field.pattern.flags",
                        "Invalid value '" + f +
                            "' for configuration field.pattern.flags: must be one of "
                            "CASE_INSENSITIVE, MULTILINE, DOTALL, UNICODE_CASE, "
                            "UNICODE_CHARACTER_CLASS, CANON_EQ, UNIX_LINES (COMMENTS and LITERAL "
                            "are not supported by RE2)");
    }
  }
  return inline_flags.empty() ? "" : "(?" + inline_flags + ")";
}

class PatternRename final : public StructOrMapTransform {
 public:
  explicit PatternRename(Side side) : StructOrMapTransform(side, "renaming fields") {}

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("field.pattern", ConfigDef::Type::kString, std::nullopt,
               ConfigDef::Importance::kHigh,
               "RE2 regular expression searched in each top-level field name; every match is "
               "replaced.",
               valid_regex());
    def.define("field.pattern.flags", ConfigDef::Type::kList, "CASE_INSENSITIVE",
               ConfigDef::Importance::kLow,
               "Java Pattern flag names: CASE_INSENSITIVE, MULTILINE, DOTALL (UNICODE_CASE, "
               "UNICODE_CHARACTER_CLASS, CANON_EQ, UNIX_LINES are accepted and have no effect).");
    def.define("field.replacement", ConfigDef::Type::kString, std::nullopt,
               ConfigDef::Importance::kHigh,
               "The replacement, Java syntax: $1 or ${name} for groups, \\$ for a dollar sign.");
    return def;
  }

  void configure(const KeyValue& c) override {
    std::string prefix = pattern_flags_prefix(split_list(c.get_string("field.pattern.flags")));
    re_ = compile_regex("field.pattern", prefix + c.get_string("field.pattern"));
    rewrite_ =
        java_replacement_to_rewrite("field.replacement", c.get_string("field.replacement"), *re_);
  }

 protected:
  void apply_to_map(ValueMap& map, ConnectRecord&) const override {
    for (auto& [k, v] : map) {
      if (auto* name = k.get_if<std::string>()) RE2::GlobalReplace(name, *re_, rewrite_);
    }
  }

  void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord&) const override {
    auto d = cache_.get(schema, [&](const SchemaPtr& s) { return derive(s); });
    if (d->schema == schema) return;  // no field name matched: nothing to rebuild
    rebuild_struct(in, d->schema, d->source);
    schema = d->schema;
  }

 private:
  StructProjection derive(const SchemaPtr& in) const {
    StructProjection d;
    bool changed = false;
    SchemaBuilder b = copy_struct_header(*in);
    for (const auto& f : in->fields()) {
      std::string name = f.name;
      changed |= RE2::GlobalReplace(&name, *re_, rewrite_) > 0 && name != f.name;
      b.field(std::move(name), f.schema);
      d.source.push_back(f.index);
    }
    d.schema = changed ? b.build() : in;
    return d;
  }

  std::unique_ptr<const RE2> re_;
  std::string rewrite_;
  SchemaCache<StructProjection> cache_;
};

// --- PatternFilter -------------------------------------------------------------------------

class PatternFilter final : public SideTransform {
 public:
  using SideTransform::SideTransform;

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("pattern", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kHigh,
               "RE2 regular expression; a record whose checked field matches it entirely is "
               "dropped.",
               valid_regex());
    def.define("fields", ConfigDef::Type::kList, "", ConfigDef::Importance::kHigh,
               "The string fields to check (comma list); empty checks every string field.");
    return def;
  }

  void configure(const KeyValue& c) override {
    re_ = compile_regex("pattern", c.get_string("pattern"));
    fields_ = split_list(c.get_string("fields"));
  }

 protected:
  bool apply(SchemaPtr& schema, Value& value, ConnectRecord&) const override {
    if (value.is_null()) return true;
    if (!schema) {
      const auto* map = value.get_if<ValueMap>();
      if (!map) return true;
      for (const auto& [k, v] : *map) {
        const auto* name = k.get_if<std::string>();
        if (name && checked(*name) && matches(v)) return false;
      }
      return true;
    }
    const Struct* s = value.get_struct_if();
    if (!s) return true;
    for (const auto& f : schema->fields()) {
      if (f.schema->type() == FieldType::kString && checked(f.name) && matches(s->get(f))) {
        return false;
      }
    }
    return true;
  }

 private:
  bool checked(const std::string& name) const {
    return fields_.empty() || std::find(fields_.begin(), fields_.end(), name) != fields_.end();
  }
  bool matches(const Value& v) const {
    const auto* text = v.get_if<std::string>();
    return text && RE2::FullMatch(*text, *re_);
  }

  std::unique_ptr<const RE2> re_;
  std::vector<std::string> fields_;
};

// --- SetMaximumPrecision -------------------------------------------------------------------

constexpr std::string_view kPrecisionParameter = "connect.decimal.precision";

class SetMaximumPrecision final : public SideTransform {
 public:
  using SideTransform::SideTransform;

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("precision.max", ConfigDef::Type::kInt, std::nullopt, ConfigDef::Importance::kHigh,
               "The largest 'connect.decimal.precision' a Decimal field may declare; larger ones "
               "are lowered to it.",
               validators::between(1, 1000));
    return def;
  }

  void configure(const KeyValue& c) override { max_ = c.get_int("precision.max"); }

 protected:
  bool apply(SchemaPtr& schema, Value& value, ConnectRecord&) const override {
    if (!schema || schema->type() != FieldType::kStruct || value.is_null()) return true;
    Struct& in = require_struct(value, "setting the maximum precision");
    auto d = cache_.get(schema, [&](const SchemaPtr& s) { return derive(s); });
    if (d == schema) return true;
    rebuild_struct(in, d);
    schema = d;
    return true;
  }

 private:
  SchemaPtr derive(const SchemaPtr& in) const {
    bool changed = false;
    SchemaBuilder b = copy_struct_header(*in);
    for (const auto& f : in->fields()) {
      const std::string* p = f.schema->parameter(kPrecisionParameter);
      int precision = 0;
      if (logical::logical_type_of(*f.schema) == logical::LogicalType::kDecimal && p &&
          std::sscanf(p->c_str(), "%d", &precision) == 1 && precision > max_) {
        SchemaBuilder fb = copy_schema(*f.schema);
        fb.parameter(std::string(kPrecisionParameter), std::to_string(max_));
        b.field(f.name, fb.build());
        changed = true;
      } else {
        b.field(f.name, f.schema);
      }
    }
    return changed ? b.build() : in;
  }

  int max_ = 0;
  SchemaCache<SchemaPtr> cache_;
};

// --- SetNull -------------------------------------------------------------------------------

class SetNull final : public SideTransform {
 public:
  using SideTransform::SideTransform;
  void configure(const KeyValue&) override {}

 protected:
  bool apply(SchemaPtr& schema, Value& value, ConnectRecord&) const override {
    schema = nullptr;
    value = Value();
    return true;
  }
};

}  // namespace

void register_seed_transforms(PluginRegistrar& registrar) {
  add_side_transform<ChangeCase>(registrar, kRocketmqPackage, "ChangeCase",
                                 "Renames fields between case formats, recursively.");
  add_side_transform<ExtractNestedField>(
      registrar, kRocketmqPackage, "ExtractNestedField",
      "Copies a field of a nested struct to a new top-level field.");
  add_side_transform<PatternRename>(registrar, kRocketmqPackage, "PatternRename",
                                    "Renames top-level fields with a regular expression.");
  add_side_transform<PatternFilter>(
      registrar, kRocketmqPackage, "PatternFilter",
      "Drops records whose string field matches a regular expression.");
  add_side_transform<SetMaximumPrecision>(registrar, kRocketmqPackage, "SetMaximumPrecision",
                                          "Caps the declared precision of Decimal fields.");
  add_side_transform<SetNull>(registrar, kRocketmqPackage, "SetNull",
                              "Sets the key or value (and its schema) to null.");
}

}  // namespace rmqc::transforms
