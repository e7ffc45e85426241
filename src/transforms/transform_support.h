#pragma once

// Shared pieces of the built-in transforms: config parsing, config errors that name their key,
// RE2 helpers, the $Key/$Value base classes, a derived-schema cache and struct rebuilding.

#include "rmqc/api/config_def.h"
#include "rmqc/api/errors.h"
#include "rmqc/api/predicate.h"
#include "rmqc/api/struct.h"
#include "rmqc/api/transform.h"
#include "rmqc/plugin/registrar.h"

#include <re2/re2.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace rmqc::transforms {

// A bad transform or predicate config value. key() is the key without the
// "transforms.<alias>." prefix; TransformChain adds the prefix when it reports the error.
class ConfigError : public ConnectException {
 public:
  ConfigError(std::string key, const std::string& message)
      : ConnectException(message), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// config with def's defaults applied; the first bad key is thrown as a ConfigError.
KeyValue parse_config(const ConfigDef& def, const KeyValue& config);

// Implements start() for a transform or predicate with a fixed config_def(): the config is checked
// against it and handed to configure() with its defaults applied, so each one only says what its
// keys mean.
template <typename Base>
class Configured : public Base {
 public:
  using Base::Base;
  void start(const KeyValue& config) final { configure(parse_config(this->config_def(), config)); }
  virtual void configure(const KeyValue& config) = 0;
};

// Defines replace.null.with.default, which Kafka's version of a transform takes, as accepted but
// without effect here.
void define_ignored_replace_null_with_default(ConfigDef& def);

// Validator accepting only patterns RE2 compiles.
ConfigDef::Validator valid_regex();
// Validator accepting values of a fixed set, case-sensitively, listing them in the message.
ConfigDef::Validator one_of_exact(std::vector<std::string> allowed);

// Compiles pattern or throws ConfigError naming key.
std::unique_ptr<const RE2> compile_regex(std::string_view key, const std::string& pattern);

// A Java replacement string ("$1", "${name}", "\$") as an RE2 rewrite ("\1"), checked against re;
// throws ConfigError naming key when it refers to a group re does not have.
std::string java_replacement_to_rewrite(std::string_view key, std::string_view replacement,
                                        const RE2& re);

// Rewrites text with the groups of a whole-string match; false when re does not match all of it.
bool full_match_rewrite(const RE2& re, const std::string& rewrite, std::string_view text,
                        std::string& out);

enum class Side { kKey, kValue };

// Base of the $Key / $Value transforms: works on one side's schema and value in place, so the
// record is moved through without copies.
class SideTransform : public Configured<Transform> {
 public:
  explicit SideTransform(Side side) : side_(side) {}
  std::optional<ConnectRecord> do_transform(ConnectRecord record) final;

 protected:
  // Rewrites schema and value in place; returns false to drop the record.
  virtual bool apply(SchemaPtr& schema, Value& value, ConnectRecord& record) const = 0;
  Side side() const { return side_; }
  const char* side_name() const { return side_ == Side::kKey ? "key" : "value"; }

 private:
  Side side_;
};

// Base of the $Key / $Value transforms that work on the fields of a struct (with a schema) or of a
// map (without one). A null key/value passes unchanged (tombstones); any other kind is a
// DataException naming purpose, a string literal.
class StructOrMapTransform : public SideTransform {
 public:
  StructOrMapTransform(Side side, std::string_view purpose)
      : SideTransform(side), purpose_(purpose) {}

 protected:
  bool apply(SchemaPtr& schema, Value& value, ConnectRecord& record) const override;
  virtual void apply_to_map(ValueMap& map, ConnectRecord& record) const = 0;
  // schema is in's; the transform replaces it when it rebuilds in with a derived schema.
  virtual void apply_to_struct(SchemaPtr& schema, Struct& in, ConnectRecord& record) const = 0;

 private:
  std::string_view purpose_;
};

// Derived data per input schema (an output schema and whatever mapping goes with it), keyed by
// the input schema's address. Each entry keeps its input SchemaPtr alive, so an address cannot be
// reused by another schema while cached. Records of one stream share one schema, so the hit is
// one short locked scan; the mutex keeps a transform safe when a chain is shared across threads
// (uncontended, it costs a few nanoseconds, below one allocation).
template <typename Derived>
class SchemaCache {
 public:
  // A cached SchemaPtr is handed out as is; other derived data through a shared_ptr.
  static constexpr bool kIsSchema = std::is_same_v<Derived, SchemaPtr>;
  using Ptr = std::conditional_t<kIsSchema, SchemaPtr, std::shared_ptr<const Derived>>;

