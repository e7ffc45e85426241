#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/api/schema.h"
#include "rmqc/api/value.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rmqc {

// Where records come from (a file name, a table, a queue) and how far a task got in it (a line
// number, a binlog position, a queue offset): maps with value equality and hashing, as
// openconnect's RecordPartition and RecordOffset.
class RecordPartition {
 public:
  using Map = std::map<std::string, Value, std::less<>>;
  RecordPartition() = default;
  explicit RecordPartition(Map partition) : map_(std::move(partition)) {}
  RecordPartition(std::initializer_list<Map::value_type> init) : map_(init) {}

  const Map& partition() const { return map_; }
  const Value* find(std::string_view key) const;
  bool empty() const { return map_.empty(); }
  bool operator==(const RecordPartition& other) const { return map_ == other.map_; }
  bool operator<(const RecordPartition& other) const;
  std::size_t hash() const;

 private:
  Map map_;
};

class RecordOffset {
 public:
  using Map = std::map<std::string, Value, std::less<>>;
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
