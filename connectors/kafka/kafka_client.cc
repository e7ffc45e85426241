#include "kafka/kafka_client.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logging.h"

#include <array>

namespace rmqc::connectors::kafka {

std::string default_group_id(std::string_view connector_name) {
  return "connector-consumer-group-" + std::string(connector_name);
}

bool is_connector_key(std::string_view key) {
  static constexpr std::array<std::string_view, 6> kOwn = {
      kBootstrapServerConfig, kTopicsConfig,    kGroupIdConfig,
      kKafkaTopicConfig,      kPollBatchConfig, kFlushTimeoutConfig};
  for (auto k : kOwn) {
    if (k == key) return true;
  }
  return false;
}

void set_conf(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char reason[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), reason, sizeof(reason)) !=
      RD_KAFKA_CONF_OK) {
    throw ConnectException("kafka." + name + ": " + reason);
  }
}

namespace {

// librdkafka's own log lines go to the worker's log at debug level (its errors reach the tasks'
// error callbacks, which log them as warnings once); critical ones as errors.
void log_cb(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
  static const Logger logger("kafka-client");
  if (level <= 2) {
    logger.error(rd_kafka_name(rk), " ", facility, ": ", text);
  } else {
    logger.debug(rd_kafka_name(rk), " ", facility, ": ", text);
  }
}

void log_outage(const std::string& reason) {
  static const Logger logger("kafka-client");
  logger.warn(reason, "; retrying");
}

void log_back(const std::string& bootstrap) {
  static const Logger logger("kafka-client");
  logger.info("Kafka reachable again (", bootstrap, ")");
}

}  // namespace

KafkaConf make_conf(const KeyValue& config,
                    const std::vector<std::pair<std::string, std::string>>& defaults) {
  KafkaConf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &log_cb);
  set_conf(conf.get(), "bootstrap.servers", config.get_string(kBootstrapServerConfig));
  for (const auto& [name, value] : defaults) set_conf(conf.get(), name, value);
  static constexpr std::string_view kPrefix = "kafka.";
  for (const auto& [key, value] : config) {
    if (!key.starts_with(kPrefix) || is_connector_key(key)) continue;
    set_conf(conf.get(), key.substr(kPrefix.size()), value);
  }
  return conf;
}

void define_common_keys(ConfigDef& def) {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  def.define(std::string(kBootstrapServerConfig), T::kString, std::nullopt, I::kHigh,
             "The Kafka brokers to start from, host:port separated by ',' (librdkafka's "
             "bootstrap.servers).",
             validators::non_empty());
}

bool wants_bytes(const KeyValue& config, std::string_view converter_key) {
  return config.get_string(converter_key).find("ByteArrayConverter") != std::string::npos;
}

std::optional<std::string> bytes_of(const Value& value) {
  if (value.is_null()) return std::nullopt;
  if (const auto* s = value.get_if<std::string>()) return *s;
  if (const auto* b = value.get_if<Bytes>()) {
    return std::string(reinterpret_cast<const char*>(b->data()), b->size());
  }
  return value.to_string();
}

bool is_system_property(std::string_view name) {
  static constexpr std::array<std::string_view, 40> kSystem = {"KEYS",
                                                               "TAGS",
                                                               "UNIQ_KEY",
                                                               "WAIT",
                                                               "DELAY",
                                                               "RETRY_TOPIC",
                                                               "REAL_TOPIC",
                                                               "REAL_QID",
                                                               "TRAN_MSG",
                                                               "PGROUP",
                                                               "ORIGIN_MESSAGE_ID",
                                                               "RECONSUME_TIME",
                                                               "MAX_RECONSUME_TIMES",
                                                               "MIN_OFFSET",
                                                               "MAX_OFFSET",
                                                               "CLUSTER",
                                                               "MSG_REGION",
                                                               "TRACE_ON",
                                                               "TRAN_PREPARED_QUEUE_OFFSET",
                                                               "TRANSACTION_CHECK_TIMES",
                                                               "CHECK_IMMUNITY_TIME_IN_SECONDS",
                                                               "CORRELATION_ID",
                                                               "REPLY_TO_CLIENT",
                                                               "TTL",
                                                               "MSG_TYPE",
                                                               "ARRIVE_TIME",
                                                               "__SHARDINGKEY",
                                                               "__SHARDING_KEY",
                                                               "__STARTDELIVERTIME",
                                                               "TIMER_DELIVER_MS",
                                                               "TIMER_DELAY_SEC",
                                                               "INSTANCE_ID",
                                                               "BUYER_ID",
                                                               "TRANSFER_FLAG",
                                                               "CORRECTION_FLAG",
                                                               "MQ2_FLAG",
                                                               "CONSUME_START_TIME",
                                                               "INNER_NUM",
                                                               "INNER_BASE",
                                                               "connect.timestamp"};
  for (auto s : kSystem) {
    if (s == name) return true;
  }
  return false;
}

std::string error_text(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2name(err)) + ": " + rd_kafka_err2str(err);
}

void Reachability::on_error(rd_kafka_resp_err_t err, const char* reason) {
  std::lock_guard lock(mutex_);
  if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    last_error_ = std::string(rd_kafka_err2name(err)) + ": " + (reason ? reason : "");
    return;
  }
  reason_ = "Kafka unreachable (" + bootstrap_ + "): " + (reason ? reason : "all brokers down");
  if (!last_error_.empty()) reason_ += "; last error " + last_error_;
  if (!down_.exchange(true)) log_outage(reason_);
}

std::string Reachability::reason() const {
  std::lock_guard lock(mutex_);
  return down_.load() ? reason_ : std::string();
}

void Reachability::clear() {
  std::lock_guard lock(mutex_);
  if (!down_.exchange(false)) return;
  reason_.clear();
  last_error_.clear();
  log_back(bootstrap_);
}

bool Reachability::probe(rd_kafka_t* rk, std::chrono::milliseconds timeout) {
  if (!down()) return true;
  const rd_kafka_metadata_t* metadata = nullptr;
  // all_topics=0 and no topic: the brokers only (and the topics the client knows).
  if (rd_kafka_metadata(rk, 0, nullptr, &metadata, static_cast<int>(timeout.count())) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return false;
  }
  rd_kafka_metadata_destroy(metadata);
  clear();
  return true;
}

}  // namespace rmqc::connectors::kafka
