#pragma once

#include "config/worker_config.h"
#include "plugins/plugin_registry.h"
#include "rocketmq/client/producer.h"
#include "runtime/connect_controller.h"
#include "runtime/storage/state_store.h"
#include "runtime/worker_task.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::runtime {

// The connector keys the runtime reads (connector.class, max.tasks, converters, topics,
// transforms, errors.*): what validation checks and docs/configuration.md lists.
const ConfigDef& runtime_connector_def();

// The standalone worker: runs connectors and their tasks in this process, keeps their configs,
// target states, positions and statuses in a StateStore, and answers the REST API through the
// ConnectController interface.
//
// Locking: mutations (create, update, delete, pause, restart) are serialized by lifecycle_mutex_
// and may wait on plugin calls (each bounded by a timeout); reads take only state_mutex_, so a
// slow plugin never blocks status queries.
class StandaloneWorker final : public ConnectController {
 public:
  struct Options {
    config::WorkerConfig config;
    plugins::PluginRegistry* registry = nullptr;
    std::string namesrv_addr;  // resolved (the embedded broker's when the config has none)
    std::function<Result<std::size_t>()> reload_plugins;  // rescans pluginPaths
  };

  static Result<std::unique_ptr<StandaloneWorker>> start(Options options);
  ~StandaloneWorker() override;

  // Starts the connectors of the state store, which start() already registered (called once,
  // after the REST API is up).
  Result<void> restore();
  // Stops every connector (their state stays as it was for the next start).
  void stop();

  WorkerInfo worker_info() const override;
  std::vector<std::string> connector_names() const override;
  Result<ConnectorInfo> connector_info(std::string_view name) const override;
  Result<ConnectorState> connector_state(std::string_view name) const override;
  Result<TaskState> task_state(std::string_view name, int task) const override;
  Result<bool> put_connector(std::string_view name, KeyValue config, PutOptions options) override;
  Result<KeyValue> patch_connector(std::string_view name, const KeyValue& patch) override;
  Result<void> delete_connector(std::string_view name) override;
  Result<void> set_target_state(std::string_view name, TargetState state) override;
  Result<void> restart_connector(std::string_view name, bool include_tasks,
                                 bool only_failed) override;
  Result<void> restart_task(std::string_view name, int task) override;
  Result<void> set_max_tasks(std::string_view name, int max_tasks) override;
  Result<std::vector<SourceOffset>> connector_offsets(std::string_view name) const override;
  Result<ValidationResult> validate_connector_config(std::string_view plugin,
                                                     const KeyValue& config) const override;
  std::vector<plugins::PluginEntry> plugins() const override;
  Result<std::size_t> reload_plugins() override;
  void set_message_logging(bool enabled) override { message_logging_ = enabled; }
  bool message_logging() const override { return message_logging_; }

 private:
  struct Running {
    KeyValue config;
    ConnectorType type = ConnectorType::kUnknown;
    TargetState target = TargetState::kStarted;
    std::shared_ptr<Connector> connector;       // shared: a hung stop() keeps it alive
    std::shared_ptr<ConnectorContext> context;  // handed to the connector; lives as long
    RunState state = RunState::kUnassigned;
    std::optional<std::string> trace;
    std::vector<KeyValue> task_configs;
    std::vector<std::shared_ptr<WorkerTask>> tasks;
    std::map<int, TaskState> stopped_task_states;  // last state of tasks not running
    bool reconfigure_requested = false;            // the connector asked for new task configs
  };

  explicit StandaloneWorker(Options options);
  void register_stored();
  static Error not_found(std::string_view name);
  // The connector's slot, or not_found. Stays valid while lifecycle_mutex_ is held (only
  // lifecycle calls add or erase connectors).
  Result<Running*> slot(const std::string& name);
  // Validation of a connector config: runtime keys, converters, transforms, errors.*, the
  // connector's ConfigDef and its own validate(). Errors name the keys.
  Result<ValidationResult> validate(const KeyValue& config) const;
  // Starts the connector and (target STARTED/PAUSED) its tasks. lifecycle_mutex_ held.
  Result<void> start_connector(const std::string& name, Running& r);
  void stop_connector(Running& r, bool keep_task_states);
  // The connector's task configs (max.tasks at most), decorated with task.id/class/connector.
  Result<std::vector<KeyValue>> ask_task_configs(const std::string& name, Running& r,
                                                 const std::shared_ptr<Connector>& connector);
  void start_tasks(const std::string& name, Running& r, std::vector<KeyValue> configs);
  void stop_tasks(Running& r, bool keep_task_states);
  // ConnectorContext::request_task_reconfiguration: asks task_configs() again and restarts the
  // tasks when they changed (the connector keeps running). Runs on the watcher thread.
  void reconfigure_tasks(const std::string& name);
  Result<std::shared_ptr<WorkerTask>> make_task(const std::string& name, Running& r, int id);
  void persist_status(const std::string& name);
  Result<void> restart_task_locked(const std::string& name, int id);
  // put_connector with lifecycle_mutex_ held.
  Result<bool> put_connector_locked(const std::string& name, KeyValue config, PutOptions options);
  ConnectorState state_of(const std::string& name, const Running& r) const;

  // Persists statuses that changed without a lifecycle call (a task failing on its own).
  void watch_statuses();

  Options options_;
  std::unique_ptr<StateStore> store_;
  std::shared_ptr<rocketmq::Producer> producer_;
  std::atomic<bool> message_logging_{false};
  std::mutex lifecycle_mutex_;
  mutable std::mutex state_mutex_;
  std::map<std::string, Running, std::less<>> connectors_;
  std::mutex watch_mutex_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;
  bool reconfigure_pending_ = false;  // some connector has reconfigure_requested set
  std::map<std::string, std::string> persisted_digest_;  // watcher thread only
  std::thread watcher_;
};

}  // namespace rmqc::runtime
