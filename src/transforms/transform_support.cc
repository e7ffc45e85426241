#include "transforms/transform_support.h"

#include "rmqc/plugin/registrar.h"

#include <algorithm>

namespace rmqc::transforms {

KeyValue parse_config(const ConfigDef& def, const KeyValue& config) {
  for (const auto& r : def.validate(config)) {
    if (!r.errors.empty()) throw ConfigError(r.name, r.errors.front());
  }
  KeyValue out = config;
  for (const auto& key : def.keys()) {
    if (!out.contains(key.name) && key.default_value) out.put(key.name, *key.default_value);
  }
  return out;
}

void define_ignored_replace_null_with_default(ConfigDef& def) {
  def.define("replace.null.with.default", ConfigDef::Type::kBoolean, "true",
             ConfigDef::Importance::kLow, "Accepted for Kafka compatibility; no effect here.");
}

ConfigDef::Validator valid_regex() {
  return [](std::string_view value) -> std::optional<std::string> {
    RE2 re(value, RE2::Quiet);
    if (!re.ok()) return "not a valid RE2 regular expression: " + re.error();
    return std::nullopt;
  };
}

ConfigDef::Validator one_of_exact(std::vector<std::string> allowed) {
  return [allowed = std::move(allowed)](std::string_view value) -> std::optional<std::string> {
    if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return std::nullopt;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return "must be one of " + list;
  };
}

std::unique_ptr<const RE2> compile_regex(std::string_view key, const std::string& pattern) {
  auto re = std::make_unique<const RE2>(pattern, RE2::Quiet);
  if (!re->ok()) {
    throw ConfigError(std::string(key), "Invalid value '" + pattern + "' for configuration " +
                                            std::string(key) +
                                            ": not a valid RE2 regular expression: " + re->error());
  }
  return re;
}

std::string java_replacement_to_rewrite(std::string_view key, std::string_view replacement,
                                        const RE2& re) {
  std::string out;
  auto bad = [&](const std::string& why) {
    return ConfigError(std::string(key), "Invalid value '" + std::string(replacement) +
                                             "' for configuration " + std::string(key) + ": " +
                                             why);
  };
  for (std::size_t i = 0; i < replacement.size(); ++i) {
    char c = replacement[i];
    if (c == '\\') {
      if (i + 1 >= replacement.size()) throw bad("trailing backslash");
      char next = replacement[++i];
      if (next == '\\') {
        out += "\\\\";
      } else {
        out += next;
      }
    } else if (c == '$') {
      if (i + 1 < replacement.size() && replacement[i + 1] == '{') {
        auto close = replacement.find('}', i + 2);
        if (close == std::string_view::npos) throw bad("unclosed group name");
        std::string name(replacement.substr(i + 2, close - i - 2));
        const auto& names = re.NamedCapturingGroups();
        auto it = names.find(name);
        if (it == names.end()) throw bad("no group named '" + name + "'");
        out += '\\';
        out += std::to_string(it->second);
        i = close;
      } else if (i + 1 < replacement.size() && replacement[i + 1] >= '0' &&
                 replacement[i + 1] <= '9') {
        int group = replacement[++i] - '0';
        if (group > re.NumberOfCapturingGroups()) {
          throw bad("no group " + std::to_string(group));
        }
        out += '\\';
        out += static_cast<char>('0' + group);
      } else {
        throw bad("'$' must be followed by a group number or {name}");
      }
    } else {
      out += c;
    }
  }
  std::string err;
  if (!re.CheckRewriteString(out, &err)) throw bad(err);
  return out;
}

bool full_match_rewrite(const RE2& re, const std::string& rewrite, std::string_view text,
                        std::string& out) {
  constexpr int kMaxGroups = 10;  // rewrites refer to \0..\9
  re2::StringPiece groups[kMaxGroups];
  int n = std::min(re.NumberOfCapturingGroups() + 1, kMaxGroups);
  if (!re.Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::ANCHOR_BOTH,
                groups, n)) {
    return false;
  }
  out.clear();
  return re.Rewrite(&out, rewrite, groups, n);
}

