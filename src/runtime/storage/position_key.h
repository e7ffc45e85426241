#pragma once

#include "rmqc/api/record.h"
#include "rmqc/api/value.h"

#include <string>

namespace rmqc::runtime {

// The canonical text of a source partition, what the position stores key positions by: compact
// JSON of the partition as the stores keep it, so a partition read back from disk or from a topic
// has the same key as the typed one a task passes:
//   - map keys sorted (nested maps too), keys of non-string maps as their display text;
//   - integers of every width as the same decimal (int32 7 and int64 7 are both `7`);
//   - floats widened to float64 and written in the shortest form that reads back the same
//     (float32 1.5f and float64 1.5 are both `1.5`; a float never equals an integer: `2.0`);
//     NaN and infinities as `null`, as JSON stores them;
//   - strings quoted and escaped (control characters as \uXXXX), booleans `true`/`false`;
//   - bytes, structs and decimals as their quoted display text.
// Example: {"topic": "t", "partition": int32 3} -> {"partition":3,"topic":"t"}
std::string canonical_partition_key(const RecordPartition& partition);
std::string canonical_value_key(const Value& value);

}  // namespace rmqc::runtime
