// Transforms on the record envelope: topic routers, Filter, header transforms and
// SetSchemaMetadata.
#include "transforms/time_format.h"
#include "transforms/transform_support.h"

namespace rmqc::transforms {
namespace {

// --- RegexRouter ---------------------------------------------------------------------------

// Kafka semantics: when regex matches the whole topic, the topic becomes the replacement (with
// group references). Unlike the Java RocketMQ class (abstract, and writing into the partition
// map), it is concrete and routes through the "topic" extension.
class RegexRouter final : public Configured<Transform> {
 public:
  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("regex", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kHigh,
               "RE2 regular expression matched against the whole topic name.", valid_regex());
    def.define("replacement", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kHigh,
               "The new topic; $1 or ${name} insert groups of the match (Java syntax).");
    return def;
  }

  void configure(const KeyValue& c) override {
    re_ = compile_regex("regex", c.get_string("regex"));
    rewrite_ = java_replacement_to_rewrite("replacement", c.get_string("replacement"), *re_);
  }

  std::optional<ConnectRecord> do_transform(ConnectRecord record) override {
    std::string topic;
    if (full_match_rewrite(*re_, rewrite_, record.topic(), topic)) {
      record.set_topic(std::move(topic));
    }
    return record;
  }

 private:
  std::unique_ptr<const RE2> re_;
  std::string rewrite_;
};

// --- TimestampRouter -----------------------------------------------------------------------

class TimestampRouter final : public Configured<Transform> {
 public:
  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("topic.format", ConfigDef::Type::kString, "${topic}-${timestamp}",
               ConfigDef::Importance::kHigh,
               "The new topic: ${topic} is the current topic, ${timestamp} the record timestamp "
               "formatted with timestamp.format.");
    def.define("timestamp.format", ConfigDef::Type::kString, "yyyyMMdd",
               ConfigDef::Importance::kHigh,
               "java.text.SimpleDateFormat pattern for ${timestamp}, in UTC.");
    return def;
  }

  void configure(const KeyValue& c) override {
    std::string error;
    auto f = TimeFormat::compile(c.get_string("timestamp.format"), error);
    if (!f) {
      throw ConfigError("timestamp.format", "Invalid value '" + c.get_string("timestamp.format") +
                                                "' for configuration timestamp.format: " + error);
    }
    format_ = std::move(*f);
    // Split topic.format once into literal text and placeholders.
    const std::string spec = c.get_string("topic.format");
    parts_.clear();
    std::size_t i = 0;
    while (i < spec.size()) {
      auto t = spec.find("${topic}", i);
      auto s = spec.find("${timestamp}", i);
      auto next = std::min(t, s);
      if (next == std::string::npos) {
        parts_.push_back({Part::kLiteral, spec.substr(i)});
        break;
      }
      if (next > i) parts_.push_back({Part::kLiteral, spec.substr(i, next - i)});
      if (next == t) {
        parts_.push_back({Part::kTopic, {}});
        i = next + 8;
      } else {
        parts_.push_back({Part::kTimestamp, {}});
        i = next + 12;
      }
    }
  }

  std::optional<ConnectRecord> do_transform(ConnectRecord record) override {
    if (!record.timestamp) {
      throw DataException("TimestampRouter: timestamp missing on record (topic '" +
                          std::string(record.topic()) + "')");
    }
    std::string topic;
    for (const auto& p : parts_) {
      switch (p.kind) {
        case Part::kLiteral:
          topic += p.text;
          break;
        case Part::kTopic:
          topic += record.topic();
          break;
        case Part::kTimestamp:
          format_.format_to(*record.timestamp, topic);
          break;
      }
    }
    record.set_topic(std::move(topic));
    return record;
  }

 private:
  struct Part {
    enum Kind { kLiteral, kTopic, kTimestamp } kind;
    std::string text;
  };
  std::vector<Part> parts_;
  TimeFormat format_ = *[] {
    std::string e;
    return TimeFormat::compile("yyyyMMdd", e);
  }();
};

// --- Filter --------------------------------------------------------------------------------

// Drops every record it is applied to; meant to be used with a predicate.
class Filter final : public Transform {
 public:
  void start(const KeyValue&) override {}
  std::optional<ConnectRecord> do_transform(ConnectRecord) override { return std::nullopt; }
};

// --- InsertHeader / DropHeaders ------------------------------------------------------------

class InsertHeader final : public Configured<Transform> {
 public:
  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("header", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kHigh,
               "The header (extension) name to set.", validators::non_empty());
    def.define("value.literal", ConfigDef::Type::kString, std::nullopt,
               ConfigDef::Importance::kHigh, "The header value.");
    return def;
  }

  void configure(const KeyValue& c) override {
    header_ = c.get_string("header");
    value_ = c.get_string("value.literal");
  }

  std::optional<ConnectRecord> do_transform(ConnectRecord record) override {
    record.extensions.put(header_, value_);
    return record;
  }

 private:
  std::string header_;
  std::string value_;
};

class DropHeaders final : public Configured<Transform> {
 public:
  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("headers", ConfigDef::Type::kList, std::nullopt, ConfigDef::Importance::kHigh,
               "The header (extension) names to remove.", validators::non_empty());
    return def;
  }

  void configure(const KeyValue& c) override { headers_ = split_list(c.get_string("headers")); }

  std::optional<ConnectRecord> do_transform(ConnectRecord record) override {
    for (const auto& h : headers_) record.extensions.erase(h);
    return record;
  }

 private:
  std::vector<std::string> headers_;
};

// --- HeaderFrom ----------------------------------------------------------------------------

