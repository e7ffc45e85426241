#pragma once

#include "config/worker_config.h"
#include "plugins/plugin_registry.h"
#include "rocketmq/client/producer.h"
#include "runtime/connect_controller.h"
#include "runtime/local_worker.h"
#include "runtime/storage/state_store.h"
#include "runtime/task_restarts.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::runtime {

// Starts the producer every task of a worker shares (sends and dead letters).
Result<std::shared_ptr<rocketmq::Producer>> start_worker_producer(const config::WorkerConfig& c,
                                                                  const std::string& namesrv);

// The standalone coordinator: the single-member case. It runs every connector and task in this
// process through a LocalWorker, keeps configs, target states, positions and statuses in the
// file-backed StateStore, and answers the REST API through ConnectController.
//
// Locking: mutations of one connector (create, update, delete, pause, restart, reconfigure) are
// serialized by that connector's lifecycle mutex, so a slow plugin delays only its own
// connector; reads take only state_mutex_ (briefly), never a lifecycle mutex.
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
  Result<KeyValue> patch_connector_config(std::string_view name, const KeyValue& patch,
                                          const std::vector<std::string>& remove) override;
  Result<void> delete_connector(std::string_view name) override;
  Result<void> set_target_state(std::string_view name, TargetState state) override;
  Result<void> restart_connector(std::string_view name, bool include_tasks,
                                 bool only_failed) override;
  Result<void> restart_task(std::string_view name, int task) override;
  Result<void> set_max_tasks(std::string_view name, int max_tasks) override;
  Result<std::vector<SourceOffset>> connector_offsets(std::string_view name) const override;
  Result<void> alter_offsets(std::string_view name,
                             const std::vector<OffsetChange>& changes) override;
  Result<void> reset_offsets(std::string_view name) override;
  Result<ValidationResult> validate_connector_config(std::string_view plugin,
                                                     const KeyValue& config) const override;
  std::vector<plugins::PluginEntry> plugins() const override;
  Result<std::size_t> reload_plugins() override;
  void set_message_logging(bool enabled) override { local_->set_message_logging(enabled); }
  bool message_logging() const override { return local_->message_logging().load(); }
  WorkerHealth health() const override;
  WorkerMetrics worker_metrics() const override;
  std::optional<TaskRestartInfo> task_restart_info(std::string_view name, int task) const override;

 private:
  // What this coordinator knows of a connector beyond the running instances.
  struct Entry {
    KeyValue config;
    ConnectorType type = ConnectorType::kUnknown;
    TargetState target = TargetState::kStarted;
    std::vector<KeyValue> task_configs;
    std::map<int, TaskState> stopped_task_states;  // last state of tasks not running
    bool reconfigure_requested = false;            // the connector asked for new task configs
    std::shared_ptr<std::mutex> lifecycle = std::make_shared<std::mutex>();
  };
  // A connector's lifecycle mutex, held; `entry` is valid while it is held (only holders of
  // the lifecycle mutex add or erase entries of that name).
  struct Locked {
    std::unique_lock<std::mutex> lock;
    Entry* entry = nullptr;
  };

  explicit StandaloneWorker(Options options);
  void register_stored();
  static Error not_found(std::string_view name);
  Result<Locked> lock_existing(const std::string& name);
  std::unique_lock<std::mutex> lock_name(const std::string& name);

  // Starts the connector instance and (target STARTED/PAUSED) its tasks. Lifecycle held.
  Result<void> start_connector(const std::string& name, Entry& e);
  void stop_connector(const std::string& name, Entry& e, bool keep_task_states);
  void start_tasks(const std::string& name, Entry& e, std::vector<KeyValue> configs);
  void stop_tasks(const std::string& name, Entry& e, bool keep_task_states);
  // ConnectorContext::request_task_reconfiguration: asks task_configs() (outside any lock) and
  // restarts the tasks whose configs changed. Runs on the watcher thread.
  void reconfigure_tasks(const std::string& name);
  Result<void> restart_task_locked(const std::string& name, Entry& e, int id);
  Result<bool> put_connector_locked(const std::string& name, std::unique_lock<std::mutex> lock,
                                    KeyValue config, PutOptions options);
  ConnectorState state_of(const std::string& name, const Entry& e) const;
  void persist_status(const std::string& name);

  // Persists statuses that changed without a lifecycle call (a task failing on its own), and
  // restarts FAILED tasks when the restart policy says so.
  void watch_statuses();
  void restart_failed_tasks();
  // A user's action on the connector: its automatic restart counts start again.
  void forget_restarts(const std::string& name, std::optional<int> task = std::nullopt);

  Options options_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<LocalWorker> local_;
  mutable std::mutex state_mutex_;
  std::map<std::string, Entry, std::less<>> connectors_;
  // Lifecycle mutexes by name; they outlive a deleted connector's entry.
  std::map<std::string, std::shared_ptr<std::mutex>, std::less<>> lifecycles_;
  std::mutex watch_mutex_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;
  bool reconfigure_pending_ = false;  // some connector has reconfigure_requested set
  std::map<std::string, std::string> persisted_digest_;  // watcher thread only
  TaskRestartPolicy restarts_;                           // under state_mutex_
  const std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
  std::atomic<bool> restored_{false};
  std::atomic<bool> stopping_{false};
  // When the watcher last went round (steady clock, ms): /health's liveness of the worker.
  std::atomic<std::int64_t> watcher_tick_ms_{0};
  std::thread watcher_;
};

}  // namespace rmqc::runtime
