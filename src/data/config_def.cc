#include "rmqc/api/config_def.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace rmqc {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

template <typename T>
bool parses_as(std::string_view text) {
  text = trim(text);
  if (text.empty()) return false;
  T out{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool lower_equals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// nullopt when text is a valid value of type.
std::optional<std::string> type_error(ConfigDef::Type type, std::string_view text) {
  switch (type) {
    case ConfigDef::Type::kBoolean:
      if (lower_equals(trim(text), "true") || lower_equals(trim(text), "false"))
        return std::nullopt;
      return "expected true or false, got '" + std::string(text) + "'";
    case ConfigDef::Type::kInt:
      if (parses_as<std::int32_t>(text)) return std::nullopt;
      return "expected a 32-bit integer, got '" + std::string(text) + "'";
    case ConfigDef::Type::kLong:
      if (parses_as<std::int64_t>(text)) return std::nullopt;
      return "expected a 64-bit integer, got '" + std::string(text) + "'";
    case ConfigDef::Type::kDouble:
      if (parses_as<double>(text)) return std::nullopt;
      return "expected a number, got '" + std::string(text) + "'";
    case ConfigDef::Type::kClass:
      if (!trim(text).empty()) return std::nullopt;
      return std::string("expected a class name, got an empty value");
    case ConfigDef::Type::kString:
    case ConfigDef::Type::kList:
    case ConfigDef::Type::kPassword:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

ConfigDef& ConfigDef::define(Key key) {
  auto it =
      std::find_if(keys_.begin(), keys_.end(), [&](const Key& k) { return k.name == key.name; });
  if (it != keys_.end()) {
    *it = std::move(key);  // a later definition refines an earlier one (connector over common)
  } else {
    keys_.push_back(std::move(key));
  }
  return *this;
}

ConfigDef& ConfigDef::define(std::string name, Type type, std::optional<std::string> default_value,
                             Importance importance, std::string documentation,
                             Validator validator) {
  return define(Key{std::move(name), type, std::move(default_value), importance,
                    std::move(documentation), std::move(validator)});
}

ConfigDef& ConfigDef::merge(const ConfigDef& other) {
  for (const auto& k : other.keys_) define(k);
  return *this;
}

const ConfigDef::Key* ConfigDef::find(std::string_view name) const {
  for (const auto& k : keys_) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::vector<ConfigDef::KeyResult> ConfigDef::validate(const KeyValue& config) const {
  std::vector<KeyResult> out;
  out.reserve(keys_.size());
  for (const auto& key : keys_) {
    KeyResult r{key.name, std::nullopt, {}};
    const std::string* given = config.find(key.name);
    std::optional<std::string> value =
        given ? std::optional<std::string>(*given) : key.default_value;
    if (!value) {
      r.errors.push_back("Missing required configuration \"" + key.name +
                         "\" which has no default value.");
    } else if (auto err = type_error(key.type, *value)) {
      r.errors.push_back("Invalid value for configuration " + key.name + ": " + *err);
    } else if (key.validator) {
      if (auto verr = key.validator(*value)) {
        r.errors.push_back("Invalid value '" + *value + "' for configuration " + key.name + ": " +
                           *verr);
      }
    }
    if (value) r.value = key.type == Type::kPassword ? "[hidden]" : *value;
    out.push_back(std::move(r));
  }
  return out;
}

Result<KeyValue> ConfigDef::parse(const KeyValue& config) const {
  std::string problems;
  for (const auto& r : validate(config)) {
    for (const auto& e : r.errors) {
      if (!problems.empty()) problems += "; ";
      problems += e;
    }
  }
  if (!problems.empty()) return Error(ErrorCode::kInvalidConfig, std::move(problems));
  KeyValue out = config;
  for (const auto& key : keys_) {
    if (!out.contains(key.name) && key.default_value) out.put(key.name, *key.default_value);
  }
  return out;
}

std::string_view config_type_name(ConfigDef::Type type) {
  switch (type) {
    case ConfigDef::Type::kBoolean:
      return "BOOLEAN";
    case ConfigDef::Type::kString:
      return "STRING";
    case ConfigDef::Type::kInt:
      return "INT";
    case ConfigDef::Type::kLong:
      return "LONG";
    case ConfigDef::Type::kDouble:
      return "DOUBLE";
    case ConfigDef::Type::kList:
      return "LIST";
    case ConfigDef::Type::kClass:
      return "CLASS";
    case ConfigDef::Type::kPassword:
      return "PASSWORD";
  }
  return "UNKNOWN";
}

std::string_view importance_name(ConfigDef::Importance importance) {
  switch (importance) {
    case ConfigDef::Importance::kHigh:
      return "HIGH";
    case ConfigDef::Importance::kMedium:
      return "MEDIUM";
    case ConfigDef::Importance::kLow:
      return "LOW";
  }
  return "UNKNOWN";
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find_first_of(",;", start);
    if (end == std::string_view::npos) end = value.size();
    auto item = trim(value.substr(start, end - start));
    if (!item.empty()) out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

namespace validators {

ConfigDef::Validator at_least(double min) {
  return [min](std::string_view v) -> std::optional<std::string> {
    double d = 0;
    auto t = trim(v);
    std::from_chars(t.data(), t.data() + t.size(), d);
    if (d < min) return "must be at least " + std::to_string(min);
    return std::nullopt;
  };
}

ConfigDef::Validator between(double min, double max) {
  return [min, max](std::string_view v) -> std::optional<std::string> {
    double d = 0;
    auto t = trim(v);
    std::from_chars(t.data(), t.data() + t.size(), d);
    if (d < min || d > max) {
      return "must be between " + std::to_string(min) + " and " + std::to_string(max);
    }
    return std::nullopt;
  };
}

ConfigDef::Validator one_of(std::vector<std::string> allowed, bool case_insensitive) {
  return [allowed = std::move(allowed),
          case_insensitive](std::string_view v) -> std::optional<std::string> {
    auto t = trim(v);
    for (const auto& a : allowed) {
      if (case_insensitive ? lower_equals(a, t) : a == t) return std::nullopt;
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return "must be one of " + list;
  };
}

ConfigDef::Validator non_empty() {
  return [](std::string_view v) -> std::optional<std::string> {
    if (trim(v).empty()) return std::string("must not be empty");
    return std::nullopt;
  };
}

}  // namespace validators
}  // namespace rmqc
