#pragma once

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"
#include "rmqc/base/result.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace rmqc::config {

inline constexpr const char* kDefaultAllocTaskStrategy =
    "org.apache.rocketmq.connect.runtime.service.strategy.DefaultAllocateConnAndTaskStrategy";
inline constexpr const char* kConsistentHashAllocTaskStrategy =
    "org.apache.rocketmq.connect.runtime.service.strategy."
    "AllocateConnAndTaskStrategyByConsistentHash";

// The worker configuration file (connect-standalone.conf / connect-distributed.conf), with the
// Java runtime's key names. Every key is in worker_config_def() with its default and meaning.
struct WorkerConfig {
  std::string worker_id = "DefaultWorker";
  std::string connect_cluster_id = "DefaultConnectCluster";
  std::string namesrv_addr;  // empty = start the embedded broker in-process
  std::string http_host = "127.0.0.1";
  std::uint16_t http_port = 8082;
  std::vector<std::string> plugin_paths;
  std::string store_path_root_dir;
  bool acl_enable = false;
  std::string access_key;
  std::string secret_key;
  bool auto_create_topic_enable = true;
  std::string key_converter;
  std::string value_converter;
  std::chrono::milliseconds operation_timeout{3000};
  bool binary_headers = true;  // remotingSerializeType: ROCKETMQ (true) or JSON
  std::chrono::milliseconds offset_commit_interval{30000};
  std::chrono::milliseconds offset_commit_timeout{5000};
  std::chrono::milliseconds max_start_timeout{180000};
  std::chrono::milliseconds max_stop_timeout{60000};
  // Automatic restarts of FAILED tasks (docs/operations.md).
  bool task_auto_restart_enable = true;
  std::chrono::milliseconds task_auto_restart_initial_backoff{1000};
  std::chrono::milliseconds task_auto_restart_max_backoff{300000};
  int task_auto_restart_max_attempts = 0;  // 0 = no limit
  std::string rmq_producer_group = "connector-producer-group";
  std::string rmq_consumer_group = "connector-consumer-group";
  std::chrono::milliseconds consume_timeout{3000};
  std::vector<std::string> redact_keys;  // substrings of config keys whose values are hidden
  // Metrics (docs/operations.md#metrics): the per-batch task updates, and the reporters that
  // publish the /metrics figures every interval ("log", "rocketmq").
  bool metrics_enabled = true;
  std::vector<std::string> metrics_reporters;
  std::chrono::milliseconds metrics_report_interval{10000};
  std::string metrics_topic = "connect-metrics";
  // REST security (docs/operations.md#security).
  std::string rest_tls_cert_file;
  std::string rest_tls_key_file;
  std::vector<std::string> rest_auth_basic_users;    // user:role:password|sha256:<hex>
  std::vector<std::string> rest_auth_bearer_tokens;  // name:role:token|sha256:<hex>
  std::vector<std::string> rest_auth_public_paths;
  std::vector<std::string> rest_cors_allowed_origins;
  bool rest_admin_listener = false;  // rest.admin.listener set
  std::string rest_admin_host;
  std::uint16_t rest_admin_port = 0;
  // Config providers (docs/operations.md#config-providers): names among env, file, dir, and
  // their allow-lists.
  std::vector<std::string> config_providers;
  std::vector<std::string> config_provider_env_allowlist;
  std::vector<std::string> config_provider_file_allowed_paths;
  std::vector<std::string> config_provider_dir_allowed_paths;
  // Embedded broker (namesrvAddr empty).
  std::uint16_t embedded_namesrv_port = 9876;
  std::uint16_t embedded_broker_port = 10911;
  std::string embedded_flush = "async";
  // Distributed mode (`rmq-connect distributed`; the standalone worker ignores these).
  std::string cluster_store_topic = "connector-cluster-topic";
  std::string config_store_topic = "connector-config-topic";
  std::string position_store_topic = "connector-position-topic";
  std::string connect_status_topic = "connector-status-topic";
  // A name make_allocation_strategy() accepts, in its canonical spelling (the Java class name or
  // round-robin, default, hash, consistent-hash).
  std::string alloc_task_strategy = kDefaultAllocTaskStrategy;
  int virtual_node = 100;  // consistent-hash points per worker
  std::chrono::milliseconds config_persist_interval{20000};
  std::chrono::milliseconds position_persist_interval{20000};
  std::chrono::milliseconds state_persist_interval{20000};
  std::chrono::milliseconds membership_poll_interval{10000};

  KeyValue raw;                           // every key as given, defaults applied
  std::vector<std::string> unknown_keys;  // keys not in worker_config_def(), warned about
};

// Every worker key: name, type, default, documentation (also what docs/configuration.md lists).
const ConfigDef& worker_config_def();

// Validates and converts; unknown keys are returned in unknown_keys (the caller warns).
Result<WorkerConfig> parse_worker_config(const KeyValue& properties);
Result<WorkerConfig> load_worker_config(const std::string& path);

}  // namespace rmqc::config
