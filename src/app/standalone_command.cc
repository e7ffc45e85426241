#include "app/standalone_command.h"

#include "app/broker_command.h"
#include "base/file_util.h"
#include "base/logging.h"
#include "broker/server/embedded_broker.h"
#include "config/worker_config.h"
#include "converters/builtin_converters.h"
#include "file/file_connectors.h"
#include "plugins/plugin_loader.h"
#include "rest/rest_server.h"
#include "runtime/worker.h"
#include "transforms/builtin_transforms.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace rmqc::app {
namespace {

// A connector file: Kafka's {"name": ..., "config": {...}} or a flat map with "name" (else the
// file name without extension is the connector name).
Result<std::pair<std::string, KeyValue>> load_connector_file(const std::string& path) {
  RMQC_ASSIGN_OR_RETURN(std::string text, read_file(path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kParseError, path + ": " + e.what());
  }
  if (!j.is_object()) return Error(ErrorCode::kParseError, path + ": expected a JSON object");
  std::string name = std::filesystem::path(path).stem().string();
  const nlohmann::json* config = &j;
  if (j.contains("config") && j["config"].is_object()) config = &j["config"];
  if (j.contains("name") && j["name"].is_string()) name = j["name"].get<std::string>();
  KeyValue kv;
  for (const auto& [k, v] : config->items()) {
    if (k == "name" && config == &j) continue;
    kv.put(k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  return std::make_pair(std::move(name), std::move(kv));
}

}  // namespace

int run_standalone_command(const StandaloneCommandOptions& options) {
  auto started_at = std::chrono::steady_clock::now();
  auto log = logger("worker");
  block_stop_signals();
  auto config = config::load_worker_config(options.worker_conf);
  if (!config.ok()) {
    std::fprintf(stderr, "rmq-connect standalone: %s\n", config.error().to_string().c_str());
    return 2;
  }
  for (const auto& k : config->unknown_keys) {
    log->warn("unknown worker config key '{}' in {} (ignored)", k, options.worker_conf);
  }

  plugins::PluginRegistry registry;
  converters::register_builtin_converters(registry);
  transforms::register_builtin_transforms(registry);
  connectors::file::register_file_connectors(registry);
  plugins::PluginLoader loader(registry, config->plugin_paths);
  loader.load();
  for (const auto& p : loader.problems()) log->warn("plugin {}: {}", p.path, p.message);

  std::unique_ptr<broker::EmbeddedBroker> embedded;
  std::string namesrv = config->namesrv_addr;
  if (namesrv.empty()) {
    broker::EmbeddedBrokerOptions bo;
    bo.store.dir = config->store_path_root_dir + "/broker";
    bo.store.flush_mode =
        config->embedded_flush == "sync" ? broker::FlushMode::kSync : broker::FlushMode::kAsync;
    bo.namesrv_port = config->embedded_namesrv_port;
    bo.broker_port = config->embedded_broker_port;
    bo.broker.auto_create_topic = config->auto_create_topic_enable;
    if (config->acl_enable) {
      bo.broker.acl_enable = true;
      bo.broker.acl_accounts[config->access_key] = config->secret_key;
    }
    auto b = broker::EmbeddedBroker::start(bo);
    if (!b.ok()) {
      std::fprintf(stderr, "rmq-connect standalone: embedded broker: %s\n",
                   b.error().to_string().c_str());
      return 1;
    }
    embedded = std::move(b).value();
    namesrv = embedded->namesrv_addr();
  }

  runtime::StandaloneWorker::Options wo;
  wo.config = *config;
  wo.registry = &registry;
  wo.namesrv_addr = namesrv;
  wo.reload_plugins = [&loader]() -> Result<std::size_t> { return loader.reload(); };
  auto worker = runtime::StandaloneWorker::start(wo);
  if (!worker.ok()) {
    std::fprintf(stderr, "rmq-connect standalone: %s\n", worker.error().to_string().c_str());
    return 1;
  }
  rest::RestOptions ro;
  ro.host = config->http_host;
  ro.port = config->http_port;
  ro.redact_patterns = config->redact_keys;
  auto rest = rest::RestServer::start(ro, **worker);
  if (!rest.ok()) {
    std::fprintf(stderr, "rmq-connect standalone: REST API: %s\n",
                 rest.error().to_string().c_str());
    return 1;
  }
  auto ready_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started_at)
                      .count();
  // One line for scripts: where everything is.
  std::printf("worker ready: rest=http://%s:%u namesrv=%s worker=%s (%lld ms)\n",
              config->http_host.c_str(), static_cast<unsigned>((*rest)->port()), namesrv.c_str(),
              config->worker_id.c_str(), static_cast<long long>(ready_ms));
  std::fflush(stdout);

  (void)(*worker)->restore();
  for (const auto& file : options.connector_files) {
    auto c = load_connector_file(file);
    if (!c.ok()) {
      log->error("connector file {}: {}", file, c.error().message());
      continue;
    }
    auto created = (*worker)->put_connector(c->first, c->second, {.allow_update = true});
    if (!created.ok()) log->error("connector {}: {}", c->first, created.error().message());
  }

  int sig = wait_for_stop_signal();
  log->info("signal {}: shutting down", sig);
  (*rest)->stop();
  (*worker)->stop();
  if (embedded) embedded->stop();
  log->info("stopped cleanly");
  return 0;
}

}  // namespace rmqc::app
