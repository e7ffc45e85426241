#pragma once

#include "runtime/connect_controller.h"
#include "runtime/task_metrics.h"

#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

namespace rmqc::rest::testing {

// An in-memory ConnectController: connectors get max.tasks RUNNING tasks on "worker-1".
// fail_next makes the next mutating call return that error; throw_on_list makes
// connector_names() throw (a controller bug must become a 500).
class FakeController : public runtime::ConnectController {
 public:
  struct Connector {
    runtime::ConnectorInfo info;
    runtime::ConnectorState state;
  };

  std::string worker_id = "worker-1";
  std::optional<Error> fail_next;
  bool throw_on_list = false;
  bool logging = false;
  std::size_t reloads = 0;
  std::vector<std::string> calls;  // "restart x true false", ...
  std::vector<runtime::SourceOffset> offsets;
  std::vector<plugins::PluginEntry> plugin_entries;

  runtime::WorkerInfo worker_info() const override {
    return {worker_id, "0.1.0", "standalone", "cluster-a", {worker_id}};
  }

  std::vector<std::string> connector_names() const override {
    if (throw_on_list) throw std::runtime_error("list exploded");
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const auto& [name, c] : connectors_) names.push_back(name);
    return names;
  }

  Result<runtime::ConnectorInfo> connector_info(std::string_view name) const override {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(std::string(name));
    if (it == connectors_.end()) return not_found(name);
    return it->second.info;
  }

  Result<runtime::ConnectorState> connector_state(std::string_view name) const override {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(std::string(name));
    if (it == connectors_.end()) return not_found(name);
    return it->second.state;
  }

  Result<runtime::TaskState> task_state(std::string_view name, int task) const override {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(std::string(name));
    if (it == connectors_.end()) return not_found(name);
    for (const auto& t : it->second.state.tasks) {
      if (t.id == task) return t;
    }
    return Error(ErrorCode::kNotFound, "Task " + std::to_string(task) + " of connector " +
                                           std::string(name) + " not found");
  }

  Result<bool> put_connector(std::string_view name, KeyValue config, PutOptions options) override {
    if (auto e = take_failure()) return *e;
    std::lock_guard lock(mutex_);
    return put_locked(name, std::move(config), options);
  }

  Result<KeyValue> patch_connector(std::string_view name, const KeyValue& patch) override {
    if (auto e = take_failure()) return *e;
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(std::string(name));
    if (it == connectors_.end()) return not_found(name);
    KeyValue merged = it->second.info.config;
    for (const auto& [k, v] : patch) merged.put(k, v);
    RMQC_RETURN_IF_ERROR(put_locked(name, merged, {.allow_update = true}));
    return merged;
  }

  Result<KeyValue> patch_connector_config(std::string_view name, const KeyValue& patch,
                                          const std::vector<std::string>& remove) override {
    if (auto e = take_failure()) return *e;
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(std::string(name));
    if (it == connectors_.end()) return not_found(name);
    KeyValue merged = it->second.info.config;
    for (const auto& k : remove) merged.erase(k);
    for (const auto& [k, v] : patch) merged.put(k, v);
    RMQC_RETURN_IF_ERROR(put_locked(name, merged, {.allow_update = true}));
    return merged;
  }

  // Offsets altered on a STOPPED connector: kept in `offsets` (a null offset removes).
  Result<void> alter_offsets(std::string_view name,
                             const std::vector<runtime::OffsetChange>& changes) override {
    RMQC_RETURN_IF_ERROR(require_stopped(name));
    for (const auto& c : changes) {
      std::erase_if(offsets, [&](const auto& o) { return o.partition == c.partition; });
      if (c.offset) offsets.push_back({c.partition, *c.offset});
    }
    calls.push_back("alter_offsets " + std::string(name));
    return {};
  }
  Result<void> reset_offsets(std::string_view name) override {
    RMQC_RETURN_IF_ERROR(require_stopped(name));
    offsets.clear();
    calls.push_back("reset_offsets " + std::string(name));
    return {};
  }
  Result<void> require_stopped(std::string_view name) {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(std::string(name));
    if (it == connectors_.end()) return not_found(name);
    if (it->second.info.target_state != runtime::TargetState::kStopped) {
      return Error(ErrorCode::kInvalidArgument, "Connectors must be in the STOPPED state");
    }
    return {};
  }

  Result<bool> put_locked(std::string_view name, KeyValue config, PutOptions options) {
    const bool allow_update = options.allow_update;
    if (!config.contains("connector.class")) {
      return Error(ErrorCode::kInvalidConfig,
                   "Missing required configuration \"connector.class\" which has no default value");
    }
    auto it = connectors_.find(std::string(name));
    bool created = it == connectors_.end();
    if (!created && !allow_update) {
      return Error(ErrorCode::kAlreadyExists, "Connector " + std::string(name) + " already exists");
    }
    Connector& c = connectors_[std::string(name)];
    c.info.name = std::string(name);
    c.info.type = config.get_string("connector.class").find("Sink") != std::string::npos
                      ? runtime::ConnectorType::kSink
                      : runtime::ConnectorType::kSource;
    c.info.config = config;
    if (created) c.info.target_state = options.initial_state;
    int tasks = static_cast<int>(config.get_long("max.tasks", 1));
    c.info.task_configs.clear();
    for (int i = 0; i < tasks; ++i) {
      KeyValue tc = config;
      tc.put("task.id", std::int64_t{i});
      c.info.task_configs.push_back(tc);
    }
    refresh_state(c);
    return created;
  }

