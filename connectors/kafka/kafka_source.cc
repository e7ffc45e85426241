#include "kafka/kafka_source.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logging.h"

#include <algorithm>
#include <cstring>

namespace rmqc::connectors::kafka {
namespace {

const Logger& log() {
  static const Logger logger("kafka-source");
  return logger;
}

KeyValue parse_or_throw(const KeyValue& config) {
  auto parsed = KafkaSourceConnector::definition().parse(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  return std::move(parsed).value();
}

std::vector<std::string> topics_or_throw(const KeyValue& parsed) {
  auto topics = split_list(parsed.get_string(kTopicsConfig));
  if (topics.empty()) throw ConnectException("kafka.topics: at least one topic is needed");
  return topics;
}

Value raw(const char* data, std::size_t size, bool as_bytes) {
  if (as_bytes) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(data);
    return Value(Bytes(p, p + size));
  }
  return Value(std::string(data, size));
}

}  // namespace

// --- KafkaSourceConnector -------------------------------------------------------------------

ConfigDef KafkaSourceConnector::definition() {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  ConfigDef def;
  define_common_keys(def);
  def.define(std::string(kTopicsConfig), T::kList, std::nullopt, I::kHigh,
             "The Kafka topics to read, separated by ','.", validators::non_empty());
  def.define(std::string(kGroupIdConfig), T::kString, "", I::kHigh,
             "The Kafka consumer group of the tasks, where offsets are committed (default "
             "connector-consumer-group-<connector name>).");
  def.define(std::string(kConnectTopicNameConfig), T::kString, "", I::kHigh,
             "The RocketMQ topic of every record (default: the Kafka topic's name).");
  def.define(std::string(kRocketMqTopicConfig), T::kString, "", I::kMedium,
             "Seed 001's name for connect.topicname (used when that is not set).");
  def.define(std::string(kPollBatchConfig), T::kInt, "500", I::kLow,
             "Most records one poll returns.", validators::between(1, 100'000));
  return def;
}

void KafkaSourceConnector::validate(const KeyValue& config) {
  const KeyValue parsed = parse_or_throw(config);
  topics_or_throw(parsed);
  make_conf(parsed, {});  // librdkafka rejects unknown or bad kafka.* keys
}

void KafkaSourceConnector::start(const KeyValue& config) {
  config_ = parse_or_throw(config);
  topics_or_throw(config_);
  make_conf(config_, {});
}

std::vector<KeyValue> KafkaSourceConnector::task_configs(int max_tasks) {
  return std::vector<KeyValue>(static_cast<std::size_t>(std::max(max_tasks, 1)), config_);
}

std::string KafkaSourceConnector::task_class() const {
  return "org.apache.rocketmq.connect.kafka.connector.KafkaSourceTask";
}

std::unique_ptr<Task> KafkaSourceConnector::create_task() const {
  return std::make_unique<KafkaSourceTask>();
}

// --- KafkaSourceTask ------------------------------------------------------------------------

KafkaSourceTask::~KafkaSourceTask() {
  close();
}

void KafkaSourceTask::start(const KeyValue& config) {
  config_ = parse_or_throw(config);
  topics_ = topics_or_throw(config_);
  rename_ = config_.get_string(kConnectTopicNameConfig);
  if (rename_.empty()) rename_ = config_.get_string(kRocketMqTopicConfig);
  key_bytes_ = wants_bytes(config_, "key.converter");
  value_bytes_ = wants_bytes(config_, "value.converter");
  batch_size_ = config_.get_int(kPollBatchConfig, 500);
  reach_.set_bootstrap(config_.get_string(kBootstrapServerConfig));

  std::string connector = config_.get_string("connector.name");
  if (connector.empty() && context() != nullptr) connector = context()->connector_name();
  group_id_ = config_.get_string(kGroupIdConfig);
  if (group_id_.empty()) group_id_ = default_group_id(connector);

  // Offsets are stored only for what RocketMQ acknowledged (commit(record, metadata)); the
  // client commits the stored ones in the background and when partitions are revoked.
  KafkaConf conf = make_conf(config_, {{"group.id", group_id_},
                                       {"client.id", "rmq-connect-" + connector},
                                       {"enable.auto.commit", "true"},
                                       {"enable.auto.offset.store", "false"},
                                       {"auto.offset.reset", "earliest"},
                                       {"auto.commit.interval.ms", "1000"}});
  // Not overridable: what makes the commit follow RocketMQ's acknowledgements.
  set_conf(conf.get(), "enable.auto.offset.store", "false");
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaSourceTask::rebalance_cb);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaSourceTask::error_cb);

  char reason[512];
  KafkaHandle consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), reason, sizeof(reason)));
  if (!consumer) throw ConnectException(std::string("Kafka consumer: ") + reason);
  conf.release();  // owned by the handle now
  rd_kafka_poll_set_consumer(consumer.get());

  PartitionList subscription(rd_kafka_topic_partition_list_new(static_cast<int>(topics_.size())));
  for (const auto& t : topics_) {
    rd_kafka_topic_partition_list_add(subscription.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (auto err = rd_kafka_subscribe(consumer.get(), subscription.get()); err) {
    throw ConnectException("subscribing to " + config_.get_string(kTopicsConfig) + ": " +
                           error_text(err));
  }
  std::lock_guard lock(handle_mutex_);
  queue_.reset(rd_kafka_queue_get_consumer(consumer.get()));
  consumer_ = std::move(consumer);
  log().info("reading Kafka topics ", config_.get_string(kTopicsConfig), " as group ", group_id_,
             " from ", config_.get_string(kBootstrapServerConfig));
}

void KafkaSourceTask::stop() {
  close();
}

void KafkaSourceTask::close() {
  {
    std::lock_guard lock(handle_mutex_);
    queue_.reset();
  }
  if (!consumer_) return;
  // Leaves the group, committing the offsets stored so far (the rebalance callback still runs).
  if (auto err = rd_kafka_consumer_close(consumer_.get()); err) {
    log().warn("closing the Kafka consumer of group ", group_id_, ": ", error_text(err));
  }
  consumer_.reset();
}

std::vector<std::string> KafkaSourceTask::assignment() const {
  std::vector<std::string> out;
  rd_kafka_topic_partition_list_t* list = nullptr;
  if (!consumer_ || rd_kafka_assignment(consumer_.get(), &list) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return out;
  }
  PartitionList owned(list);
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back(std::string(list->elems[i].topic) + "[" +
                  std::to_string(list->elems[i].partition) + "]");
  }
  return out;
}