class HeaderFrom final : public StructOrMapTransform {
 public:
  explicit HeaderFrom(Side side) : StructOrMapTransform(side, "copying fields to headers") {}

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("fields", ConfigDef::Type::kList, std::nullopt, ConfigDef::Importance::kHigh,
               "Top-level fields whose values become headers.", validators::non_empty());
    def.define("headers", ConfigDef::Type::kList, std::nullopt, ConfigDef::Importance::kHigh,
               "Header names, one per field, in the same order.", validators::non_empty());
    def.define("operation", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kHigh,
               "'copy' keeps the fields, 'move' removes them from the record.",
               one_of_exact({"copy", "move"}));
    return def;
  }

  void configure(const KeyValue& c) override {
    fields_ = split_list(c.get_string("fields"));
    headers_ = split_list(c.get_string("headers"));
    if (fields_.size() != headers_.size()) {
      throw ConfigError("headers",
                        "Invalid configuration headers: " + std::to_string(headers_.size()) +
                            " headers for " + std::to_string(fields_.size()) +
                            " fields; 'fields' and 'headers' must have the same length");
    }
    move_ = c.get_string("operation") == "move";
  }

 protected:
  struct Derived : StructProjection {
    std::vector<int> field_index;  // per configured field, its input index (-1 absent)
  };

  void apply_to_map(ValueMap& map, ConnectRecord& record) const override {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      if (Value* v = find_entry(map, fields_[i]); v && !v->is_null()) {
        record.extensions.put(headers_[i], header_text(*v));
      }
    }
    if (move_) {
      std::erase_if(map, [&](const auto& e) {
        const auto* k = e.first.template get_if<std::string>();
        return k && std::find(fields_.begin(), fields_.end(), *k) != fields_.end();
      });
    }
  }

  void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord& record) const override {
    auto d = cache_.get(schema, [&](const SchemaPtr& s) { return derive(s); });
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      int idx = d->field_index[i];
      if (idx < 0) continue;
      const Value& v = in.get(schema->fields()[idx]);
      if (!v.is_null()) record.extensions.put(headers_[i], header_text(v));
    }
    if (move_) {
      rebuild_struct(in, d->schema, d->source);
      schema = d->schema;
    }
  }

 private:
  Derived derive(const SchemaPtr& in) const {
    Derived d;
    for (const auto& f : fields_) {
      d.field_index.push_back(require_field(*in, f, "HeaderFrom").index);
    }
    SchemaBuilder b = copy_struct_header(*in);
    for (const auto& f : in->fields()) {
      if (std::find(fields_.begin(), fields_.end(), f.name) != fields_.end()) continue;
      b.field(f.name, f.schema);
      d.source.push_back(f.index);
    }
    d.schema = move_ ? b.build() : in;
    return d;
  }

  std::vector<std::string> fields_;
  std::vector<std::string> headers_;
  bool move_ = false;
  SchemaCache<Derived> cache_;
};

// --- SetSchemaMetadata ---------------------------------------------------------------------

class SetSchemaMetadata final : public SideTransform {
 public:
  using SideTransform::SideTransform;

  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("schema.name", ConfigDef::Type::kString, "", ConfigDef::Importance::kHigh,
               "The schema name to set (empty: keep).");
    def.define("schema.version", ConfigDef::Type::kInt, "0", ConfigDef::Importance::kHigh,
               "The schema version to set (0: keep).");
    return def;
  }

  void configure(const KeyValue& c) override {
    name_ = c.get_string("schema.name");
    version_ = c.get_int("schema.version");
    if (name_.empty() && version_ == 0) {
      throw ConfigError("schema.name",
                        "Invalid configuration schema.name: set schema.name, "
                        "schema.version or both");
    }
  }

 protected:
  bool apply(SchemaPtr& schema, Value& value, ConnectRecord&) const override {
    if (!schema) {
      throw DataException("SetSchemaMetadata: the " + std::string(side_name()) + " has no schema");
    }
    auto d = cache_.get(schema, [&](const SchemaPtr& s) {
      SchemaBuilder b = copy_schema(*s);
      if (!name_.empty()) b.name(name_);
      if (version_ != 0) b.version(version_);
      return b.build();
    });
    if (Struct* s = value.get_struct_if()) rebuild_struct(*s, d);
    schema = d;
    return true;
  }

 private:
  std::string name_;
  std::int32_t version_ = 0;
  SchemaCache<SchemaPtr> cache_;
};

}  // namespace

void register_router_transforms(PluginRegistrar& registrar) {
  add_plain_transform<RegexRouter>(registrar, kKafkaPackage, "RegexRouter",
                                   "Rewrites the topic with a regular expression.",
                                   {kRocketmqPackage});
  add_plain_transform<TimestampRouter>(
      registrar, kKafkaPackage, "TimestampRouter",
      "Rewrites the topic from the current topic and the record timestamp.");
  add_plain_transform<Filter>(registrar, kKafkaPackage, "Filter",
                              "Drops every record (use with a predicate).");
  add_plain_transform<InsertHeader>(registrar, kKafkaPackage, "InsertHeader",
                                    "Sets a header to a literal value.");
  add_plain_transform<DropHeaders>(registrar, kKafkaPackage, "DropHeaders", "Removes headers.");
  add_side_transform<HeaderFrom>(registrar, kKafkaPackage, "HeaderFrom",
                                 "Copies or moves fields into headers.");
  add_side_transform<SetSchemaMetadata>(registrar, kKafkaPackage, "SetSchemaMetadata",
                                        "Sets the schema name and/or version.");
}

}  // namespace rmqc::transforms
