#pragma once

#include "rmqc/api/record.h"
#include "rmqc/base/result.h"

#include <optional>
#include <string_view>

namespace rmqc::runtime {

// Committed source positions, per connector. Partitions are matched by their canonical key
// (storage/position_key.h), so an int32 in a partition finds the position stored for the same
// number as an int64 (what JSON brings back after a restart). Thread-safe.
class PositionStore {
 public:
  virtual ~PositionStore() = default;

  // Merges positions of a connector (later values win) and persists them.
  virtual Result<void> put_positions(std::string_view connector, const OffsetMap& positions) = 0;
  virtual std::optional<RecordOffset> position(std::string_view connector,
                                               const RecordPartition& partition) const = 0;
  virtual OffsetMap positions(std::string_view connector) const = 0;
  virtual Result<void> remove_positions(std::string_view connector) = 0;
};

}  // namespace rmqc::runtime