  template <typename Build>
  Ptr get(const SchemaPtr& in, Build&& build) const {
    {
      std::lock_guard lock(mutex_);
      for (const auto& e : entries_) {
        if (e.first.get() == in.get()) return e.second;
      }
    }
    Ptr built;
    if constexpr (kIsSchema) {
      built = build(in);
    } else {
      built = std::make_shared<const Derived>(build(in));
    }
    std::lock_guard lock(mutex_);
    if (entries_.size() < kCapacity) {
      entries_.emplace_back(in, built);
    } else {
      entries_[next_victim_] = {in, built};
      next_victim_ = (next_victim_ + 1) % kCapacity;
    }
    return built;
  }

 private:
  static constexpr std::size_t kCapacity = 16;
  mutable std::mutex mutex_;
  mutable std::vector<std::pair<SchemaPtr, Ptr>> entries_;
  mutable std::size_t next_victim_ = 0;
};

// A builder for a STRUCT schema copying in's name, version, doc, optionality and parameters.
SchemaBuilder copy_struct_header(const Schema& in);
// A builder for any schema copying everything but fields (for primitive/logical schemas).
SchemaBuilder copy_schema(const Schema& in);

// Turns in into a struct of schema out whose slot i is moved from in's old slot source[i] (null
// when < 0). Done in place, so the Value holding in keeps its allocation.
void rebuild_struct(Struct& in, const SchemaPtr& out, const std::vector<int>& source);
// The same for an out whose fields start with in's, in order (retyped, or followed by new ones):
// in's slots move to out's leading slots; out's other slots keep what the caller put there.
void rebuild_struct(Struct& in, Struct out);
inline void rebuild_struct(Struct& in, const SchemaPtr& out) {
  rebuild_struct(in, Struct(out));
}

// A derived struct schema and, per output field, the input field it is taken from.
struct StructProjection {
  SchemaPtr schema;
  std::vector<int> source;
};

// The map entry for a string key, or nullptr.
Value* find_entry(ValueMap& map, std::string_view key);
// Replaces the entry for a string key in place, or appends one.
void set_entry(ValueMap& map, std::string_view key, Value value);

// The field called name, else a DataException "<transform>: '<name>' is not a field of <schema>".
const Field& require_field(const Schema& schema, const std::string& name,
                           std::string_view transform);

// Throws DataException unless value holds a struct (with schema) or a map (without).
Struct& require_struct(Value& value, std::string_view purpose);
ValueMap& require_map(Value& value, std::string_view purpose);

// Renders a field value as header text (strings unquoted).
std::string header_text(const Value& value);

// Names of every transform and predicate family; defined in the family files.
void register_seed_transforms(PluginRegistrar& registrar);
void register_field_transforms(PluginRegistrar& registrar);
void register_cast_transforms(PluginRegistrar& registrar);
void register_router_transforms(PluginRegistrar& registrar);
void register_predicates(PluginRegistrar& registrar);
void register_debezium_transforms(PluginRegistrar& registrar);

inline constexpr std::string_view kRocketmqPackage = "org.apache.rocketmq.connect.transforms.";
inline constexpr std::string_view kKafkaPackage = "org.apache.kafka.connect.transforms.";
inline constexpr std::string_view kKafkaPredicatePackage =
    "org.apache.kafka.connect.transforms.predicates.";

// Registers T(Side::kKey) and T(Side::kValue) as <package><name>$Key / $Value, with the short
// aliases <name>$Key / <name>$Value (and any extra packages as further aliases).
template <typename T>
void add_side_transform(PluginRegistrar& registrar, std::string_view package, std::string_view name,
                        const std::string& doc,
                        const std::vector<std::string_view>& extra_packages = {}) {
  for (Side side : {Side::kKey, Side::kValue}) {
    std::string suffix = side == Side::kKey ? "$Key" : "$Value";
    PluginDescriptor d;
    d.class_name = std::string(package) + std::string(name) + suffix;
    d.aliases.push_back(std::string(name) + suffix);
    for (auto p : extra_packages) d.aliases.push_back(std::string(p) + std::string(name) + suffix);
    d.version = "1.0";
    d.doc = doc;
    registrar.add_transform(std::move(d), [side] { return std::make_unique<T>(side); });
  }
}

// Registers a transform without key/value variants under <package><name> and <name>.
template <typename T>
void add_plain_transform(PluginRegistrar& registrar, std::string_view package,
                         std::string_view name, const std::string& doc,
                         const std::vector<std::string_view>& extra_packages = {}) {
  PluginDescriptor d;
  d.class_name = std::string(package) + std::string(name);
  d.aliases.emplace_back(name);
  for (auto p : extra_packages) d.aliases.push_back(std::string(p) + std::string(name));
  d.version = "1.0";
  d.doc = doc;
  registrar.add_transform(std::move(d), [] { return std::make_unique<T>(); });
}

}  // namespace rmqc::transforms
