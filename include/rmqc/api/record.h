#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/api/schema.h"
#include "rmqc/api/value.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rmqc {

// The string-keyed entries of a partition or an offset, sorted by key with unique keys: the
// subset of std::map's interface that positions use, held in one allocation (a change event's
// offset is built per record, and a node per entry was a third of a record's allocations).
// Inserting and erasing invalidate iterators, as for a vector.
class PositionMap {
 public:
  using key_type = std::string;
  using mapped_type = Value;
  using value_type = std::pair<std::string, Value>;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;

  PositionMap() = default;
  PositionMap(std::initializer_list<value_type> init);

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }
  void reserve(std::size_t n) { entries_.reserve(n); }

  iterator find(std::string_view key);
  const_iterator find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != end(); }
  std::size_t count(std::string_view key) const { return contains(key) ? 1 : 0; }
  // Throws std::out_of_range when absent, as std::map::at.
  const Value& at(std::string_view key) const;
  Value& at(std::string_view key);
  // The value under key, inserted null when absent.
  Value& operator[](std::string_view key);

  // Inserts when absent (else leaves the entry and returns it with false), as std::map. Keys are
  // anything a std::string is constructed from (a string_view too, as std::map's emplace).
  template <typename K>
  std::pair<iterator, bool> emplace(K&& key, Value value) {
    return emplace_key(std::string(std::forward<K>(key)), std::move(value));
  }
  std::pair<iterator, bool> insert(value_type entry) {
    return emplace_key(std::move(entry.first), std::move(entry.second));
  }
  // A hint of end() with keys given in order appends without a search.
  template <typename K>
  iterator emplace_hint(const_iterator hint, K&& key, Value value) {
    return emplace_hint_key(hint, std::string(std::forward<K>(key)), std::move(value));
  }
  template <typename K>
  std::pair<iterator, bool> insert_or_assign(K&& key, Value value) {
    return insert_or_assign_key(std::string(std::forward<K>(key)), std::move(value));
  }
  std::size_t erase(std::string_view key);
  iterator erase(const_iterator at) { return entries_.erase(at); }

  bool operator==(const PositionMap& other) const = default;

 private:
  iterator lower_bound(std::string_view key);
  std::pair<iterator, bool> emplace_key(std::string key, Value value);
  iterator emplace_hint_key(const_iterator hint, std::string key, Value value);
  std::pair<iterator, bool> insert_or_assign_key(std::string key, Value value);

  std::vector<value_type> entries_;
};

// Where records come from (a file name, a table, a queue) and how far a task got in it (a line
// number, a binlog position, a queue offset): maps with value equality and hashing, as
// openconnect's RecordPartition and RecordOffset.
//
// A partition is immutable and shared: every record of a source carries the same one, so copies
// share its entries and its hash (computed once) instead of copying a map per record.
class RecordPartition {
 public:
  using Map = PositionMap;
  RecordPartition() = default;
  explicit RecordPartition(Map partition);
  RecordPartition(std::initializer_list<Map::value_type> init) : RecordPartition(Map(init)) {}

  const Map& partition() const;
  const Value* find(std::string_view key) const;
  bool empty() const { return shared_ == nullptr; }
  bool operator==(const RecordPartition& other) const {
    return shared_ == other.shared_ ||
           (shared_ != nullptr && other.shared_ != nullptr &&
            shared_->hash == other.shared_->hash && shared_->map == other.shared_->map);
  }
  bool operator<(const RecordPartition& other) const;
  std::size_t hash() const { return shared_ == nullptr ? 0 : shared_->hash; }

 private:
  struct Shared {
    Map map;
    std::size_t hash = 0;
  };
  std::shared_ptr<const Shared> shared_;  // null when empty
};

class RecordOffset {
 public:
  using Map = PositionMap;
  RecordOffset() = default;
  explicit RecordOffset(Map offset) : map_(std::move(offset)) {}
  RecordOffset(std::initializer_list<Map::value_type> init) : map_(init) {}

  const Map& offset() const { return map_; }
  const Value* find(std::string_view key) const;
  bool empty() const { return map_.empty(); }
  bool operator==(const RecordOffset& other) const { return map_ == other.map_; }
  std::size_t hash() const;

 private:
  Map map_;
};

struct RecordPartitionHash {
  std::size_t operator()(const RecordPartition& p) const { return p.hash(); }
};
struct RecordOffsetHash {
  std::size_t operator()(const RecordOffset& o) const { return o.hash(); }
};

using OffsetMap = std::unordered_map<RecordPartition, RecordOffset, RecordPartitionHash>;

struct RecordPosition {
  RecordPartition partition;
  RecordOffset offset;
  bool operator==(const RecordPosition& other) const = default;
};

// One record moving through the runtime. The key identifies the data (a primary key) and keeps
// records with the same key in order; extensions are string headers (the RocketMQ message
// properties on the sink side). The well-known extension "topic" routes a source record.
struct ConnectRecord {
  RecordPosition position;
  std::optional<std::int64_t> timestamp;  // epoch milliseconds
  SchemaPtr key_schema;
  Value key;
  SchemaPtr value_schema;
  Value value;
  KeyValue extensions;

  ConnectRecord() = default;
  ConnectRecord(RecordPartition partition, RecordOffset offset, std::optional<std::int64_t> ts)
      : position{std::move(partition), std::move(offset)}, timestamp(ts) {}
  ConnectRecord(RecordPartition partition, RecordOffset offset, std::optional<std::int64_t> ts,
                SchemaPtr schema, Value data)
      : position{std::move(partition), std::move(offset)},
        timestamp(ts),
        value_schema(std::move(schema)),
        value(std::move(data)) {}
  ConnectRecord(RecordPartition partition, RecordOffset offset, std::optional<std::int64_t> ts,
                SchemaPtr record_key_schema, Value record_key, SchemaPtr schema, Value data)
      : position{std::move(partition), std::move(offset)},
        timestamp(ts),
        key_schema(std::move(record_key_schema)),
        key(std::move(record_key)),
        value_schema(std::move(schema)),
        value(std::move(data)) {}

  void add_extension(std::string key_name, std::string value_text) {
    extensions.put(std::move(key_name), std::move(value_text));
  }
  // nullptr when absent.
  const std::string* extension(std::string_view key_name) const {
    return extensions.find(key_name);
  }

  // The record's topic: the "topic" extension (set by a source task, or by a routing transform
  // such as RegexRouter), else the "topic" entry of its partition (a sink record's source queue);
  // empty when neither is set.
  std::string_view topic() const;
  void set_topic(std::string name) {
    extensions.put(std::string(kTopicExtension), std::move(name));
  }

  static constexpr std::string_view kTopicExtension = "topic";
  // The well-known extension that picks a source record's queue instead of its key: records with
  // one sharding key go to one queue, in order (a Kafka partition's records, keyed or not). It
  // travels as the message property of the same name, RocketMQ 5's FIFO sharding key.
  static constexpr std::string_view kShardingKeyExtension = "__SHARDINGKEY";

  // A copy with a new key/value, keeping position, timestamp and extensions: what a transform
  // returns when it rewrites a record.
  ConnectRecord with(SchemaPtr new_key_schema, Value new_key, SchemaPtr new_value_schema,
                     Value new_value) const;
};

}  // namespace rmqc

template <>
struct std::hash<rmqc::RecordPartition> {
  std::size_t operator()(const rmqc::RecordPartition& p) const { return p.hash(); }
};
template <>
struct std::hash<rmqc::RecordOffset> {
  std::size_t operator()(const rmqc::RecordOffset& o) const { return o.hash(); }
};
