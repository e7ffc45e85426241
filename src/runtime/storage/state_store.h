#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/api/record.h"
#include "rmqc/base/result.h"

#include "runtime/connect_controller.h"
#include "runtime/storage/config_store.h"
#include "runtime/storage/listeners.h"
#include "runtime/storage/position_store.h"
#include "runtime/storage/status_store.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::runtime {

// The standalone worker's durable state under storePathRootDir: connector configs with their
// target states and task configs (connectors.json), source positions and sink offsets
// (positions.json) and the last statuses (statuses.json). Every change is written atomically
// (temp file, fsync, rename, fsync dir) before the call returns, so a restart — or kill -9 —
// finds exactly what was acknowledged. Thread-safe. Format: docs/formats/worker-state.md.
//
// One writer: every change of a connector raises its epoch by one; a put_connector() based on
// an older epoch than the stored one minus one is refused (kAlreadyExists, retriable), as in the
// topic-backed store. Listeners run on the writer's thread after the change is on disk.
class StateStore : public ConfigStore, public PositionStore, public StatusStore {
 public:
  static Result<std::unique_ptr<StateStore>> open(std::string dir);

  // ConfigStore
  Result<void> put_connector(std::string_view name, const StoredConnector& connector) override;
  Result<void> put_target_state(std::string_view name, TargetState state) override;
  Result<void> put_task_configs(std::string_view name, std::vector<KeyValue> task_configs) override;
  // Removes the connector's config and status; its positions stay (a connector re-created
  // under the same name resumes where the old one stopped).
  Result<void> remove_connector(std::string_view name) override;
  std::map<std::string, StoredConnector> connectors() const override;
  std::optional<StoredConnector> connector(std::string_view name) const override;
  Result<void> request_restart(std::string_view name, RestartRequest request) override;
  std::optional<RestartRequest> restart_request(std::string_view name) const override;
  int add_listener(Listener listener) override;
  void remove_listener(int id) override;

  // PositionStore
  Result<void> put_positions(std::string_view connector, const OffsetMap& positions) override;
  std::optional<RecordOffset> position(std::string_view connector,
                                       const RecordPartition& partition) const override;
  OffsetMap positions(std::string_view connector) const override;
  Result<void> remove_positions(std::string_view connector) override;

  // StatusStore (`generation` is ignored: one writer)
  Result<void> put_status(const ConnectorState& state, std::int64_t generation = 0) override;
  Result<void> put_connector_status(const ConnectorState& state, std::int64_t generation) override;
  Result<void> put_task_status(std::string_view connector, const TaskState& task,
                               std::int64_t generation) override;
  Result<void> claim_task(std::string_view connector, const TaskState& task,
                          std::int64_t generation, const std::string& expected_holder) override;
  std::optional<ConnectorState> status(std::string_view connector) const override;
  std::map<std::string, ConnectorState> statuses() const override;
  Result<void> remove_status(std::string_view connector) override;

 private:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}
  Result<void> load();
  Result<void> save_connectors_locked();
  Result<void> save_positions_locked();
  Result<void> save_statuses_locked();

  const std::string dir_;
  mutable std::mutex mutex_;
  std::map<std::string, StoredConnector, std::less<>> connectors_;
  // Restart requests live in memory only (they are not configuration).
  std::map<std::string, RestartRequest, std::less<>> restarts_;
  std::int64_t restart_seq_ = 0;
  // connector -> canonical partition key -> the partition (as last written) and its offset
  std::map<std::string, std::map<std::string, RecordPosition>, std::less<>> positions_;
  std::map<std::string, ConnectorState, std::less<>> statuses_;
  ConnectorListeners listeners_;
};

}  // namespace rmqc::runtime