void KafkaSourceTask::wakeup() {
  woken_ = true;
  std::lock_guard lock(handle_mutex_);
  if (queue_) rd_kafka_queue_yield(queue_.get());
}

std::vector<ConnectRecord> KafkaSourceTask::poll() {
  std::vector<ConnectRecord> out;
  if (!consumer_) return out;
  if (woken_.exchange(false)) return out;
  auto deadline = std::chrono::steady_clock::now() + poll_timeout_;
  while (static_cast<int>(out.size()) < batch_size_) {
    // Waits for the first record only; then takes what is already there.
    int timeout = 0;
    if (out.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      timeout = static_cast<int>(left.count());
    }
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), timeout);
    if (message == nullptr) {
      if (!out.empty() || woken_.exchange(false)) break;
      if (timeout == 0) break;
      continue;
    }
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(
        message, rd_kafka_message_destroy);
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (message->err) {
      char fatal[512];
      if (rd_kafka_fatal_error(consumer_.get(), fatal, sizeof(fatal))) {
        throw ConnectException(std::string("Kafka consumer failed: ") + fatal);
      }
      std::string text = error_text(message->err);
      if (message->rkt) text = std::string(rd_kafka_topic_name(message->rkt)) + ": " + text;
      if (text != last_error_) {
        log().warn("Kafka (", config_.get_string(kBootstrapServerConfig), "): ", text,
                   "; retrying");
        last_error_ = text;
      }
      if (message->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          message->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
        break;  // the worker backs off before the next poll
      }
      continue;
    }
    last_error_.clear();
    reach_.reached();
    out.push_back(to_record(*message));
  }
  // Nothing came while the cluster is down: say so (the worker retries and shows why), unless
  // it answers again.
  if (out.empty() && reach_.down() && !woken_.load() &&
      !reach_.probe(consumer_.get(), kProbeTimeout)) {
    throw RetriableException(reach_.reason());
  }
  return out;
}

