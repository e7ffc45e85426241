#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rmqc {

// String keys to string values: connector and task configs, record extensions (headers).
// As openconnect's KeyValue, values are stored as strings; typed getters parse them.
class KeyValue {
 public:
  using Map = std::map<std::string, std::string, std::less<>>;

  KeyValue() = default;
  KeyValue(std::initializer_list<Map::value_type> init) : map_(init) {}
  explicit KeyValue(Map map) : map_(std::move(map)) {}

  KeyValue& put(std::string key, std::string value);
  KeyValue& put(std::string key, const char* value) {
    return put(std::move(key), std::string(value));
  }
  KeyValue& put(std::string key, std::int64_t value);
  KeyValue& put(std::string key, std::int32_t value) {
    return put(std::move(key), std::int64_t{value});
  }
  KeyValue& put(std::string key, double value);
  KeyValue& put(std::string key, bool value);

  bool contains(std::string_view key) const { return map_.find(key) != map_.end(); }
  bool erase(std::string_view key);
  // nullptr when absent.
  const std::string* find(std::string_view key) const;

  // The value, or fallback when absent. A present but unparsable value throws DataException naming
  // the key (configs are validated by ConfigDef before a connector sees them).
  std::string get_string(std::string_view key, std::string_view fallback = {}) const;
  std::int64_t get_long(std::string_view key, std::int64_t fallback = 0) const;
  std::int32_t get_int(std::string_view key, std::int32_t fallback = 0) const;
  double get_double(std::string_view key, double fallback = 0) const;
  bool get_bool(std::string_view key, bool fallback = false) const;

  // Keys starting with prefix, with the prefix removed: "value.converter." -> converter config.
  KeyValue with_prefix_stripped(std::string_view prefix) const;

  std::size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  const Map& map() const { return map_; }
  Map::const_iterator begin() const { return map_.begin(); }
  Map::const_iterator end() const { return map_.end(); }
  bool operator==(const KeyValue& other) const = default;

 private:
  Map map_;
};

}  // namespace rmqc
