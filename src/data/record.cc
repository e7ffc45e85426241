#include "rmqc/api/record.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

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

// --- PositionMap ---

PositionMap::PositionMap(std::initializer_list<value_type> init) {
  entries_.reserve(init.size());
  for (const auto& e : init)
    emplace_key(e.first, e.second);  // sorted; the first of equal keys wins
}

PositionMap::iterator PositionMap::lower_bound(std::string_view key) {
  return std::lower_bound(entries_.begin(), entries_.end(), key,
                          [](const value_type& e, std::string_view k) { return e.first < k; });
}

PositionMap::iterator PositionMap::find(std::string_view key) {
  // Positions have a handful of entries whose keys mostly differ in length: a scan that compares
  // lengths first beats a binary search's string comparisons (a source task looks up its
  // records' offsets several times each).
  if (entries_.size() <= 16) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first.size() == key.size() && std::string_view(it->first) == key) return it;
    }
    return entries_.end();
  }
  auto it = lower_bound(key);
  return it != entries_.end() && it->first == key ? it : entries_.end();
}

PositionMap::const_iterator PositionMap::find(std::string_view key) const {
  return const_cast<PositionMap*>(this)->find(key);
}

const Value& PositionMap::at(std::string_view key) const {
  auto it = find(key);
  if (it == end()) throw std::out_of_range("no position entry '" + std::string(key) + "'");
  return it->second;
}

Value& PositionMap::at(std::string_view key) {
  auto it = find(key);
  if (it == end()) throw std::out_of_range("no position entry '" + std::string(key) + "'");
  return it->second;
}

Value& PositionMap::operator[](std::string_view key) {
  auto it = lower_bound(key);
  if (it == entries_.end() || it->first != key) {
    it = entries_.emplace(it, std::string(key), Value());
  }
  return it->second;
}

std::pair<PositionMap::iterator, bool> PositionMap::emplace_key(std::string key, Value value) {
  auto it = lower_bound(key);
  if (it != entries_.end() && it->first == key) return {it, false};
  return {entries_.emplace(it, std::move(key), std::move(value)), true};
}

PositionMap::iterator PositionMap::emplace_hint_key(const_iterator hint, std::string key,
                                                    Value value) {
  if (hint == entries_.end() && (entries_.empty() || entries_.back().first < key)) {
    entries_.emplace_back(std::move(key), std::move(value));
    return std::prev(entries_.end());
  }
  return emplace_key(std::move(key), std::move(value)).first;
}

std::pair<PositionMap::iterator, bool> PositionMap::insert_or_assign_key(std::string key,
                                                                         Value value) {
  auto it = lower_bound(key);
  if (it != entries_.end() && it->first == key) {
    it->second = std::move(value);
    return {it, false};
  }
  return {entries_.emplace(it, std::move(key), std::move(value)), true};
}

std::size_t PositionMap::erase(std::string_view key) {
  auto it = find(key);
  if (it == entries_.end()) return 0;
  entries_.erase(it);
  return 1;
}

// --- RecordPartition, RecordOffset ---

RecordPartition::RecordPartition(Map partition) {
  if (partition.empty()) return;  // an empty partition is the default one
  auto shared = std::make_shared<Shared>();
  shared->hash = hash_map(partition);
  shared->map = std::move(partition);
  shared_ = std::move(shared);
}

const RecordPartition::Map& RecordPartition::partition() const {
  static const Map kEmpty;
  return shared_ == nullptr ? kEmpty : shared_->map;
}

const Value* RecordPartition::find(std::string_view key) const {
  return find_in(partition(), key);
}

bool RecordPartition::operator<(const RecordPartition& other) const {
  // A total order for sorted containers: by size, then keys, then rendered values.
  const Map& mine = partition();
  const Map& theirs = other.partition();
  if (mine.size() != theirs.size()) return mine.size() < theirs.size();
  auto a = mine.begin();
  auto b = theirs.begin();
  for (; a != mine.end(); ++a, ++b) {
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
