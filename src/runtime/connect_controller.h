#pragma once

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"
#include "rmqc/api/record.h"
#include "rmqc/base/result.h"

#include "plugins/plugin_registry.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::runtime {

// What the user asked a connector to be.
enum class TargetState { kStarted, kPaused, kStopped };
// What a connector or task is (seed 002's states, plus Kafka's STOPPED).
enum class RunState { kUnassigned, kRunning, kPaused, kStopped, kFailed, kDestroyed };
enum class ConnectorType { kSource, kSink, kUnknown };

std::string_view target_state_name(TargetState state);     // "STARTED", "PAUSED", "STOPPED"
std::string_view run_state_name(RunState state);           // "RUNNING", ...
std::string_view connector_type_name(ConnectorType type);  // "SOURCE", "SINK", "UNKNOWN"

struct TaskState {
  int id = 0;
  RunState state = RunState::kUnassigned;
  std::string worker_id;
  std::optional<std::string> trace;  // the error, when FAILED
};

struct ConnectorState {
  std::string name;
  ConnectorType type = ConnectorType::kUnknown;
  RunState state = RunState::kUnassigned;
  std::string worker_id;
  std::optional<std::string> trace;
  std::vector<TaskState> tasks;
};

struct ConnectorInfo {
  std::string name;
  ConnectorType type = ConnectorType::kUnknown;
  KeyValue config;                     // as submitted (secrets NOT redacted: callers redact)
  std::vector<KeyValue> task_configs;  // index = task id
  TargetState target_state = TargetState::kStarted;
};

struct WorkerInfo {
  std::string worker_id;
  std::string version;
  std::string mode;  // "standalone" or "distributed"
  std::string cluster_id;
  std::vector<std::string> workers;  // worker ids of the cluster (just this one in standalone)
};

struct SourceOffset {
  RecordPartition partition;
  RecordOffset offset;
};

// One entry of PATCH /connectors/{name}/offsets: a partition's new offset, or none (the
// partition's offset is removed: a source starts it afresh, a sink queue starts where a new
// consumer group would, per consume.from.where).
struct OffsetChange {
  RecordPartition partition;
  std::optional<RecordOffset> offset;
};

// The answer of PUT /connector-plugins/{plugin}/config/validate.
struct ValidationResult {
  std::string plugin;
  int error_count = 0;
  std::vector<ConfigDef::Key> definitions;    // the keys the plugin and the runtime define
  std::vector<ConfigDef::KeyResult> results;  // one per definition, same order
  std::vector<std::string> other_errors;      // errors not tied to one key (connector validate())
};

// GET /health (Kafka Connect 3.9's meaning): kStarting until the worker has joined (distributed)
// or restored its connectors (standalone), kUnhealthy when its control thread stopped answering.
struct WorkerHealth {
  enum class Status { kStarting, kHealthy, kUnhealthy, kStopping };
  Status status = Status::kHealthy;
  std::string message;
  std::optional<std::string> details;  // what is wrong (unhealthy), or what it waits for
};

struct WorkerMetrics;  // runtime/task_metrics.h

// A task's automatic restarts (docs/operations.md), shown with its status.
struct TaskRestartInfo {
  int attempts = 0;        // automatic restarts since the task last ran healthy
  std::string last_error;  // the failure that caused the latest (or the scheduled) restart
  std::optional<std::int64_t> next_attempt_ms;  // epoch ms of the scheduled restart, if any
  bool exhausted = false;  // taskAutoRestartMaxAttempts reached: it stays FAILED
};

// The task `task` of a connector's state, or kNotFound.
Result<TaskState> find_task(const ConnectorState& state, int task);

// Everything the REST API (and the `ctl` tool through it) can ask of a worker. Implemented by the
// standalone worker (and later the distributed one). Thread-safe; no call blocks on a connector
// or task (a hung plugin never blocks the REST API).
//
// Errors: kNotFound for an unknown connector or task (HTTP 404), kInvalidConfig for a bad config
// with every bad key named (400), kAlreadyExists when creating an existing connector without
// allow_update (409), kInvalidArgument for other bad requests (400), anything else is a 500.
class ConnectController {
 public:
  virtual ~ConnectController() = default;

