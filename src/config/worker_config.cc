#include "config/worker_config.h"

#include "config/properties.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace rmqc::config {
namespace {

using Type = ConfigDef::Type;
using Imp = ConfigDef::Importance;

// The names make_allocation_strategy() (runtime/cluster/allocation.h) accepts.
std::vector<std::string> alloc_strategy_names() {
  return {
      kDefaultAllocTaskStrategy, kConsistentHashAllocTaskStrategy, "round-robin", "default", "hash",
      "consistent-hash"};
}

ConfigDef build_def() {
  ConfigDef d;
  d.define("workerId", Type::kString, "DefaultWorker", Imp::kHigh,
           "Unique id of this worker; shown as workerId in every status.")
      .define("connectClusterId", Type::kString, "DefaultConnectCluster", Imp::kMedium,
              "Cluster id (distributed mode: the discovery consumer group).")
      .define("namesrvAddr", Type::kString, "", Imp::kHigh,
              "RocketMQ name servers, host:port separated by ';'. Empty: start the embedded "
              "broker and name server in this process, storing under storePathRootDir/broker.")
      .define("httpHost", Type::kString, "127.0.0.1", Imp::kMedium,
              "Address the REST API listens on (0.0.0.0 to expose it).")
      .define("httpPort", Type::kInt, "8082", Imp::kHigh, "REST API port (0 = any free port).",
              validators::between(0, 65535))
      .define("pluginPaths", Type::kList, "", Imp::kMedium,
              "Directories or shared libraries with connector plugins, comma separated.")
      .define("storePathRootDir", Type::kString, "", Imp::kHigh,
              "Where the worker keeps connector configs, positions and statuses (and the "
              "embedded broker's store). Default: $HOME/connectorStore.")
      .define("aclEnable", Type::kBoolean, "false", Imp::kMedium,
              "Sign RocketMQ requests with accessKey/secretKey.")
      .define("accessKey", Type::kString, "", Imp::kMedium, "RocketMQ ACL access key.")
      .define("secretKey", Type::kPassword, "", Imp::kMedium, "RocketMQ ACL secret key.")
      .define("autoCreateTopicEnable", Type::kBoolean, "true", Imp::kMedium,
              "Create target topics of source connectors that do not exist.")
      .define("keyConverter", Type::kClass,
              "org.apache.rocketmq.connect.runtime.converter.record.StringConverter", Imp::kMedium,
              "Key converter of connectors that set no key.converter.")
      .define("valueConverter", Type::kClass,
              "org.apache.rocketmq.connect.runtime.converter.record.StringConverter", Imp::kMedium,
              "Value converter of connectors that set no value.converter.")
      .define("operationTimeout", Type::kLong, "3000", Imp::kLow, "RocketMQ send timeout, ms.",
              validators::at_least(1))
      .define("remotingSerializeType", Type::kString, "ROCKETMQ", Imp::kLow,
              "Header encoding of the worker's RocketMQ requests: ROCKETMQ (binary, every broker "
              "since 4.0; the broker decodes it several times faster) or JSON (what Java clients "
              "send unless rocketmq.serialize.type is set).",
              validators::one_of({"ROCKETMQ", "JSON"}))
      .define("offsetCommitIntervalMsConfig", Type::kLong, "30000", Imp::kMedium,
              "How often source positions and sink offsets are committed, ms.",
              validators::at_least(1))
      .define("offsetCommitTimeoutMsConfig", Type::kLong, "5000", Imp::kLow,
              "Longest wait for outstanding sends when committing, ms.", validators::at_least(1))
      .define("maxStartTimeoutMills", Type::kLong, "180000", Imp::kLow,
              "Longest a connector's start() or task_configs() may take before it is FAILED, ms.",
              validators::at_least(1))
      .define("maxStopTimeoutMills", Type::kLong, "60000", Imp::kLow,
              "Longest a task may take to stop before it is abandoned, ms.",
              validators::at_least(1))
      .define("taskAutoRestartEnable", Type::kBoolean, "true", Imp::kMedium,
              "Restart FAILED tasks automatically, with exponential backoff (never a task the "
              "user paused or stopped).")
      .define("taskAutoRestartInitialBackoffMs", Type::kLong, "1000", Imp::kLow,
              "Wait before the first automatic restart of a failed task, ms; doubles with each "
              "further attempt.",
              validators::at_least(1))
      .define("taskAutoRestartMaxBackoffMs", Type::kLong, "300000", Imp::kLow,
              "Longest wait between automatic restarts of a task, ms.", validators::at_least(1))
      .define("taskAutoRestartMaxAttempts", Type::kInt, "0", Imp::kLow,
              "Automatic restarts of a task before it is left FAILED (0 = no limit). The count "
              "starts again once the task ran a minute without failing.",
              validators::at_least(0))
      .define("rmqProducerGroup", Type::kString, "connector-producer-group", Imp::kLow,
              "Producer group of source tasks.")
      .define("rmqConsumerGroup", Type::kString, "connector-consumer-group", Imp::kLow,
              "Default consumer group prefix.")
      .define("rmqMessageConsumeTimeout", Type::kLong, "3000", Imp::kLow,
              "Sink tasks' poll timeout, ms.", validators::at_least(1))
      .define("metrics.enabled", Type::kBoolean, "true", Imp::kLow,
              "Count and time what tasks do for GET /metrics and the reporters. false: the "
              "per-batch updates are skipped (task counters stay 0; lag, states and worker "
              "figures are still reported).")
      .define("metrics.reporters", Type::kList, "", Imp::kMedium,
              "Reporters that publish the /metrics figures every metrics.report.interval.ms: log "
              "(one line per task and one for the worker in the worker log) and rocketmq (one JSON "
              "message per interval to metrics.topic). The Java runtime's class names are "
              "accepted: RocketMQScheduledReporter means rocketmq.")
      .define("metrics.reporter", Type::kString, "", Imp::kLow,
              "The Java runtime's single reporter class (also read from metricsConfigPath): "
              "org.apache.rocketmq.connect.metrics.reporter.RocketMQScheduledReporter (= "
              "rocketmq), or log; added to metrics.reporters.")
      .define("openLogMetricReporter", Type::kBoolean, "false", Imp::kLow,
              "The Java runtime's switch for its log reporter: true adds log to metrics.reporters.")
      .define("metricsConfigPath", Type::kString, "", Imp::kLow,
              "The Java runtime's metrics properties file (metrics.conf): its metrics.reporter and "
              "metrics.topic are read as if set here (keys set here win); its other keys are "
              "ignored (the reporter uses the worker's name server and ACL keys).")
      .define("metrics.report.interval.ms", Type::kLong, "10000", Imp::kLow,
              "How often the reporters publish, ms (the Java reporters' period is 10 s).",
              validators::at_least(100))
      .define("metrics.topic", Type::kString, "connect-metrics", Imp::kLow,
              "Topic the rocketmq reporter sends to (created on first send when the broker "
              "auto-creates topics).",
              validators::non_empty())
      .define("restRedactKeys", Type::kList, "password,secret,token", Imp::kLow,
              "Config keys containing any of these (case-insensitive) are shown as ****** in REST "
              "responses and logs.")
      // REST security.
      .define("rest.tls.cert.file", Type::kString, "", Imp::kMedium,
              "PEM certificate (chain) of the REST API; with rest.tls.key.file the API (and the "
              "admin listener) speak HTTPS only.")
      .define("rest.tls.key.file", Type::kString, "", Imp::kMedium,
              "PEM private key of rest.tls.cert.file.")
      .define("rest.auth.basic.users", Type::kPassword, "", Imp::kMedium,
              "HTTP basic auth users, comma separated, each user:role:password or "
              "user:role:sha256:<hex SHA-256 of the password>; role read (GETs that change "
              "nothing) or admin (everything). Set (or rest.auth.bearer.tokens): every route but "
              "rest.auth.public.paths needs credentials.")
      .define("rest.auth.bearer.tokens", Type::kPassword, "", Imp::kMedium,
              "Bearer tokens (Authorization: Bearer <token>), comma separated, each "
              "name:role:token or name:role:sha256:<hex SHA-256 of the token>.")
      .define("rest.auth.public.paths", Type::kList, "/health,/ready", Imp::kLow,
              "Paths answered without credentials when authentication is on (GET only; e.g. add "
              "/metrics for a Prometheus without credentials).")
      .define("rest.admin.listener", Type::kString, "", Imp::kLow,
              "host:port of a second REST listener for the requests that change state; when set "
              "the main listener answers them 403 (reads stay on both). Port 0 = any free port.")
      .define("rest.cors.allowed.origins", Type::kList, "", Imp::kLow,
              "Origins allowed to call the API from a browser (e.g. https://ops.example.com; * = "
              "any). Empty: no CORS headers and no preflight answers.")
      // Config providers.
      .define("config.providers", Type::kList, "", Imp::kMedium,
              "Config providers connector configs may reference: env (${env:VAR}), file "
              "(${file:/path/file.properties:key}), dir (${dir:/path:file}). Resolved only when "
              "a connector or task starts; stored configs and REST answers keep the ${...}.")
      .define("config.providers.env.param.allowlist", Type::kList, "", Imp::kMedium,
              "Environment variables ${env:...} may read: names, or prefixes ending in * "
              "(RMQC_SECRET_*). Empty: none.")
      .define("config.providers.file.param.allowed.paths", Type::kList, "", Imp::kMedium,
              "Directories (or files) whose properties files ${file:...} may read. Empty: none.")
      .define("config.providers.dir.param.allowed.paths", Type::kList, "", Imp::kMedium,
              "Directories whose files ${dir:...} may read. Empty: none.")
      .define("embeddedNamesrvPort", Type::kInt, "9876", Imp::kLow,
              "Embedded name server port (namesrvAddr empty; 0 = any free port).",
              validators::between(0, 65535))
      .define("embeddedBrokerPort", Type::kInt, "10911", Imp::kLow,
              "Embedded broker port (namesrvAddr empty; 0 = any free port).",
              validators::between(0, 65535))
      .define("embeddedBrokerFlush", Type::kString, "async", Imp::kLow,
              "Embedded broker flush policy: async or sync.", validators::one_of({"async", "sync"}))
      // Distributed mode.
      .define("clusterStoreTopic", Type::kString, "connector-cluster-topic", Imp::kMedium,
              "Distributed mode: topic whose consumer group connectClusterId is the cluster's "
              "membership (1 queue; created when missing).",
              validators::non_empty())
      .define("configStoreTopic", Type::kString, "connector-config-topic", Imp::kMedium,
              "Distributed mode: topic of connector configs, target states, task configs and "
              "deletions (1 queue; created when missing).",
              validators::non_empty())
      .define("positionStoreTopic", Type::kString, "connector-position-topic", Imp::kMedium,
              "Distributed mode: topic of source positions (1 queue; created when missing).",
              validators::non_empty())
      .define("connectStatusTopic", Type::kString, "connector-status-topic", Imp::kMedium,
              "Distributed mode: topic of connector and task statuses (1 queue; created when "
              "missing).",
              validators::non_empty())
      .define("allocTaskStrategy", Type::kClass, kDefaultAllocTaskStrategy, Imp::kMedium,
              "Distributed mode: how connectors and tasks are spread over the workers. The Java "
              "class names DefaultAllocateConnAndTaskStrategy (round robin) and "
              "AllocateConnAndTaskStrategyByConsistentHash (full names, package "
              "org.apache.rocketmq.connect.runtime.service.strategy) or the short names "
              "round-robin, hash, consistent-hash.",
              validators::one_of(alloc_strategy_names()))
      .define("virtualNode", Type::kInt, "100", Imp::kLow,
              "Distributed mode, consistent-hash strategy: points per worker on the hash ring; 0 "
              "(what Java files set) means 100.",
              validators::between(0, 100000))
      .define("configPersistInterval", Type::kLong, "20000", Imp::kLow,
              "Distributed mode: how often the local copy of the config topic is written under "
              "storePathRootDir, ms.",
              validators::at_least(1))
      .define("positionPersistInterval", Type::kLong, "20000", Imp::kLow,
              "Distributed mode: how often the local copy of the position topic is written "
              "under storePathRootDir, ms.",
              validators::at_least(1))
      .define("statePersistInterval", Type::kLong, "20000", Imp::kLow,
              "Distributed mode: how often a worker rewrites the statuses of the connectors and "
              "tasks it runs to the status topic even when unchanged, ms.",
              validators::at_least(1))
      .define("membershipPollIntervalMs", Type::kLong, "10000", Imp::kLow,
              "Distributed mode: how often the member list is re-read from the broker besides "
              "its change notifications, ms.",
              validators::at_least(100));
  // Keys of the Java runtime that nothing here uses: accepted without a warning so existing files
  // load unchanged.
  for (const char* k :
       {"autoCreateGroupEnable", "maxMessageSize", "offsetStoreTopic", "offsetPersistInterval",
        "adminExtGroup", "rmqMaxRedeliveryTimes", "rmqMaxConsumeThreadNums",
        "rmqMinConsumeThreadNums", "brokerSuspendMaxTimeMillis", "clusterManagementService",
        "configManagementService", "positionManagementService", "stateManagementService",
        "clusterName"}) {
    d.define(k, Type::kString, "", Imp::kLow,
             "Accepted for compatibility with the Java runtime; not used.");
  }
  return d;
}

std::string default_store_dir() {
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/connectorStore";
}

}  // namespace

