#pragma once

// What `rmq-connect standalone` and `rmq-connect distributed` share: the worker file, the plugin
// registry, the REST API, the ready line and the connector files given on the command line.

#include "rmqc/api/key_value.h"
#include "rmqc/base/result.h"

#include "config/worker_config.h"
#include "plugins/plugin_loader.h"
#include "plugins/plugin_registry.h"
#include "rest/rest_server.h"
#include "runtime/connect_controller.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmqc::app {

// Loads the worker file; on error prints "rmq-connect <command>: <error>" to stderr and returns
// nullopt (exit code 2). Unknown keys are warned about.
std::optional<config::WorkerConfig> load_worker_config_or_report(std::string_view command,
                                                                 const std::string& path);

// The plugin registry: the built-in converters, transforms and file connectors, then every
// library under pluginPaths (problems are logged).
class WorkerPlugins {
 public:
  explicit WorkerPlugins(const config::WorkerConfig& config);
  WorkerPlugins(const WorkerPlugins&) = delete;
  WorkerPlugins& operator=(const WorkerPlugins&) = delete;

  plugins::PluginRegistry& registry() { return registry_; }
  // Rescans pluginPaths (/plugin/reload); valid as long as this object lives.
  std::function<Result<std::size_t>()> reloader();

 private:
  plugins::PluginRegistry registry_;
  plugins::PluginLoader loader_;
};

// Starts the REST API on httpHost:httpPort for `controller`.
Result<std::unique_ptr<rest::RestServer>> start_rest_api(const config::WorkerConfig& config,
                                                         runtime::ConnectController& controller);

// Prints the one line scripts and tests wait for, with the time since `started_at`:
//   worker ready: rest=http://HOST:PORT namesrv=ADDR worker=ID [cluster=CLUSTER] (N ms)
// (cluster= only when `cluster` is not empty) and flushes stdout.
void print_ready_line(const config::WorkerConfig& config, std::uint16_t rest_port,
                      std::string_view namesrv, std::string_view cluster,
                      std::chrono::steady_clock::time_point started_at);

// A connector file: Kafka's {"name": ..., "config": {...}} or a flat map with "name" (else the
// file name without extension is the connector name).
Result<std::pair<std::string, KeyValue>> load_connector_file(const std::string& path);

// Creates (or updates: allow_update) the connector of each file; errors are logged and the next
// file is tried.
void apply_connector_files(runtime::ConnectController& controller,
                           const std::vector<std::string>& files);

}  // namespace rmqc::app
