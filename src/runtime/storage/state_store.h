#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/api/record.h"
#include "rmqc/base/result.h"

#include "runtime/connect_controller.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::runtime {

struct StoredConnector {
  KeyValue config;
  TargetState target_state = TargetState::kStarted;
  std::vector<KeyValue> task_configs;
};

// The standalone worker's durable state under storePathRootDir: connector configs with their
// target states and task configs (connectors.json), source positions and sink offsets
// (positions.json) and the last statuses (statuses.json). Every change is written atomically
// (temp file, fsync, rename, fsync dir) before the call returns, so a restart — or kill -9 —
// finds exactly what was acknowledged. Thread-safe. Format: docs/formats/worker-state.md.
class StateStore {
 public:
  static Result<std::unique_ptr<StateStore>> open(std::string dir);

  Result<void> put_connector(std::string_view name, const StoredConnector& connector);
  Result<void> put_target_state(std::string_view name, TargetState state);
  Result<void> put_task_configs(std::string_view name, std::vector<KeyValue> task_configs);
  Result<void> remove_connector(std::string_view name);
  std::map<std::string, StoredConnector> connectors() const;

  // Merges positions of a connector (later values win) and persists them.
  Result<void> put_positions(std::string_view connector, const OffsetMap& positions);
  std::optional<RecordOffset> position(std::string_view connector,
                                       const RecordPartition& partition) const;
  OffsetMap positions(std::string_view connector) const;

  Result<void> put_status(const ConnectorState& state);
  std::optional<ConnectorState> status(std::string_view connector) const;

 private:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}
  Result<void> load();
  Result<void> save_connectors_locked();
  Result<void> save_positions_locked();
  Result<void> save_statuses_locked();

  const std::string dir_;
  mutable std::mutex mutex_;
  std::map<std::string, StoredConnector, std::less<>> connectors_;
  std::map<std::string, OffsetMap, std::less<>> positions_;
  std::map<std::string, ConnectorState, std::less<>> statuses_;
};

}  // namespace rmqc::runtime
