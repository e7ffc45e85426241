#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/base/result.h"

#include "runtime/connect_controller.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::runtime {

struct StoredConnector {
  KeyValue config;
  TargetState target_state = TargetState::kStarted;
  std::vector<KeyValue> task_configs;
  // Version of the connector's entry: every applied change (config, target state, task configs,
  // deletion) carries a higher or equal epoch than the one before. Read it from connector() or
  // connectors(); pass it back in put_connector() to say which version a change is based on
  // (0 = the store's current view), so a change based on an outdated view is refused.
  std::int64_t epoch = 0;
};

// A restart asked through the REST API of any worker (distributed mode: every worker restarts
// the instances it runs). `seq` orders the requests of a connector; the store assigns it.
struct RestartRequest {
  bool include_tasks = false;
  bool only_failed = false;
  int task = -1;  // >= 0: only this task
  std::int64_t seq = 0;
};

// Connector configs, target states and task configs: what a worker runs. Implemented by the
// standalone StateStore (files) and TopicConfigStore (the cluster's config topic). Thread-safe.
//
// Listeners are called after a change is applied (whoever made it: this worker, or another one
// for a topic-backed store), with no lock of the store held; they may read the store. A put_*
// returns after the listeners of its own change ran, except when it is called from a listener.
class ConfigStore {
 public:
  using Listener = std::function<void(const std::string& connector)>;

  virtual ~ConfigStore() = default;

  // Replaces the connector's config, target state and task configs.
  virtual Result<void> put_connector(std::string_view name, const StoredConnector& connector) = 0;
  // kNotFound for an unknown connector.
  virtual Result<void> put_target_state(std::string_view name, TargetState state) = 0;
  virtual Result<void> put_task_configs(std::string_view name,
                                        std::vector<KeyValue> task_configs) = 0;
  // Removing an unknown connector succeeds.
  virtual Result<void> remove_connector(std::string_view name) = 0;
  virtual std::map<std::string, StoredConnector> connectors() const = 0;
  virtual std::optional<StoredConnector> connector(std::string_view name) const = 0;

  // Records a restart request for the connector (kNotFound for an unknown one); listeners fire.
  // Requests are not configuration: they are not kept across a restart of the store's owner in
  // the file-backed store, and a topic-backed store replays them (a reader compares `seq` with
  // the last one it acted on, see DistributedWorker).
  virtual Result<void> request_restart(std::string_view name, RestartRequest request) = 0;
  // The latest restart request of the connector, if any.
  virtual std::optional<RestartRequest> restart_request(std::string_view name) const = 0;

  // Returns an id for remove_listener(). A listener being called while it is removed may still
  // finish that call.
  virtual int add_listener(Listener listener) = 0;
  virtual void remove_listener(int id) = 0;
};

}  // namespace rmqc::runtime