  Result<void> delete_connector(std::string_view name) override {
    if (auto e = take_failure()) return *e;
    std::lock_guard lock(mutex_);
    if (connectors_.erase(std::string(name)) == 0) return not_found(name);
    return {};
  }

  Result<void> set_target_state(std::string_view name, runtime::TargetState state) override {
    if (auto e = take_failure()) return *e;
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(std::string(name));
    if (it == connectors_.end()) return not_found(name);
    calls.push_back("set_target_state " + std::string(name));
    it->second.info.target_state = state;
    refresh_state(it->second);
    return {};
  }

  Result<void> restart_connector(std::string_view name, bool include_tasks,
                                 bool only_failed) override {
    if (auto e = take_failure()) return *e;
    std::lock_guard lock(mutex_);
    if (!connectors_.count(std::string(name))) return not_found(name);
    calls.push_back("restart " + std::string(name) + " " + (include_tasks ? "true" : "false") +
                    " " + (only_failed ? "true" : "false"));
    return {};
  }

  Result<void> restart_task(std::string_view name, int task) override {
    if (auto e = take_failure()) return *e;
    auto t = task_state(name, task);
    if (!t.ok()) return t.error();
    std::lock_guard lock(mutex_);
    calls.push_back("restart_task " + std::string(name) + " " + std::to_string(task));
    return {};
  }

  Result<void> set_max_tasks(std::string_view name, int max_tasks) override {
    auto r = patch_connector(name, KeyValue{{"max.tasks", std::to_string(max_tasks)}});
    if (!r.ok()) return r.error();
    return {};
  }

  Result<std::vector<runtime::SourceOffset>> connector_offsets(
      std::string_view name) const override {
    auto info = connector_info(name);
    if (!info.ok()) return info.error();
    return offsets;
  }

  Result<runtime::ValidationResult> validate_connector_config(
      std::string_view plugin, const KeyValue& config) const override {
    if (plugin.find("Unknown") != std::string_view::npos) {
      return Error(ErrorCode::kNotFound, "No plugin " + std::string(plugin));
    }
    ConfigDef def;
    def.define("connector.class", ConfigDef::Type::kString, std::nullopt,
               ConfigDef::Importance::kHigh, "The connector class");
    def.define("max.tasks", ConfigDef::Type::kInt, "1", ConfigDef::Importance::kHigh,
               "Maximum tasks", validators::at_least(1));
    def.define("connection.password", ConfigDef::Type::kPassword, "", ConfigDef::Importance::kHigh,
               "The password");
    def.define("api.token", ConfigDef::Type::kString, "", ConfigDef::Importance::kLow, "A token");
    runtime::ValidationResult r;
    r.plugin = std::string(plugin);
    r.definitions = def.keys();
    r.results = def.validate(config);
    for (const auto& k : r.results) r.error_count += static_cast<int>(k.errors.size());
    if (const std::string* token = config.find("api.token"); token && token->size() < 4) {
      r.other_errors.push_back("token '" + *token + "' is too short");
      ++r.error_count;
    }
    return r;
  }

  std::vector<plugins::PluginEntry> plugins() const override { return plugin_entries; }

  Result<std::size_t> reload_plugins() override {
    if (auto e = take_failure()) return *e;
    ++reloads;
    return std::size_t{2};
  }

  void set_message_logging(bool enabled) override { logging = enabled; }
  bool message_logging() const override { return logging; }

  // Test hooks.
  void set_task_state(const std::string& name, int task, runtime::RunState state,
                      std::optional<std::string> trace = std::nullopt) {
    std::lock_guard lock(mutex_);
    auto& t = connectors_.at(name).state.tasks.at(static_cast<std::size_t>(task));
    t.state = state;
    t.trace = std::move(trace);
  }

  // Operations routes (operations_routes_test.cc).
  runtime::WorkerHealth health_value{runtime::WorkerHealth::Status::kHealthy, "healthy",
                                     std::nullopt};
  std::optional<runtime::TaskRestartInfo> restart_info;
  runtime::WorkerMetrics metrics_value;
  runtime::WorkerHealth health() const override { return health_value; }
  runtime::WorkerMetrics worker_metrics() const override { return metrics_value; }
  std::optional<runtime::TaskRestartInfo> task_restart_info(std::string_view, int) const override {
    return restart_info;
  }

 private:
  static Error not_found(std::string_view name) {
    return Error(ErrorCode::kNotFound, "Connector " + std::string(name) + " not found");
  }

  std::optional<Error> take_failure() {
    std::optional<Error> e;
    std::swap(e, fail_next);
    return e;
  }

  void refresh_state(Connector& c) const {
    runtime::RunState run = runtime::RunState::kRunning;
    if (c.info.target_state == runtime::TargetState::kPaused) run = runtime::RunState::kPaused;
    if (c.info.target_state == runtime::TargetState::kStopped) run = runtime::RunState::kStopped;
    c.state.name = c.info.name;
    c.state.type = c.info.type;
    c.state.state = run;
    c.state.worker_id = worker_id;
    c.state.tasks.clear();
    if (run == runtime::RunState::kStopped) return;  // stopped connectors have no tasks
    for (std::size_t i = 0; i < c.info.task_configs.size(); ++i) {
      c.state.tasks.push_back({static_cast<int>(i), run, worker_id, std::nullopt});
    }
  }

  mutable std::mutex mutex_;
  std::map<std::string, Connector> connectors_;
};

}  // namespace rmqc::rest::testing
