#include "replicator/replicator_source.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logging.h"

#include <algorithm>

namespace rmqc::connectors::replicator {
namespace {

const Logger& log() {
  static const Logger logger("replicator-source");
  return logger;
}

ConfigDef source_definition() {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  ConfigDef def;
  define_common_keys(def);
  def.define(std::string(kDestTopic), T::kString, "", I::kMedium,
             "One destination topic for every source topic (default: topic.rename.format).");
  def.define(std::string(kRenameFormat), T::kString, "${topic}", I::kMedium,
             "Destination topic name, ${topic} standing for the source topic's name.");
  def.define(std::string(kSrcGroup), T::kString, "", I::kLow,
             "Consumer group the tasks read the source with (no offsets are committed there; "
             "default rmq-replicator-<connector name>).");
  def.define(std::string(kSrcConsumeFrom), T::kString, "first", I::kMedium,
             "Where a source queue without a stored position starts: first (its oldest message) "
             "or last (new messages only).",
             validators::one_of({"first", "last"}));
  def.define(std::string(kOffsetSyncInterval), T::kLong, "1000", I::kLow,
             "How often a task emits offset-sync records for the queues it copied from (ms).",
             validators::between(0, 3'600'000));
  def.define(std::string(kOffsetSyncStep), T::kLong, "100", I::kLow,
             "An offset-sync record at least every this many source offsets of a queue (the "
             "most a translated consumer offset goes back, besides the interval's).",
             validators::between(1, 1'000'000'000));
  def.define(std::string(kPollBatch), T::kInt, "512", I::kLow, "Most messages one poll returns.",
             validators::between(1, 100'000));
  return def;
}

KeyValue parse_or_throw(const ConfigDef& def, const KeyValue& config) {
  auto parsed = def.parse(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  return std::move(parsed).value();
}

void check_converters(const KeyValue& config) {
  for (std::string key : {"key.converter", "value.converter"}) {
    std::string c = config.get_string(key);
    if (c.empty() || c.find("StringConverter") != std::string::npos ||
        c.find("ByteArrayConverter") != std::string::npos) {
      continue;
    }
    throw ConnectException(key +
                           ": the replicator copies message bytes unchanged and needs a "
                           "StringConverter or ByteArrayConverter, not " +
                           c);
  }
}

KeyValue checked(const KeyValue& config) {
  KeyValue parsed = parse_or_throw(source_definition(), config);
  validate_common(parsed);
  check_converters(parsed);
  std::string dest = destination_topic(parsed, "x");
  if (dest.empty()) {
    throw ConnectException(std::string(kRenameFormat) + ": gives an empty topic name");
  }
  return parsed;
}

// Properties that belong to the source message's storage, not to the application.
bool system_property(std::string_view name) {
  namespace p = rocketmq::property;
  static constexpr std::string_view kSkip[] = {p::KEYS,
                                               p::TAGS,
                                               p::UNIQ_KEY,
                                               p::WAIT,
                                               p::DELAY,
                                               p::RETRY_TOPIC,
                                               p::REAL_TOPIC,
                                               p::REAL_QID,
                                               p::TRAN_MSG,
                                               p::PGROUP,
                                               p::MIN_OFFSET,
                                               p::MAX_OFFSET,
                                               p::CLUSTER,
                                               p::MSG_REGION,
                                               p::TRACE_ON,
                                               p::TRAN_PREPARED_QUEUE_OFFSET,
                                               p::SHARDING_KEY,
                                               p::STARTDELIVERTIME,
                                               p::TIMER_DELIVER_MS,
                                               p::TIMER_DELAY_SEC,
                                               p::RECONSUME_TIME,
                                               p::MAX_RECONSUME_TIMES,
                                               p::ORIGIN_MESSAGE_ID,
                                               "connect.timestamp"};
  return std::find(std::begin(kSkip), std::end(kSkip), name) != std::end(kSkip);
}

std::string queue_text(const rocketmq::MessageQueue& q) {
  return q.topic + "/" + q.broker_name + "/" + std::to_string(q.queue_id);
}

}  // namespace

// --- ReplicatorSourceConnector --------------------------------------------------------------

ConfigDef ReplicatorSourceConnector::definition() {
  return source_definition();
}

void ReplicatorSourceConnector::validate(const KeyValue& config) {
  checked(config);
}

void ReplicatorSourceConnector::start(const KeyValue& config) {
  config_ = checked(config);
}

std::vector<KeyValue> ReplicatorSourceConnector::task_configs(int max_tasks) {
  const int count = std::max(max_tasks, 1);
  std::vector<KeyValue> out;
  for (int i = 0; i < count; ++i) {
    KeyValue c = config_;
    c.put(std::string(kTaskIndex), std::to_string(i));
    c.put(std::string(kTaskCount), std::to_string(count));
    out.push_back(std::move(c));
  }
  return out;
}

std::string ReplicatorSourceConnector::task_class() const {
  return "org.apache.rocketmq.replicator.ReplicatorSourceTask";
}

std::unique_ptr<Task> ReplicatorSourceConnector::create_task() const {
  return std::make_unique<ReplicatorSourceTask>();
}

// --- ReplicatorSourceTask -------------------------------------------------------------------

ReplicatorSourceTask::~ReplicatorSourceTask() {
  if (consumer_) consumer_->shutdown();
}

void ReplicatorSourceTask::start(const KeyValue& config) {
  config_ = checked(config);
  parse_topic_tags(config_.get_string(kSrcTopicTags), &topics_);
  for (const auto& t : topics_) dest_topic_[t.topic] = destination_topic(config_, t.topic);
  cluster_ = source_cluster_name(config_);
  sync_topic_ = config_.get_string(kOffsetSyncTopic);
  value_bytes_ =
      config_.get_string("value.converter").find("ByteArrayConverter") != std::string::npos;
  index_ = config_.get_int(kTaskIndex, 0);
  count_ = std::max(config_.get_int(kTaskCount, 1), 1);
  batch_ = static_cast<std::size_t>(config_.get_int(kPollBatch, 512));
  from_last_ = config_.get_string(kSrcConsumeFrom) == "last";
  sync_interval_ = std::chrono::milliseconds(config_.get_long(kOffsetSyncInterval, 1000));
  sync_step_ = config_.get_long(kOffsetSyncStep, 100);

  std::string connector = config_.get_string("connector.name");
  if (connector.empty() && context() != nullptr) connector = context()->connector_name();
  rocketmq::ConsumerConfig cc;
  cc.client =
      client_config(config_, "src", source_endpoint(config_), "repl-" + std::to_string(index_));
  cc.group = config_.get_string(kSrcGroup);
  if (cc.group.empty()) cc.group = "rmq-replicator-" + (connector.empty() ? "task" : connector);
  cc.consume_from = from_last_ ? rocketmq::ConsumeFromWhere::kLastOffset
                               : rocketmq::ConsumeFromWhere::kFirstOffset;
  cc.auto_commit = false;  // the worker's positions are the truth
  cc.max_poll_messages = batch_;
  cc.pull_batch_size = 64;
  cc.long_poll_suspend = std::chrono::milliseconds(5000);
  auto consumer = rocketmq::LitePullConsumer::start(std::move(cc));
  if (!consumer.ok()) {
    throw ConnectException("source consumer (" + source_endpoint(config_) +
                           "): " + consumer.error().message());
  }
  consumer_ = std::move(consumer).value();
  next_refresh_ = {};
  next_sync_ = std::chrono::steady_clock::now() + sync_interval_;
  log().info("task ", index_, "/", count_, " copying ", config_.get_string(kSrcTopicTags), " from ",
             source_endpoint(config_));
}

void ReplicatorSourceTask::stop() {
  if (consumer_) consumer_->shutdown();
}

void ReplicatorSourceTask::wakeup() {
  if (consumer_) consumer_->wakeup();
}

std::vector<rocketmq::MessageQueue> ReplicatorSourceTask::queues() const {
  return assigned_;
}

void ReplicatorSourceTask::note_error(const std::string& what) {
  if (what == last_error_) return;
  last_error_ = what;
  log().warn("source cluster ", source_endpoint(config_), ": ", what, "; retrying");
}

void ReplicatorSourceTask::throw_unreachable() const {
  // A RetriableException keeps the task RUNNING and puts the reason in its status trace.
  throw RetriableException("source cluster " + source_endpoint(config_) +
                           " unreachable: " + last_error_);
}

bool ReplicatorSourceTask::refresh_assignment() {
  std::vector<rocketmq::MessageQueue> all;
  for (const auto& t : topics_) {
    auto queues = consumer_->fetch_queues(t.topic);
    if (!queues.ok()) {
      note_error("routes of " + t.topic + ": " + queues.error().message());
      return false;
    }
    all.insert(all.end(), queues->begin(), queues->end());
  }
  auto mine = queues_of_task(std::move(all), index_, count_);
  if (mine == assigned_) return true;
  std::vector<rocketmq::MessageQueue> added;
  for (const auto& q : mine) {
    if (!std::binary_search(assigned_.begin(), assigned_.end(), q)) added.push_back(q);
  }
  if (auto r = consumer_->assign(mine); !r.ok()) {
    note_error("assigning queues: " + r.error().message());
    return false;
  }
  // Queues with a stored position resume right after it; the others start where
  // src.consume.from says (the consumer resolves that, retrying while the source is down).
  if (context() != nullptr && !added.empty()) {
    std::vector<RecordPartition> wanted;
    for (const auto& q : added) {
      wanted.push_back(
          RecordPartition{{std::string(kTopicField), Value(q.topic)},
                          {std::string(kBrokerField), Value(q.broker_name)},
                          {std::string(kQueueIdField), Value(std::int64_t{q.queue_id})}});
    }
    OffsetMap stored = context()->offset_storage_reader().read_offsets(wanted);
    for (std::size_t i = 0; i < added.size(); ++i) {
      auto it = stored.find(wanted[i]);
      std::int64_t o = 0;
      const Value* v = it == stored.end() ? nullptr : it->second.find(kQueueOffsetField);
      if (v != nullptr && v->to_int64(o)) {
        if (auto r = consumer_->seek(added[i], o + 1); !r.ok()) {
          throw ConnectException("seek " + queue_text(added[i]) + ": " + r.error().message());
        }
      }
    }
  }
  std::string names;
  for (const auto& q : mine) names += (names.empty() ? "" : ", ") + queue_text(q);
  log().info("task ", index_, " reads ", names.empty() ? "no queue" : names);
  assigned_ = std::move(mine);
  return true;
}

std::vector<ConnectRecord> ReplicatorSourceTask::poll() {
  std::vector<ConnectRecord> out;
  if (!consumer_) return out;
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_refresh_) {
    const bool ok = refresh_assignment();
    // Retried with a growing back-off while the source is unreachable; else at the refresh
    // interval (which also notices a source that went away while no message came).
    if (ok) {
      // The consumer kept retrying the pulls meanwhile: they go on from where they were.
      if (retry_backoff_ > std::chrono::milliseconds(1000)) {
        log().info("source cluster ", source_endpoint(config_), " answers again; reading ",
                   assigned_.size(), " queue(s) on");
      }
      next_refresh_ = now + refresh_interval_;
      retry_backoff_ = std::chrono::milliseconds(1000);
    } else {
      next_refresh_ = now + retry_backoff_;
      retry_backoff_ = std::min(retry_backoff_ * 2, std::chrono::milliseconds(10'000));
    }
    if (!ok) {
      emit_offset_syncs(out);
      if (out.empty()) throw_unreachable();
      return out;
    }
  } else if (retry_backoff_ > std::chrono::milliseconds(1000)) {
    // Still unreachable until the next attempt: the task's status keeps saying why.
    emit_offset_syncs(out);
    if (out.empty()) throw_unreachable();
    return out;
  }
  if (assigned_.empty()) {
    emit_offset_syncs(out);
    return out;
  }
  auto messages = consumer_->poll(std::chrono::milliseconds(500));
  if (!messages.ok()) {
    note_error("poll: " + messages.error().message());
    return out;
  }
  if (!messages->empty() && !last_error_.empty()) {
    log().info("source cluster ", source_endpoint(config_), " reachable again");
    last_error_.clear();
  }
  out.reserve(messages->size() + 1);
  for (const auto& m : *messages) {
    const TopicTags* filter = nullptr;
    for (const auto& t : topics_) {
      if (t.topic == m.topic()) filter = &t;
    }
    if (filter == nullptr || !filter->accepts(m.tags())) continue;
    out.push_back(to_record(m));
  }
  emit_offset_syncs(out);
  return out;
}

ConnectRecord ReplicatorSourceTask::to_record(const rocketmq::MessageExt& m) {
  const auto& q = m.queue();
  ConnectRecord record(
      RecordPartition{{std::string(kTopicField), Value(q.topic)},
                      {std::string(kBrokerField), Value(q.broker_name)},
                      {std::string(kQueueIdField), Value(std::int64_t{q.queue_id})}},
      RecordOffset{{std::string(kQueueOffsetField), Value(std::int64_t{m.queue_offset()})}},
      std::nullopt);
  if (!m.keys().empty()) {
    record.key_schema = schemas::string(true);
    record.key = Value(std::string(m.keys()));
  }
  if (value_bytes_) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(m.body().data());
    record.value_schema = schemas::bytes(true);
    record.value = Value(Bytes(p, p + m.body().size()));
  } else {
    record.value_schema = schemas::string(true);
    record.value = Value(std::string(m.body()));
  }
  rocketmq::for_each_property(m.properties_text(),
                              [&](std::string_view name, std::string_view value) {
                                if (!system_property(name))
                                  record.add_extension(std::string(name), std::string(value));
                              });
  if (!m.tags().empty()) record.add_extension("TAGS", std::string(m.tags()));
  record.add_extension(std::string(kOriginCluster), cluster_);
  record.add_extension(std::string(kOriginTopic), q.topic);
  record.add_extension(std::string(kOriginBroker), q.broker_name);
  record.add_extension(std::string(kOriginQueueId), std::to_string(q.queue_id));
  record.add_extension(std::string(kOriginQueueOffset), std::to_string(m.queue_offset()));
  record.add_extension(std::string(kOriginMsgId), m.msg_id());
  record.add_extension(std::string(kOriginStoreTime), std::to_string(m.store_timestamp()));
  // One source queue, one destination queue: its order holds.
  record.add_extension(std::string(ConnectRecord::kShardingKeyExtension),
                       cluster_ + "/" + queue_text(q));
  record.set_topic(dest_topic_[q.topic]);
  return record;
}

void ReplicatorSourceTask::commit(const ConnectRecord& record, const RecordMetadata& metadata) {
  const Value* topic = record.position.partition.find(kTopicField);
  const Value* broker = record.position.partition.find(kBrokerField);
  const Value* queue = record.position.partition.find(kQueueIdField);
  const Value* offset = record.position.offset.find(kQueueOffsetField);
  std::int64_t qid = 0;
  std::int64_t o = 0;
  if (topic == nullptr || broker == nullptr || queue == nullptr || offset == nullptr ||
      !queue->to_int64(qid) || !offset->to_int64(o) || metadata.queue_offset < 0) {
    return;  // an offset-sync record
  }
  const auto* t = topic->get_if<std::string>();
  const auto* b = broker->get_if<std::string>();
  if (t == nullptr || b == nullptr) return;
  const rocketmq::MessageQueue q{*t, *b, static_cast<std::int32_t>(qid)};
  Landed& l = landed_[q];
  if (l.last_synced >= 0 && o <= l.newest.src_offset) return;  // keep the newest
  l.newest = OffsetSync{cluster_,
                        q.topic,
                        q.broker_name,
                        q.queue_id,
                        o,
                        metadata.topic,
                        metadata.broker_name,
                        metadata.queue_id,
                        metadata.queue_offset};
  if (l.last_synced < 0 || o - l.last_synced >= sync_step_) {
    due_syncs_.push_back(l.newest);
    l.last_synced = o;
    l.newest_synced = true;
  } else {
    l.newest_synced = false;
  }
}

ConnectRecord ReplicatorSourceTask::sync_record(const OffsetSync& sync) const {
  ConnectRecord record(RecordPartition{}, RecordOffset{}, std::nullopt);
  record.value_schema = value_bytes_ ? schemas::bytes(true) : schemas::string(true);
  std::string json = sync.to_json();
  if (value_bytes_) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(json.data());
    record.value = Value(Bytes(p, p + json.size()));
  } else {
    record.value = Value(std::move(json));
  }
  // One source queue's syncs in order on one queue of the sync topic.
  record.add_extension(std::string(ConnectRecord::kShardingKeyExtension),
                       "offset-sync/" + cluster_ + "/" + sync.src_topic + "/" + sync.src_broker +
                           "/" + std::to_string(sync.src_queue_id));
  record.set_topic(sync_topic_);
  return record;
}

void ReplicatorSourceTask::emit_offset_syncs(std::vector<ConnectRecord>& out) {
  for (const auto& s : due_syncs_) out.push_back(sync_record(s));
  due_syncs_.clear();
  const auto now = std::chrono::steady_clock::now();
  if (now < next_sync_) return;
  next_sync_ = now + sync_interval_;
  for (auto& [q, l] : landed_) {
    if (l.newest_synced) continue;
    l.newest_synced = true;
    l.last_synced = l.newest.src_offset;
    out.push_back(sync_record(l.newest));
  }
}

}  // namespace rmqc::connectors::replicator
