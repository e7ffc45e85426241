// Kafka Connect's predicates: TopicNameMatches, HasHeaderKey, RecordIsTombstone.
#include "transforms/transform_support.h"

namespace rmqc::transforms {
namespace {

class TopicNameMatches final : public Configured<Predicate> {
 public:
  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("pattern", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kMedium,
               "RE2 regular expression matched against the whole topic name.", valid_regex());
    return def;
  }

  void configure(const KeyValue& c) override {
    re_ = compile_regex("pattern", c.get_string("pattern"));
  }

  bool test(const ConnectRecord& record) const override {
    std::string_view topic = record.topic();
    return RE2::FullMatch(re2::StringPiece(topic.data(), topic.size()), *re_);
  }

 private:
  std::unique_ptr<const RE2> re_;
};

class HasHeaderKey final : public Configured<Predicate> {
 public:
  ConfigDef config_def() const override {
    ConfigDef def;
    def.define("name", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kMedium,
               "The header (extension) name to look for.", validators::non_empty());
    return def;
  }

  void configure(const KeyValue& c) override { name_ = c.get_string("name"); }

  bool test(const ConnectRecord& record) const override {
    return record.extensions.contains(name_);
  }

 private:
  std::string name_;
};

class RecordIsTombstone final : public Predicate {
 public:
  void start(const KeyValue&) override {}
  bool test(const ConnectRecord& record) const override { return record.value.is_null(); }
};

template <typename T>
void add(PluginRegistrar& registrar, std::string_view name, std::string doc) {
  PluginDescriptor d;
  d.class_name = std::string(kKafkaPredicatePackage) + std::string(name);
  d.aliases.emplace_back(name);
  d.version = "1.0";
  d.doc = std::move(doc);
  registrar.add_predicate(std::move(d), [] { return std::make_unique<T>(); });
}

}  // namespace

void register_predicates(PluginRegistrar& registrar) {
  add<TopicNameMatches>(registrar, "TopicNameMatches",
                        "True when the topic matches a regular expression.");
  add<HasHeaderKey>(registrar, "HasHeaderKey", "True when the record has a header of this name.");
  add<RecordIsTombstone>(registrar, "RecordIsTombstone", "True when the value is null.");
}

}  // namespace rmqc::transforms