std::optional<ConnectRecord> SideTransform::do_transform(ConnectRecord record) {
  bool keep = side_ == Side::kKey ? apply(record.key_schema, record.key, record)
                                  : apply(record.value_schema, record.value, record);
  if (!keep) return std::nullopt;
  return record;
}

bool StructOrMapTransform::apply(SchemaPtr& schema, Value& value, ConnectRecord& record) const {
  if (value.is_null()) return true;
  if (schema) {
    apply_to_struct(schema, require_struct(value, purpose_), record);
  } else {
    apply_to_map(require_map(value, purpose_), record);
  }
  return true;
}

SchemaBuilder copy_struct_header(const Schema& in) {
  SchemaBuilder b = SchemaBuilder::struct_();
  if (!in.name().empty()) b.name(in.name());
  if (in.version()) b.version(*in.version());
  if (!in.doc().empty()) b.doc(in.doc());
  if (in.optional()) b.optional();
  if (!in.parameters().empty()) b.parameters(in.parameters());
  return b;
}

SchemaBuilder copy_schema(const Schema& in) {
  SchemaBuilder b = in.type() == FieldType::kArray ? SchemaBuilder::array(in.value_schema())
                    : in.type() == FieldType::kMap
                        ? SchemaBuilder::map(in.key_schema(), in.value_schema())
                        : SchemaBuilder(in.type());
  if (!in.name().empty()) b.name(in.name());
  if (in.version()) b.version(*in.version());
  if (!in.doc().empty()) b.doc(in.doc());
  if (in.optional()) b.optional();
  if (!in.parameters().empty()) b.parameters(in.parameters());
  for (const auto& f : in.fields()) b.field(f.name, f.schema);
  if (const Value* d = in.default_value()) b.default_value(*d);
  return b;
}

void rebuild_struct(Struct& in, const SchemaPtr& out, const std::vector<int>& source) {
  Struct s(out);
  auto& from = in.values();
  auto& to = s.values();
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] >= 0) to[i] = std::move(from[source[i]]);
  }
  in = std::move(s);
}

void rebuild_struct(Struct& in, Struct out) {
  auto& from = in.values();
  auto& to = out.values();
  for (std::size_t i = 0; i < std::min(from.size(), to.size()); ++i) to[i] = std::move(from[i]);
  in = std::move(out);
}

Value* find_entry(ValueMap& map, std::string_view key) {
  for (auto& [k, v] : map) {
    if (const auto* s = k.get_if<std::string>(); s && *s == key) return &v;
  }
  return nullptr;
}

void set_entry(ValueMap& map, std::string_view key, Value value) {
  if (Value* existing = find_entry(map, key)) {
    *existing = std::move(value);
  } else {
    map.emplace_back(key, std::move(value));
  }
}

const Field& require_field(const Schema& schema, const std::string& name,
                           std::string_view transform) {
  const Field* field = schema.field(name);
  if (!field) {
    throw DataException(std::string(transform) + ": '" + name + "' is not a field of " +
                        schema.to_string());
  }
  return *field;
}

Struct& require_struct(Value& value, std::string_view purpose) {
  Struct* s = value.get_struct_if();
  if (!s) {
    throw DataException("Only Struct objects supported for [" + std::string(purpose) +
                        "], found: " + std::string(kind_name(value.kind())));
  }
  return *s;
}

ValueMap& require_map(Value& value, std::string_view purpose) {
  auto* m = value.get_if<ValueMap>();
  if (!m) {
    throw DataException("Only Map objects supported in absence of schema for [" +
                        std::string(purpose) + "], found: " + std::string(kind_name(value.kind())));
  }
  return *m;
}

std::string header_text(const Value& value) {
  return value.to_string();
}

}  // namespace rmqc::transforms