ConnectRecord KafkaSourceTask::to_record(const rd_kafka_message_t& message) const {
  const std::string topic = rd_kafka_topic_name(message.rkt);
  rd_kafka_timestamp_type_t type;
  const std::int64_t ts = rd_kafka_message_timestamp(&message, &type);
  ConnectRecord record(
      RecordPartition{{std::string(kTopicField), Value(topic)},
                      {std::string(kPartitionField), Value(std::int64_t{message.partition})}},
      RecordOffset{{std::string(kOffsetField), Value(std::int64_t{message.offset})}},
      ts >= 0 ? std::optional<std::int64_t>(ts) : std::nullopt);
  if (message.key != nullptr) {
    record.key_schema = key_bytes_ ? schemas::bytes(true) : schemas::string(true);
    record.key = raw(static_cast<const char*>(message.key), message.key_len, key_bytes_);
  }
  record.value_schema = value_bytes_ ? schemas::bytes(true) : schemas::string(true);
  if (message.payload != nullptr) {
    record.value = raw(static_cast<const char*>(message.payload), message.len, value_bytes_);
  }
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0; !rd_kafka_header_get_all(headers, i, &name, &value, &size); ++i) {
      record.add_extension(
          name, value ? std::string(static_cast<const char*>(value), size) : std::string());
    }
  }
  // One Kafka partition, one RocketMQ queue: its order holds for keyed and keyless records.
  record.add_extension(std::string(ConnectRecord::kShardingKeyExtension),
                       topic + "-" + std::to_string(message.partition));
  record.set_topic(rename_.empty() ? topic : rename_);
  return record;
}

void KafkaSourceTask::commit(const ConnectRecord& record, const RecordMetadata& metadata) {
  (void)metadata;
  const Value* topic = record.position.partition.find(kTopicField);
  const Value* partition = record.position.partition.find(kPartitionField);
  const Value* offset = record.position.offset.find(kOffsetField);
  std::int64_t p = 0;
  std::int64_t o = 0;
  if (!consumer_ || topic == nullptr || partition == nullptr || offset == nullptr ||
      !partition->to_int64(p) || !offset->to_int64(o)) {
    return;
  }
  const auto* name = topic->get_if<std::string>();
  if (name == nullptr) return;
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), name->c_str(), static_cast<std::int32_t>(p))
      ->offset = o + 1;
  // Fails for a partition revoked meanwhile: its new owner resumes from the worker's position.
  if (auto err = rd_kafka_offsets_store(consumer_.get(), list.get()); err) {
    log().debug("offset ", o + 1, " of ", *name, "[", p, "] not stored: ", error_text(err));
  }
}

void KafkaSourceTask::rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                   rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<KafkaSourceTask*>(opaque)->on_rebalance(rk, err, partitions);
}

void KafkaSourceTask::error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  (void)rk;
  auto* self = static_cast<KafkaSourceTask*>(opaque);
  self->reach_.on_error(static_cast<rd_kafka_resp_err_t>(err), reason);
  std::string text =
      std::string(rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))) + ": " + reason;
  if (text == self->last_error_) return;
  self->last_error_ = text;
  log().warn("Kafka (", self->config_.get_string(kBootstrapServerConfig), "): ", text,
             "; the client retries");
}

void KafkaSourceTask::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                   rd_kafka_topic_partition_list_t* partitions) {
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Resume after the worker's committed position where there is one: it is at least as far
    // as Kafka's committed offset unless the group's offsets were reset on purpose.
    if (context() != nullptr && partitions->cnt > 0) {
      std::vector<RecordPartition> wanted;
      for (int i = 0; i < partitions->cnt; ++i) {
        const auto& tp = partitions->elems[i];
        wanted.push_back(
            RecordPartition{{std::string(kTopicField), Value(std::string(tp.topic))},
                            {std::string(kPartitionField), Value(std::int64_t{tp.partition})}});
      }
      OffsetMap stored = context()->offset_storage_reader().read_offsets(wanted);
      for (int i = 0; i < partitions->cnt; ++i) {
        auto it = stored.find(wanted[static_cast<std::size_t>(i)]);
        if (it == stored.end()) continue;
        std::int64_t o = 0;
        if (const Value* v = it->second.find(kOffsetField); v && v->to_int64(o)) {
          partitions->elems[i].offset = o + 1;
        }
      }
    }
    std::string names;
    for (int i = 0; i < partitions->cnt; ++i) {
      names += (names.empty() ? "" : ", ") + std::string(partitions->elems[i].topic) + "[" +
               std::to_string(partitions->elems[i].partition) + "]";
    }
    log().info("group ", group_id_, " assigned ", names.empty() ? "nothing" : names);
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, partitions)) {
        log().warn("incremental assign: ", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk, partitions);
    }
  } else {
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, partitions)) {
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }
}

}  // namespace rmqc::connectors::kafka
