#pragma once

#include "config/worker_config.h"
#include "plugins/plugin_registry.h"
#include "rocketmq/client/producer.h"
#include "runtime/config_providers.h"
#include "runtime/connect_controller.h"
#include "runtime/storage/state_store.h"
#include "runtime/worker_task.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmqc::runtime {

// The connector keys the runtime reads (connector.class, max.tasks, converters, topics,
// transforms, errors.*): what validation checks and docs/configuration.md lists.
const ConfigDef& runtime_connector_def();

// Seed 001's connector keys under their current names: connector-class -> connector.class,
// tasks.num -> max.tasks and, for sink connectors, rocketmq.topics -> connect.topicnames. Each
// rename is logged as a warning naming the new key; when both are set the new key wins and the
// legacy one is dropped (also with a warning). A sink created the seed's way (its
// RocketMQSinkConnector class or its rocketmq.topics key) without task.group.id gets seed 001's
// consumer group, task.group.id=connector-consumer-group-<connector_name>, when the name is given.
KeyValue normalize_legacy_keys(KeyValue config, const plugins::PluginRegistry& registry,
                               std::string_view connector_name = {});

// Seed 001's consumer group of a connector: connector-consumer-group-<name>.
std::string seed_consumer_group(std::string_view connector_name);

// A task of a connector, as the coordinators and the allocation name it.
struct TaskId {
  std::string connector;
  int task = 0;
  auto operator<=>(const TaskId&) const = default;
};

// The RocketMQ client settings every client of a worker uses: name servers, ACL, request
// timeout (operationTimeout), header encoding (remotingSerializeType).
rocketmq::ClientConfig worker_client_config(const config::WorkerConfig& config,
                                            const std::string& namesrv);

// Runs a plugin call on its own thread and waits at most `timeout`: a hung plugin costs a thread,
// never the worker. What the call needs must be captured by value (shared_ptr).
Result<void> call_plugin(std::function<void()> fn, std::chrono::milliseconds timeout,
                         const std::string& what);

// The instances of connectors and tasks that run in this process, and nothing else: which ones
// run is decided by a coordinator (StandaloneWorker: all of them; DistributedWorker: this
// worker's share of the cluster's assignment). It keeps no durable state and calls its plugins
// without holding its lock, so a slow plugin never blocks a status read or another connector.
//
// Thread-safe. Calls for one connector must not race each other (the coordinator serializes
// them per connector); calls for different connectors may run concurrently.
class LocalWorker {
 public:
  struct Options {
    config::WorkerConfig config;
    plugins::PluginRegistry* registry = nullptr;
    std::string namesrv_addr;
    PositionStore* positions = nullptr;  // where source tasks read and commit positions
    std::shared_ptr<rocketmq::Producer> producer;
  };
  // What a connector instance tells its coordinator, from any of its threads.
  struct ConnectorCallbacks {
    std::function<void(std::string message)> on_error;  // ConnectorContext::raise_error
    std::function<void()> on_reconfigure;               // request_task_reconfiguration
  };
  struct ConnectorStatus {
    RunState state = RunState::kUnassigned;  // kRunning or kFailed while an instance exists
    std::optional<std::string> trace;
  };

  explicit LocalWorker(Options options);
  ~LocalWorker();
  LocalWorker(const LocalWorker&) = delete;
  LocalWorker& operator=(const LocalWorker&) = delete;

  const config::WorkerConfig& config() const { return options_.config; }
  const plugins::PluginRegistry& registry() const { return *options_.registry; }
  // ${env:...}, ${file:...}, ${dir:...} of connector configs, resolved when a connector or
  // task starts here (never in what is stored or shown).
  const ConfigProviders& providers() const { return providers_; }

  // Source or sink, from the config's connector.class (kSource when unknown, as before).
  ConnectorType type_of(const KeyValue& config) const;
  // Runtime keys, converters, transforms, errors.*, the connector's ConfigDef and validate().
  Result<ValidationResult> validate(const KeyValue& config) const;
  // Where a config enters (create, update, patch): renames seed 001's legacy keys in place
  // (normalize_legacy_keys), then validate() as an error: kInvalidConfig naming every bad key.
  Result<void> check(KeyValue& config, std::string_view name = {}) const;
  // PUT /connector-plugins/{plugin}/config/validate: the config, connector.class defaulting to
  // the plugin.
  Result<ValidationResult> validate_for_plugin(std::string_view plugin, KeyValue config) const;

  // Creates, init()s and start()s the connector instance (bounded by maxStartTimeoutMills). A
  // failure leaves a FAILED instance behind (its trace is what connector_status shows).
  Result<void> start_connector(const std::string& name, const KeyValue& config,
                               ConnectorCallbacks callbacks);
  // Stops the instance (bounded by maxStopTimeoutMills) and forgets it. Its tasks are not
  // touched: stop them first.
  void stop_connector(const std::string& name);
  std::optional<ConnectorStatus> connector_status(const std::string& name) const;
  // Marks a running instance FAILED (ConnectorContext::raise_error).
  void fail_connector(const std::string& name, std::string trace);
  // The running instance's task configs (max.tasks at most), decorated with task.id, task.class
  // and connector.name. Fails when no instance runs or the plugin failed or hung.
  Result<std::vector<KeyValue>> task_configs(const std::string& name, int max_tasks);

  // Creates and starts one task. The connector instance need not run here: the task is created
  // by a fresh, never started instance of the connector class (as Kafka Connect does).
  Result<void> start_task(const TaskId& id, const KeyValue& connector_config,
                          const KeyValue& task_config, bool paused);
  // Stops these tasks in parallel under one deadline (maxStopTimeoutMills); a task that does
  // not stop in time is abandoned. Returns each task's last state.
  std::vector<TaskState> stop_tasks(const std::vector<TaskId>& ids);
  void set_paused(const std::string& connector, bool paused);
  std::vector<TaskId> tasks(const std::string& connector) const;
  std::vector<TaskId> all_tasks() const;
  std::vector<TaskState> task_states(const std::string& connector) const;
  // Every task's counters here (GET /metrics), without waiting on any task.
  std::vector<TaskMetricsSnapshot> task_metrics() const;
  // Positions (source) or queue offsets (sink) the connector's tasks here committed.
  OffsetMap committed_offsets(const std::string& connector) const;
  // Marks FAILED the tasks whose plugin start() hangs past maxStartTimeoutMills.
  void check_start_timeouts();

  // Stops every task and connector instance (for shutdown), tasks first.
  void stop_all();

  const std::atomic<bool>& message_logging() const { return message_logging_; }
  void set_message_logging(bool on) { message_logging_ = on; }

 private:
  struct ConnectorInstance {
    KeyValue config;
    KeyValue resolved;                              // config with its ${...} resolved (plugin's)
    std::shared_ptr<const SecretScrubber> secrets;  // what resolved holds that config does not
    std::shared_ptr<Connector> connector;           // shared: a hung stop() keeps it alive
    std::shared_ptr<ConnectorContext> context;      // handed to the connector; lives as long
    ConnectorStatus status;
  };

  Result<std::shared_ptr<Connector>> create_connector(const KeyValue& config) const;
  Result<std::shared_ptr<WorkerTask>> make_task(const TaskId& id, const KeyValue& connector_config,
                                                const KeyValue& task_config);

  Options options_;
  ConfigProviders providers_;
  std::atomic<bool> message_logging_{false};
  mutable std::mutex mutex_;
  std::map<std::string, ConnectorInstance, std::less<>> connectors_;
  std::map<TaskId, std::shared_ptr<WorkerTask>> tasks_;
};

}  // namespace rmqc::runtime
