#pragma once

#include "config/worker_config.h"
#include "plugins/plugin_registry.h"
#include "runtime/cluster/allocation.h"
#include "runtime/cluster/membership.h"
#include "runtime/connect_controller.h"
#include "runtime/local_worker.h"
#include "runtime/storage/config_store.h"
#include "runtime/storage/position_store.h"
#include "runtime/storage/status_store.h"
#include "runtime/task_restarts.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::runtime {

// The distributed coordinator: one member of a cluster of workers that share a RocketMQ cluster.
// Configs, target states and task configs live in the config topic, source positions in the
// position topic, statuses in the status topic (each with a local cache); members come from the
// consumer group connectClusterId. Every member computes the same assignment from the same view
// (membership + connectors) with the configured AllocationStrategy and runs its share through a
// LocalWorker. REST writes are accepted on any member: they go to the config topic and every
// member reacts to them.
//
// Handover: a task moving from a live worker starts on its new owner only after the old owner
// has stopped it (and committed its positions), which the old owner reports in the status topic;
// after maxStopTimeoutMills + 5 s without that report, or at once when the old owner left the
// cluster, the new owner starts it anyway (docs/distributed.md: the handover window).
//
// One thread ("rebalance") applies every change; REST calls only write to the stores and wake it,
// so they never wait on a plugin.
class DistributedWorker final : public ConnectController {
 public:
  struct Options {
    config::WorkerConfig config;
    plugins::PluginRegistry* registry = nullptr;
    std::string namesrv_addr;                             // required
    std::function<Result<std::size_t>()> reload_plugins;  // rescans pluginPaths
    // Test seams: when set, used instead of the RocketMQ-backed ones (all four or none).
    std::shared_ptr<ConfigStore> config_store;
    std::shared_ptr<PositionStore> position_store;
    std::shared_ptr<StatusStore> status_store;
    std::shared_ptr<cluster::Membership> membership;
  };

  // Creates the internal topics if needed, loads the local caches, replays the topics, joins the
  // cluster (kAlreadyExists when a member has this workerId) and starts the rebalance thread.
  static Result<std::unique_ptr<DistributedWorker>> start(Options options);
  ~DistributedWorker() override;

  // Stops this worker's tasks and connectors (committing their positions), reports them
  // UNASSIGNED and leaves the cluster, so the others take over at once.
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

  // This worker's current share (for tests and /allocated/*).
  cluster::Assignment assignment() const;

 private:
  // A task running here, with what it was started from (a change of either restarts it).
  struct RunningTask {
    KeyValue connector_config;
    KeyValue task_config;
    std::int64_t generation = 0;  // what its status writes carry
  };
  struct RunningConnector {
    KeyValue config;
    std::int64_t generation = 0;
  };
  // A task assigned here that waits for its previous owner to let go.
  struct Pending {
    std::chrono::steady_clock::time_point since;
  };

  explicit DistributedWorker(Options options);
  Result<void> open_stores();
  void wake();
  std::chrono::milliseconds contact_window() const;
  void run();  // the rebalance thread
  // Asks for the restart of FAILED tasks running here whose automatic restart fell due.
  void restart_failed_tasks();
  // Computes the assignment from the current view and makes the local instances match it.
  void rebalance();
  void apply_connectors(const std::map<std::string, StoredConnector>& connectors,
                        const cluster::Assignment& mine);
  void apply_tasks(const std::map<std::string, StoredConnector>& connectors,
                   const cluster::Assignment& mine);
  // The connector instance here (re)generates task configs and writes them when they changed.
  void refresh_task_configs(const std::string& name, const StoredConnector& stored);
  // Turns new restart requests of the config store into restarts of what runs here.
  void take_restart_requests(const std::map<std::string, StoredConnector>& connectors);
  // The task's holder as this worker sees it ("" for none) when it may claim the task now;
  // nullopt while a previous holder may still run it.
  std::optional<std::string> claimable(const cluster::TaskId& id,
                                       const std::set<std::string>& live);
  // Writes the statuses of what runs here that changed (all of them with `force`); false while
  // a task started here is still starting (the caller looks again sooner).
  bool publish_statuses(bool force);
  std::int64_t next_generation(const std::string& connector, int task) const;
  ConnectorState merged_state(const std::string& name, const StoredConnector& stored) const;
  Result<StoredConnector> existing(std::string_view name) const;

  Options options_;
  std::shared_ptr<ConfigStore> configs_;
  std::shared_ptr<PositionStore> positions_;
  std::shared_ptr<StatusStore> statuses_;
  std::shared_ptr<cluster::Membership> membership_;
  std::unique_ptr<cluster::AllocationStrategy> strategy_;
  std::unique_ptr<LocalWorker> local_;
  int config_listener_ = 0;
  int member_listener_ = 0;

  mutable std::mutex mutex_;  // guards what follows
  std::condition_variable cv_;
  bool stopping_ = false;
  bool dirty_ = true;
  bool in_contact_ = true;
  std::set<std::string> reconfigure_;  // connectors whose instance asked for new task configs
  std::set<std::string> restart_;      // connectors to restart here (REST restart)
  std::set<cluster::TaskId> restart_tasks_;
  std::map<std::string, std::int64_t> restarts_handled_;  // latest restart request seq acted on
  cluster::Assignment assignment_;                        // this worker's share, as applied
  std::vector<std::string> workers_;                      // the members' worker ids, as last seen
  std::map<std::string, RunningConnector> running_connectors_;
  std::map<cluster::TaskId, RunningTask> running_tasks_;
  std::map<cluster::TaskId, Pending> pending_;
  std::map<std::string, std::string> published_;  // status digests written (rebalance thread)
  TaskRestartPolicy auto_restarts_{TaskRestartPolicy::Settings{}};  // under mutex_
  const std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
  std::atomic<std::uint64_t> rebalances_{0};  // completed by the rebalance thread
  std::atomic<std::int64_t> tick_ms_{0};      // when the rebalance thread last went round
  std::thread thread_;
};

}  // namespace rmqc::runtime
