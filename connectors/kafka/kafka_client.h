#pragma once

// What the Kafka source and sink share: their config keys, the librdkafka config built from them
// (kafka.* keys passed through), owning handles, and the record <-> bytes rules.

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"
#include "rmqc/api/record.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::kafka {

// Keys of both connectors.
inline constexpr std::string_view kBootstrapServerConfig = "kafka.bootstrap.server";
// Source keys.
inline constexpr std::string_view kTopicsConfig = "kafka.topics";
inline constexpr std::string_view kGroupIdConfig = "kafka.group.id";
inline constexpr std::string_view kConnectTopicNameConfig = "connect.topicname";
inline constexpr std::string_view kRocketMqTopicConfig = "rocketmq.topic";
inline constexpr std::string_view kPollBatchConfig = "kafka.poll.batch.size";
// Sink keys.
inline constexpr std::string_view kKafkaTopicConfig = "kafka.topic";
inline constexpr std::string_view kFlushTimeoutConfig = "kafka.flush.timeout.ms";

// Partition and offset fields of source records.
inline constexpr std::string_view kTopicField = "topic";
inline constexpr std::string_view kPartitionField = "partition";
inline constexpr std::string_view kOffsetField = "offset";

// The default consumer group of a source connector: connector-consumer-group-<connector name>.
std::string default_group_id(std::string_view connector_name);

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
  void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaDeleter>;
using KafkaQueue = std::unique_ptr<rd_kafka_queue_t, KafkaDeleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;

// The connector's own keys that start with "kafka." (not passed to librdkafka).
bool is_connector_key(std::string_view key);

// A librdkafka config: bootstrap.servers from kafka.bootstrap.server, then `defaults`, then every
// other kafka.<name> key as librdkafka's <name> (so kafka.security.protocol, kafka.sasl.*,
// kafka.ssl.* and any tuning key reach the client). Throws ConnectException naming a key
// librdkafka rejects.
KafkaConf make_conf(const KeyValue& config,
                    const std::vector<std::pair<std::string, std::string>>& defaults);

// Sets one librdkafka key; throws ConnectException with librdkafka's reason.
void set_conf(rd_kafka_conf_t* conf, const std::string& name, const std::string& value);

// The keys both connectors define (merged into each definition).
void define_common_keys(ConfigDef& def);

// How record keys and values are represented: raw bytes in a STRING (what the default
// StringConverter writes back unchanged), or a BYTES value when the connector's converter is
// ByteArrayConverter (it accepts BYTES only).
bool wants_bytes(const KeyValue& config, std::string_view converter_key);

// The bytes of a sink record's key or value: a STRING or BYTES as they are, null as nullopt,
// anything else as its text.
std::optional<std::string> bytes_of(const Value& value);

// RocketMQ system properties, which do not become Kafka headers.
bool is_system_property(std::string_view name);

// How long a task waits for the answer of a Reachability probe.
inline constexpr std::chrono::milliseconds kProbeTimeout{500};

// librdkafka's error text.
std::string error_text(rd_kafka_resp_err_t err);

// Whether the Kafka cluster answers a task's client. The client reports "all brokers down"
// (RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) through its error callback, but nothing when a broker is
// back: a message received or delivered, or a probe (a metadata request) answered, ends the
// outage. The reason names the bootstrap servers and the last connection error before it.
class Reachability {
 public:
  explicit Reachability(std::string bootstrap = {}) : bootstrap_(std::move(bootstrap)) {}
  void set_bootstrap(std::string bootstrap) { bootstrap_ = std::move(bootstrap); }
  // From the client's error callback.
  void on_error(rd_kafka_resp_err_t err, const char* reason);
  // A message came or was delivered.
  void reached() {
    if (down_.load(std::memory_order_relaxed)) clear();
  }
  bool down() const { return down_.load(std::memory_order_relaxed); }
  // "Kafka unreachable (<bootstrap>): <error>"; empty when reachable.
  std::string reason() const;
  // While down: asks the cluster for its brokers, waiting at most `timeout`; an answer ends the
  // outage. True when reachable afterwards.
  bool probe(rd_kafka_t* rk, std::chrono::milliseconds timeout);

 private:
  void clear();

  std::string bootstrap_;
  std::atomic<bool> down_{false};
  mutable std::mutex mutex_;
  std::string last_error_;  // under mutex_: the last connection error reported
  std::string reason_;      // under mutex_
};

}  // namespace rmqc::connectors::kafka
