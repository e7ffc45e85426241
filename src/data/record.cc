#include "rmqc/api/record.h"

namespace rmqc {
namespace {

template <typename Map>
std::size_t hash_map(const Map& map) {
  std::size_t seed = map.size();
  for (const auto& [k, v] : map) {
    seed ^= std::hash<std::string>{}(k) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    seed ^= v.hash() + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  }
  return seed;
}

template <typename Map>
const Value* find_in(const Map& map, std::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

const Value* RecordPartition::find(std::string_view key) const {
  return find_in(map_, key);
}
std::size_t RecordPartition::hash() const {
  return hash_map(map_);
}

bool RecordPartition::operator<(const RecordPartition& other) const {
  // A total order for sorted containers: by size, then keys, then rendered values.
  if (map_.size() != other.map_.size()) return map_.size() < other.map_.size();
  auto a = map_.begin();
  auto b = other.map_.begin();
  for (; a != map_.end(); ++a, ++b) {
    if (a->first != b->first) return a->first < b->first;
    if (!(a->second == b->second)) return a->second.to_string() < b->second.to_string();
  }
  return false;
}

const Value* RecordOffset::find(std::string_view key) const {
  return find_in(map_, key);
}
std::size_t RecordOffset::hash() const {
  return hash_map(map_);
}

std::string_view ConnectRecord::topic() const {
  if (const std::string* t = extensions.find(kTopicExtension)) return *t;
  if (const Value* p = position.partition.find(kTopicExtension)) {
    if (const auto* s = p->get_if<std::string>()) return *s;
  }
  return {};
}

ConnectRecord ConnectRecord::with(SchemaPtr new_key_schema, Value new_key,
                                  SchemaPtr new_value_schema, Value new_value) const {
  ConnectRecord out(position.partition, position.offset, timestamp, std::move(new_key_schema),
                    std::move(new_key), std::move(new_value_schema), std::move(new_value));
  out.extensions = extensions;
  return out;
}

}  // namespace rmqc
