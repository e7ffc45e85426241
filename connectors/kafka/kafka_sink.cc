#include "kafka/kafka_sink.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logging.h"

#include <algorithm>
#include <charconv>
#include <thread>

namespace rmqc::connectors::kafka {
namespace {

const Logger& log() {
  static const Logger logger("kafka-sink");
  return logger;
}

KeyValue parse_or_throw(const KeyValue& config) {
  auto parsed = KafkaSinkConnector::definition().parse(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  return std::move(parsed).value();
}

// connect.timestamp (what a source record's timestamp became), else the record's own.
std::int64_t timestamp_of(const ConnectRecord& record) {
  if (const std::string* text = record.extension("connect.timestamp")) {
    std::int64_t ts = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), ts);
    if (ec == std::errc() && end == text->data() + text->size()) return ts;
  }
  return record.timestamp.value_or(0);
}

}  // namespace

struct KafkaSinkTask::Delivery {
  KafkaSinkTask* task;
  RecordPartition queue;
  std::int64_t offset;
};

// --- KafkaSinkConnector ---------------------------------------------------------------------

ConfigDef KafkaSinkConnector::definition() {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  ConfigDef def;
  define_common_keys(def);
  def.define(std::string(kKafkaTopicConfig), T::kString, "", I::kHigh,
             "The Kafka topic of every record (default: the record's RocketMQ topic name).");
  def.define(std::string(kFlushTimeoutConfig), T::kLong, "30000", I::kLow,
             "How long a commit waits for Kafka's delivery reports before it is retried at the "
             "next commit interval.",
             validators::between(100, 3'600'000));
  return def;
}

void KafkaSinkConnector::validate(const KeyValue& config) {
  make_conf(parse_or_throw(config), {});
}

void KafkaSinkConnector::start(const KeyValue& config) {
  config_ = parse_or_throw(config);
  make_conf(config_, {});
}

std::vector<KeyValue> KafkaSinkConnector::task_configs(int max_tasks) {
  return std::vector<KeyValue>(static_cast<std::size_t>(std::max(max_tasks, 1)), config_);
}

std::string KafkaSinkConnector::task_class() const {
  return "org.apache.rocketmq.connect.kafka.connector.KafkaSinkTask";
}

std::unique_ptr<Task> KafkaSinkConnector::create_task() const {
  return std::make_unique<KafkaSinkTask>();
}

// --- KafkaSinkTask --------------------------------------------------------------------------

KafkaSinkTask::~KafkaSinkTask() {
  stop();
}

void KafkaSinkTask::start(const KeyValue& config) {
  config_ = parse_or_throw(config);
  rename_ = config_.get_string(kKafkaTopicConfig);
  flush_timeout_ = std::chrono::milliseconds(config_.get_long(kFlushTimeoutConfig, 30000));
  reach_.set_bootstrap(config_.get_string(kBootstrapServerConfig));
  std::string connector = config_.get_string("connector.name");
  if (connector.empty() && context() != nullptr) connector = context()->connector_name();
  KafkaConf conf = make_conf(config_, {{"client.id", "rmq-connect-" + connector},
                                       {"enable.idempotence", "true"},
                                       {"linger.ms", "5"}});
  // Not overridable: acknowledged by every in-sync replica, in order, without duplicates from
  // the producer's own retries.
  set_conf(conf.get(), "enable.idempotence", "true");
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaSinkTask::delivery_cb);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaSinkTask::error_cb);
  char reason[512];
  producer_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), reason, sizeof(reason)));
  if (!producer_) throw ConnectException(std::string("Kafka producer: ") + reason);
  conf.release();
  log().info("writing to Kafka at ", config_.get_string(kBootstrapServerConfig),
             rename_.empty() ? std::string(", topic names kept") : ", topic " + rename_);
}

void KafkaSinkTask::stop() {
  if (!producer_) return;
  // What is still queued is not committed: it is read again by whoever owns the queue next.
  rd_kafka_flush(producer_.get(), 2000);
  if (int left = rd_kafka_outq_len(producer_.get()); left > 0) {
    log().warn(left,
               " message(s) not acknowledged by Kafka at stop; their offsets were not "
               "committed");
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(producer_.get(), 0);
  }
  producer_.reset();
}

int KafkaSinkTask::in_flight() const {
  return producer_ ? rd_kafka_outq_len(producer_.get()) : 0;
}

void KafkaSinkTask::put(std::vector<ConnectRecord>& records) {
  if (!producer_) throw ConnectException("the Kafka sink task is not started");
  for (const auto& record : records) produce(record);
  rd_kafka_poll(producer_.get(), 0);  // serve delivery reports
}

