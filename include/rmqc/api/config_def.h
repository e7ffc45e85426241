#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/base/result.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc {

// Describes the configuration keys of a connector, task, converter or transform: type, default,
// validator, importance and documentation. validate() returns per-key errors (for the REST
// validate endpoint); parse() returns the config with defaults applied, or one error listing every
// problem. Docs of every plugin are generated from these tables.
class ConfigDef {
 public:
  enum class Type { kBoolean, kString, kInt, kLong, kDouble, kList, kClass, kPassword };
  enum class Importance { kHigh, kMedium, kLow };

  // Returns an error message for a bad value, or nullopt when it is fine. Called only on values
  // that already parse as the key's type.
  using Validator = std::function<std::optional<std::string>(std::string_view value)>;

  struct Key {
    std::string name;
    Type type = Type::kString;
    std::optional<std::string> default_value;  // nullopt = required
    Importance importance = Importance::kMedium;
    std::string documentation;
    Validator validator;
  };

  struct KeyResult {
    std::string name;
    std::optional<std::string> value;  // after defaults; passwords are reported as "[hidden]"
    std::vector<std::string> errors;
  };

  ConfigDef& define(Key key);
  ConfigDef& define(std::string name, Type type, std::optional<std::string> default_value,
                    Importance importance, std::string documentation, Validator validator = {});

  // Folds another definition's keys in (a connector's keys on top of the common ones).
  ConfigDef& merge(const ConfigDef& other);

  const std::vector<Key>& keys() const { return keys_; }
  const Key* find(std::string_view name) const;

  // One result per defined key, in definition order; unknown keys in config are not errors.
  std::vector<KeyResult> validate(const KeyValue& config) const;
  // config with defaults filled in, or an InvalidConfig error naming every bad key.
  Result<KeyValue> parse(const KeyValue& config) const;

 private:
  std::vector<Key> keys_;
};

std::string_view config_type_name(ConfigDef::Type type);
std::string_view importance_name(ConfigDef::Importance importance);

// Splits a LIST value on ',' (and ';', as connect.topicnames allows), trimming blanks and
// dropping empty items.
std::vector<std::string> split_list(std::string_view value);

// Common validators.
namespace validators {
ConfigDef::Validator at_least(double min);
ConfigDef::Validator between(double min, double max);
ConfigDef::Validator one_of(std::vector<std::string> allowed, bool case_insensitive = true);
ConfigDef::Validator non_empty();
}  // namespace validators

}  // namespace rmqc
