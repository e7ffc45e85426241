#include "runtime/storage/position_key.h"

#include "runtime/storage/json_codec.h"

namespace rmqc::runtime {

std::string canonical_partition_key(const RecordPartition& partition) {
  // nlohmann's objects are sorted maps and its number output is the shortest round-trip form.
  return json_codec::partition_to_json(partition).dump();
}

std::string canonical_value_key(const Value& value) {
  return json_codec::value_to_json(value).dump();
}

}  // namespace rmqc::runtime