void KafkaSinkTask::produce(const ConnectRecord& record) {
  const std::string topic(rename_.empty() ? record.topic() : std::string_view(rename_));
  const auto key = bytes_of(record.key);
  const auto value = bytes_of(record.value);
  const void* key_data = key ? key->data() : nullptr;
  const std::size_t key_size = key ? key->size() : 0;
  void* value_data = value ? const_cast<char*>(value->data()) : nullptr;
  const std::size_t value_size = value ? value->size() : 0;
  std::int64_t offset = -1;
  if (const Value* v = record.position.offset.find("queueOffset")) v->to_int64(offset);
  while (true) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(record.extensions.size());
    for (const auto& [name, text] : record.extensions) {
      if (is_system_property(name) || name == ConnectRecord::kTopicExtension) continue;
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), text.data(),
                          static_cast<ssize_t>(text.size()));
    }
    auto* delivery = new Delivery{this, record.position.partition, offset};
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key_data, key_size), RD_KAFKA_V_VALUE(value_data, value_size),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_TIMESTAMP(timestamp_of(record)),
        RD_KAFKA_V_OPAQUE(delivery), RD_KAFKA_V_END);
    if (!err) return;  // the headers belong to the message now
    rd_kafka_headers_destroy(headers);
    delete delivery;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // Back-pressure: wait for deliveries to make room (stop/pause interrupt the wait).
      rd_kafka_poll(producer_.get(), 100);
      if (woken_.exchange(false)) {
        throw RetriableException("interrupted while the Kafka producer queue was full");
      }
      continue;
    }
    std::string what = "Kafka refused a record of " + std::string(record.topic()) + " offset " +
                       std::to_string(offset) + " for topic " + topic + ": " + error_text(err);
    if (ErrorRecordReporter* dlq = context() ? context()->error_record_reporter() : nullptr) {
      log().warn(what, "; sent to the dead letter queue");
      dlq->report(record, what);
      return;
    }
    throw ConnectException(what);
  }
}

void KafkaSinkTask::delivery_cb(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque) {
  (void)rk;
  (void)opaque;
  std::unique_ptr<Delivery> delivery(static_cast<Delivery*>(message->_private));
  if (!delivery) return;
  KafkaSinkTask* self = delivery->task;
  if (!message->err) {
    self->reach_.reached();
    return;
  }
  std::lock_guard lock(self->failures_mutex_);
  auto [it, inserted] = self->failed_.emplace(delivery->queue, delivery->offset);
  if (!inserted) it->second = std::min(it->second, delivery->offset);
  self->last_failure_ = error_text(message->err);
}

void KafkaSinkTask::error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  (void)rk;
  auto* self = static_cast<KafkaSinkTask*>(opaque);
  self->reach_.on_error(static_cast<rd_kafka_resp_err_t>(err), reason);
  std::string text =
      std::string(rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))) + ": " + reason;
  if (text == self->last_error_) return;
  self->last_error_ = text;
  log().warn("Kafka (", self->config_.get_string(kBootstrapServerConfig), "): ", text,
             "; the producer retries");
}

OffsetMap KafkaSinkTask::await_deliveries() {
  OffsetMap rewound;
  if (!producer_) return rewound;
  const auto deadline = std::chrono::steady_clock::now() + flush_timeout_;
  while (rd_kafka_outq_len(producer_.get()) > 0) {
    rd_kafka_flush(producer_.get(), 200);
    if (rd_kafka_outq_len(producer_.get()) == 0) break;
    if (woken_.exchange(false)) {
      throw RetriableException("interrupted while waiting for Kafka to acknowledge " +
                               std::to_string(rd_kafka_outq_len(producer_.get())) + " message(s)");
    }
    if (reach_.down() && rd_kafka_outq_len(producer_.get()) > 0 &&
        !reach_.probe(producer_.get(), kProbeTimeout)) {
      throw RetriableException(reach_.reason() + "; " +
                               std::to_string(rd_kafka_outq_len(producer_.get())) +
                               " message(s) wait for its acknowledgement");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw RetriableException(std::to_string(rd_kafka_outq_len(producer_.get())) +
                               " message(s) not acknowledged by Kafka yet" +
                               (last_error_.empty() ? std::string() : " (" + last_error_ + ")") +
                               "; offsets are committed once they are");
    }
  }
  rd_kafka_poll(producer_.get(), 0);
  std::map<RecordPartition, std::int64_t> failed;
  std::string failure;
  {
    std::lock_guard lock(failures_mutex_);
    failed.swap(failed_);
    failure = last_failure_;
  }
  for (const auto& [queue, offset] : failed) {
    RecordOffset at{{"queueOffset", Value(offset)}};
    log().warn("Kafka did not take records of ",
               queue.find("topic") ? queue.find("topic")->to_string() : std::string("?"),
               " from offset ", offset, " (", failure, "); writing them again");
    if (context() != nullptr) context()->reset_offset(queue, at);
    rewound.emplace(queue, std::move(at));
  }
  return rewound;
}

void KafkaSinkTask::flush(const OffsetMap& current_offsets) {
  (void)current_offsets;
  OffsetMap rewound = await_deliveries();
  if (!rewound.empty()) {
    throw RetriableException("Kafka delivery failed for " + std::to_string(rewound.size()) +
                             " queue(s); they are written again");
  }
}

OffsetMap KafkaSinkTask::pre_commit(const OffsetMap& current_offsets) {
  OffsetMap out = current_offsets;
  for (auto& [queue, offset] : await_deliveries()) out[queue] = std::move(offset);
  return out;
}

}  // namespace rmqc::connectors::kafka
