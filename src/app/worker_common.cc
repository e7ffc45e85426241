#include "app/worker_common.h"

#include "base/file_util.h"
#include "base/heap_allocator.h"
#include "base/logging.h"
#include "builtin_connectors.h"
#include "converters/builtin_converters.h"
#include "transforms/builtin_transforms.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace rmqc::app {

std::optional<config::WorkerConfig> load_worker_config_or_report(std::string_view command,
                                                                 const std::string& path) {
  auto config = config::load_worker_config(path);
  if (!config.ok()) {
    std::fprintf(stderr, "rmq-connect %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 config.error().to_string().c_str());
    return std::nullopt;
  }
  auto log = logger("worker");
  for (const auto& k : config->unknown_keys) {
    log->warn("unknown worker config key '{}' in {} (ignored)", k, path);
  }
  return std::move(config).value();
}

WorkerPlugins::WorkerPlugins(const config::WorkerConfig& config)
    : loader_(registry_, config.plugin_paths) {
  converters::register_builtin_converters(registry_);
  transforms::register_builtin_transforms(registry_);
  connectors::register_builtin_connectors(registry_);
  loader_.load();
  auto log = logger("worker");
  for (const auto& p : loader_.problems()) log->warn("plugin {}: {}", p.path, p.message);
}

std::function<Result<std::size_t>()> WorkerPlugins::reloader() {
  return [this]() -> Result<std::size_t> { return loader_.reload(); };
}

Result<std::unique_ptr<rest::RestServer>> start_rest_api(const config::WorkerConfig& config,
                                                         runtime::ConnectController& controller) {
  rest::RestOptions ro;
  ro.host = config.http_host;
  ro.port = config.http_port;
  ro.redact_patterns = config.redact_keys;
  ro.security.tls_cert_file = config.rest_tls_cert_file;
  ro.security.tls_key_file = config.rest_tls_key_file;
  ro.security.basic_users = config.rest_auth_basic_users;
  ro.security.bearer_tokens = config.rest_auth_bearer_tokens;
  ro.security.public_paths = config.rest_auth_public_paths;
  ro.security.cors_allowed_origins = config.rest_cors_allowed_origins;
  ro.admin_listener = config.rest_admin_listener;
  ro.admin_host = config.rest_admin_host;
  ro.admin_port = config.rest_admin_port;
  return rest::RestServer::start(ro, controller);
}

void print_ready_line(const config::WorkerConfig& config, std::uint16_t rest_port,
                      std::string_view namesrv, std::string_view cluster,
                      std::chrono::steady_clock::time_point started_at) {
  auto ready_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started_at)
                      .count();
  logger("worker")->info("rmq-connect {} ready in {} ms; heap allocator: {}", kVersion, ready_ms,
                         heap_allocator());
  std::string cluster_part;
  if (!cluster.empty()) cluster_part = " cluster=" + std::string(cluster);
  std::printf("worker ready: rest=%s://%s:%u namesrv=%.*s worker=%s%s (%lld ms)\n",
              config.rest_tls_cert_file.empty() ? "http" : "https", config.http_host.c_str(),
              static_cast<unsigned>(rest_port), static_cast<int>(namesrv.size()), namesrv.data(),
              config.worker_id.c_str(), cluster_part.c_str(), static_cast<long long>(ready_ms));
  std::fflush(stdout);
}

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

void apply_connector_files(runtime::ConnectController& controller,
                           const std::vector<std::string>& files) {
  auto log = logger("worker");
  for (const auto& file : files) {
    auto c = load_connector_file(file);
    if (!c.ok()) {
      log->error("connector file {}: {}", file, c.error().message());
      continue;
    }
    auto created = controller.put_connector(c->first, c->second, {.allow_update = true});
    if (!created.ok()) log->error("connector {}: {}", c->first, created.error().message());
  }
}

}  // namespace rmqc::app