  virtual WorkerInfo worker_info() const = 0;
  virtual std::vector<std::string> connector_names() const = 0;
  virtual Result<ConnectorInfo> connector_info(std::string_view name) const = 0;
  virtual Result<ConnectorState> connector_state(std::string_view name) const = 0;
  virtual Result<TaskState> task_state(std::string_view name, int task) const = 0;

  struct PutOptions {
    bool allow_update = false;  // replace an existing connector's config (else 409)
    // What a new connector starts as (Kafka's initial_state); an update keeps the current one.
    TargetState initial_state = TargetState::kStarted;
  };
  // Creates the connector, or (allow_update) replaces its config and reconfigures its tasks.
  // Returns true when it was created.
  virtual Result<bool> put_connector(std::string_view name, KeyValue config,
                                     PutOptions options) = 0;
  // Sets the keys of `patch` in an existing connector's config, keeping the others, in one step
  // (two concurrent patches both land); returns the config now in force.
  virtual Result<KeyValue> patch_connector(std::string_view name, const KeyValue& patch) = 0;
  // PATCH /connectors/{name}/config: sets `patch`'s keys and removes the keys of `remove`, in
  // one step; returns the config now in force. The default handles `remove` empty only
  // (kUnsupported otherwise).
  virtual Result<KeyValue> patch_connector_config(std::string_view name, const KeyValue& patch,
                                                  const std::vector<std::string>& remove);
  virtual Result<void> delete_connector(std::string_view name) = 0;
  // Pause (tasks stop working, stay assigned), resume, or stop (tasks shut down, config kept).
  virtual Result<void> set_target_state(std::string_view name, TargetState state) = 0;
  virtual Result<void> restart_connector(std::string_view name, bool include_tasks,
                                         bool only_failed) = 0;
  virtual Result<void> restart_task(std::string_view name, int task) = 0;
  // Seed 001: change a connector's task count (max.tasks) and reconfigure.
  virtual Result<void> set_max_tasks(std::string_view name, int max_tasks) = 0;

  // Committed source positions of a source connector; sink connectors report queue offsets the
  // same way (partition {topic, brokerName, queueId}, offset {queueOffset}).
  virtual Result<std::vector<SourceOffset>> connector_offsets(std::string_view name) const = 0;
  // PATCH and DELETE /connectors/{name}/offsets (Kafka Connect 3.6+): only on a STOPPED
  // connector (kInvalidArgument otherwise). Source connectors: committed positions; sink
  // connectors: the queue offsets of their consumer group (partition {topic, brokerName,
  // queueId}, offset {queueOffset}). Reset removes every offset. Honoured when it resumes.
  // The defaults answer kUnsupported.
  virtual Result<void> alter_offsets(std::string_view name,
                                     const std::vector<OffsetChange>& changes);
  virtual Result<void> reset_offsets(std::string_view name);

  virtual Result<ValidationResult> validate_connector_config(std::string_view plugin,
                                                             const KeyValue& config) const = 0;
  virtual std::vector<plugins::PluginEntry> plugins() const = 0;
  // Rescans pluginPaths; returns the number of newly loaded plugin libraries.
  virtual Result<std::size_t> reload_plugins() = 0;

  // GET /health and /ready; the default (a controller without a lifecycle of its own) is
  // healthy.
  virtual WorkerHealth health() const;
  // Counters of the tasks running in this process, uptime, rebalances (GET /metrics).
  virtual WorkerMetrics worker_metrics() const;
  // The automatic restarts of a task run by this worker; nullopt when none happened or are due.
  virtual std::optional<TaskRestartInfo> task_restart_info(std::string_view /*name*/,
                                                           int /*task*/) const {
    return std::nullopt;
  }

  // Seed 001: per-message logging of every record a task moves, on or off.
  virtual void set_message_logging(bool enabled) = 0;
  virtual bool message_logging() const = 0;
};

}  // namespace rmqc::runtime