const ConfigDef& worker_config_def() {
  static const ConfigDef def = build_def();
  return def;
}

Result<WorkerConfig> parse_worker_config(const KeyValue& properties) {
  const ConfigDef& def = worker_config_def();
  RMQC_ASSIGN_OR_RETURN(KeyValue kv, def.parse(properties));
  WorkerConfig c;
  for (const auto& [k, v] : properties) {
    if (!def.find(k)) c.unknown_keys.push_back(k);
  }
  c.worker_id = kv.get_string("workerId");
  c.connect_cluster_id = kv.get_string("connectClusterId");
  c.namesrv_addr = kv.get_string("namesrvAddr");
  c.http_host = kv.get_string("httpHost");
  c.http_port = static_cast<std::uint16_t>(kv.get_int("httpPort"));
  c.plugin_paths = split_list(kv.get_string("pluginPaths"));
  c.store_path_root_dir = kv.get_string("storePathRootDir");
  if (c.store_path_root_dir.empty()) c.store_path_root_dir = default_store_dir();
  c.acl_enable = kv.get_bool("aclEnable");
  c.access_key = kv.get_string("accessKey");
  c.secret_key = kv.get_string("secretKey");
  if (c.acl_enable && (c.access_key.empty() || c.secret_key.empty())) {
    return Error(ErrorCode::kInvalidConfig, "aclEnable=true needs accessKey and secretKey");
  }
  c.auto_create_topic_enable = kv.get_bool("autoCreateTopicEnable");
  c.key_converter = kv.get_string("keyConverter");
  c.value_converter = kv.get_string("valueConverter");
  c.operation_timeout = std::chrono::milliseconds(kv.get_long("operationTimeout"));
  c.offset_commit_interval = std::chrono::milliseconds(kv.get_long("offsetCommitIntervalMsConfig"));
  c.offset_commit_timeout = std::chrono::milliseconds(kv.get_long("offsetCommitTimeoutMsConfig"));
  c.max_start_timeout = std::chrono::milliseconds(kv.get_long("maxStartTimeoutMills"));
  c.max_stop_timeout = std::chrono::milliseconds(kv.get_long("maxStopTimeoutMills"));
  c.task_auto_restart_enable = kv.get_bool("taskAutoRestartEnable");
  c.task_auto_restart_initial_backoff =
      std::chrono::milliseconds(kv.get_long("taskAutoRestartInitialBackoffMs"));
  c.task_auto_restart_max_backoff =
      std::chrono::milliseconds(kv.get_long("taskAutoRestartMaxBackoffMs"));
  c.task_auto_restart_max_attempts = kv.get_int("taskAutoRestartMaxAttempts");
  c.rmq_producer_group = kv.get_string("rmqProducerGroup");
  c.rmq_consumer_group = kv.get_string("rmqConsumerGroup");
  c.consume_timeout = std::chrono::milliseconds(kv.get_long("rmqMessageConsumeTimeout"));
  c.redact_keys = split_list(kv.get_string("restRedactKeys"));
  {
    // metricsConfigPath: the Java runtime's metrics.conf supplies what this file does not set.
    KeyValue file;
    if (std::string path = kv.get_string("metricsConfigPath"); !path.empty()) {
      auto loaded = load_properties_file(path);
      if (!loaded.ok()) return std::move(loaded).error().with_context("metricsConfigPath");
      file = std::move(loaded).value();
    }
    auto metrics_key = [&](const char* key) {
      if (properties.contains(key)) return kv.get_string(key);
      const std::string* v = file.find(key);
      return v ? *v : kv.get_string(key);
    };
    c.metrics_enabled = kv.get_bool("metrics.enabled");
    c.metrics_report_interval =
        std::chrono::milliseconds(kv.get_long("metrics.report.interval.ms"));
    c.metrics_topic = metrics_key("metrics.topic");
    if (c.metrics_topic.empty()) {
      return Error(ErrorCode::kInvalidConfig, "metrics.topic must not be empty");
    }
    std::vector<std::string> names = split_list(kv.get_string("metrics.reporters"));
    if (std::string one = metrics_key("metrics.reporter"); !one.empty()) names.push_back(one);
    if (kv.get_bool("openLogMetricReporter")) names.emplace_back("log");
    for (std::string name : names) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      if (lower == "rocketmq" || lower.ends_with("rocketmqscheduledreporter")) {
        lower = "rocketmq";
      } else if (lower != "log") {
        return Error(ErrorCode::kInvalidConfig,
                     "metrics reporter '" + name +
                         "' is unknown: use log or rocketmq (or the Java class "
                         "org.apache.rocketmq.connect.metrics.reporter.RocketMQScheduledReporter)");
      }
      if (std::find(c.metrics_reporters.begin(), c.metrics_reporters.end(), lower) ==
          c.metrics_reporters.end()) {
        c.metrics_reporters.push_back(lower);
      }
    }
  }
  c.rest_tls_cert_file = kv.get_string("rest.tls.cert.file");
  c.rest_tls_key_file = kv.get_string("rest.tls.key.file");
  if (c.rest_tls_cert_file.empty() != c.rest_tls_key_file.empty()) {
    return Error(ErrorCode::kInvalidConfig,
                 "rest.tls.cert.file and rest.tls.key.file are set together");
  }
  c.rest_auth_basic_users = split_list(kv.get_string("rest.auth.basic.users"));
  c.rest_auth_bearer_tokens = split_list(kv.get_string("rest.auth.bearer.tokens"));
  c.rest_auth_public_paths = split_list(kv.get_string("rest.auth.public.paths"));
  c.rest_cors_allowed_origins = split_list(kv.get_string("rest.cors.allowed.origins"));
  if (std::string admin = kv.get_string("rest.admin.listener"); !admin.empty()) {
    std::size_t colon = admin.rfind(':');
    int port = -1;
    if (colon != std::string::npos && colon + 1 < admin.size() && colon + 6 >= admin.size() &&
        std::all_of(admin.begin() + static_cast<std::ptrdiff_t>(colon) + 1, admin.end(),
                    [](unsigned char ch) { return std::isdigit(ch); })) {
      port = std::stoi(admin.substr(colon + 1));
    }
    if (port < 0 || port > 65535 || colon == 0) {
      return Error(ErrorCode::kInvalidConfig,
                   "rest.admin.listener must be host:port, got '" + admin + "'");
    }
    c.rest_admin_listener = true;
    c.rest_admin_host = admin.substr(0, colon);
    c.rest_admin_port = static_cast<std::uint16_t>(port);
  }
  c.config_providers = split_list(kv.get_string("config.providers"));
  for (const auto& p : c.config_providers) {
    if (p != "env" && p != "file" && p != "dir") {
      return Error(ErrorCode::kInvalidConfig,
                   "config.providers: unknown provider '" + p + "' (env, file, dir)");
    }
  }
  c.config_provider_env_allowlist =
      split_list(kv.get_string("config.providers.env.param.allowlist"));
  c.config_provider_file_allowed_paths =
      split_list(kv.get_string("config.providers.file.param.allowed.paths"));
  c.config_provider_dir_allowed_paths =
      split_list(kv.get_string("config.providers.dir.param.allowed.paths"));
  c.embedded_namesrv_port = static_cast<std::uint16_t>(kv.get_int("embeddedNamesrvPort"));
  c.embedded_broker_port = static_cast<std::uint16_t>(kv.get_int("embeddedBrokerPort"));
  c.embedded_flush = kv.get_string("embeddedBrokerFlush");
  c.cluster_store_topic = kv.get_string("clusterStoreTopic");
  c.config_store_topic = kv.get_string("configStoreTopic");
  c.position_store_topic = kv.get_string("positionStoreTopic");
  c.connect_status_topic = kv.get_string("connectStatusTopic");
  {
    // The validator matched case-insensitively; the strategy factory wants the exact spelling.
    std::string strategy = kv.get_string("allocTaskStrategy");
    std::erase_if(strategy, [](unsigned char ch) { return std::isspace(ch); });
    for (const auto& name : alloc_strategy_names()) {
      if (strategy.size() == name.size() &&
          std::equal(strategy.begin(), strategy.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        strategy = name;
      }
    }
    c.alloc_task_strategy = strategy;
  }
  c.virtual_node = kv.get_int("virtualNode");
  c.config_persist_interval = std::chrono::milliseconds(kv.get_long("configPersistInterval"));
  c.position_persist_interval = std::chrono::milliseconds(kv.get_long("positionPersistInterval"));
  c.state_persist_interval = std::chrono::milliseconds(kv.get_long("statePersistInterval"));
  c.membership_poll_interval = std::chrono::milliseconds(kv.get_long("membershipPollIntervalMs"));
  {
    std::string type = kv.get_string("remotingSerializeType");
    std::erase_if(type, [](unsigned char ch) { return std::isspace(ch); });
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    c.binary_headers = type != "json";
  }
  c.raw = std::move(kv);
  return c;
}

Result<WorkerConfig> load_worker_config(const std::string& path) {
  RMQC_ASSIGN_OR_RETURN(KeyValue properties, load_properties_file(path));
  auto parsed = parse_worker_config(properties);
  if (!parsed.ok()) return std::move(parsed).error().with_context(path);
  return parsed;
}

}  // namespace rmqc::config
