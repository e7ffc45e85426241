#include "replicator/replicator_checkpoint.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logging.h"

#include <algorithm>
#include <set>

namespace rmqc::connectors::replicator {
namespace {

const Logger& log() {
  static const Logger logger("replicator-checkpoint");
  return logger;
}

// Syncs kept per source queue (the oldest are dropped): enough to translate offsets of groups
// that lag far behind; a group further behind than that gets no checkpoint until it catches up.
constexpr std::size_t kSyncsPerQueue = 65'536;

ConfigDef checkpoint_definition() {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  ConfigDef def;
  define_common_keys(def);
  def.define(std::string(kSyncGids), T::kList, std::nullopt, I::kHigh,
             "Consumer groups of the source cluster whose offsets are checkpointed (',' or ';').",
             validators::non_empty());
  def.define(std::string(kCheckpointTopic), T::kString, std::string(kDefaultCheckpointTopic),
             I::kMedium, "Destination topic of the checkpoint records.", validators::non_empty());
  def.define(std::string(kCheckpointInterval), T::kLong, "5000", I::kMedium,
             "How often the groups' offsets are read and checkpointed (ms).",
             validators::between(100, 86'400'000));
  def.define(std::string(kSyncGroupOffsets), T::kBoolean, "false", I::kMedium,
             "Also commit the translated offsets for each group on the destination (only ever "
             "forward), so its consumers can fail over.");
  return def;
}

KeyValue checked(const KeyValue& config) {
  auto parsed = checkpoint_definition().parse(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  KeyValue out = std::move(parsed).value();
  validate_common(out);
  if (out.get_string(kDestEndpoint).empty()) {
    throw ConnectException(std::string(kDestEndpoint) +
                           ": the destination (the worker's) name server list is needed to read "
                           "offset syncs and commit group offsets");
  }
  std::string groups = out.get_string(kSyncGids);
  std::replace(groups.begin(), groups.end(), ';', ',');
  if (split_list(groups).empty()) {
    throw ConnectException(std::string(kSyncGids) + ": at least one consumer group is needed");
  }
  std::string c = out.get_string("value.converter");
  if (!c.empty() && c.find("StringConverter") == std::string::npos &&
      c.find("ByteArrayConverter") == std::string::npos) {
    throw ConnectException(
        "value.converter: checkpoint records are JSON text and need a "
        "StringConverter or ByteArrayConverter, not " +
        c);
  }
  return out;
}

}  // namespace

// --- ReplicatorCheckpointConnector ----------------------------------------------------------

ConfigDef ReplicatorCheckpointConnector::definition() {
  return checkpoint_definition();
}

void ReplicatorCheckpointConnector::validate(const KeyValue& config) {
  checked(config);
}

void ReplicatorCheckpointConnector::start(const KeyValue& config) {
  config_ = checked(config);
}

std::vector<KeyValue> ReplicatorCheckpointConnector::task_configs(int max_tasks) {
  (void)max_tasks;
  return {config_};
}

std::string ReplicatorCheckpointConnector::task_class() const {
  return "org.apache.rocketmq.replicator.ReplicatorCheckpointTask";
}

std::unique_ptr<Task> ReplicatorCheckpointConnector::create_task() const {
  return std::make_unique<ReplicatorCheckpointTask>();
}

// --- ReplicatorCheckpointTask ---------------------------------------------------------------

ReplicatorCheckpointTask::~ReplicatorCheckpointTask() {
  stop();
}

void ReplicatorCheckpointTask::start(const KeyValue& config) {
  config_ = checked(config);
  std::string groups = config_.get_string(kSyncGids);
  std::replace(groups.begin(), groups.end(), ';', ',');
  groups_ = split_list(groups);
  std::vector<TopicTags> topics;
  parse_topic_tags(config_.get_string(kSrcTopicTags), &topics);
  for (const auto& t : topics) topics_.push_back(t.topic);
  cluster_ = source_cluster_name(config_);
  sync_topic_ = config_.get_string(kOffsetSyncTopic);
  checkpoint_topic_ = config_.get_string(kCheckpointTopic);
  commit_ = config_.get_bool(kSyncGroupOffsets);
  value_bytes_ =
      config_.get_string("value.converter").find("ByteArrayConverter") != std::string::npos;
  interval_ = std::chrono::milliseconds(config_.get_long(kCheckpointInterval, 5000));

  auto src = rocketmq::Admin::start(
      client_config(config_, "src", source_endpoint(config_), "repl-ckpt-src"));
  if (!src.ok()) throw ConnectException("source admin client: " + src.error().message());
  src_admin_ = std::move(src).value();
  const std::string dest_endpoint = config_.get_string(kDestEndpoint);
  auto dest =
      rocketmq::Admin::start(client_config(config_, "dest", dest_endpoint, "repl-ckpt-dst"));
  if (!dest.ok()) throw ConnectException("destination admin client: " + dest.error().message());
  dest_admin_ = std::move(dest).value();

  std::string connector = config_.get_string("connector.name");
  if (connector.empty() && context() != nullptr) connector = context()->connector_name();
  rocketmq::ConsumerConfig cc;
  cc.client = client_config(config_, "dest", dest_endpoint, "repl-ckpt-sync");
  cc.group = "rmq-replicator-checkpoint-" + (connector.empty() ? "task" : connector);
  cc.consume_from = rocketmq::ConsumeFromWhere::kFirstOffset;
  cc.auto_commit = false;  // the whole sync topic is read at every start
  cc.long_poll_suspend = std::chrono::milliseconds(2000);
  auto consumer = rocketmq::LitePullConsumer::start(std::move(cc));
  if (!consumer.ok()) throw ConnectException("offset-sync consumer: " + consumer.error().message());
  syncs_consumer_ = std::move(consumer).value();
  next_checkpoint_ = std::chrono::steady_clock::now() + interval_;
  log().info("checkpointing groups ", config_.get_string(kSyncGids), " of ",
             source_endpoint(config_), " into ", checkpoint_topic_, " on ", dest_endpoint,
             commit_ ? " (committing translated offsets)" : "");
}

void ReplicatorCheckpointTask::stop() {
  if (syncs_consumer_) syncs_consumer_->shutdown();
}

void ReplicatorCheckpointTask::wakeup() {
  if (syncs_consumer_) syncs_consumer_->wakeup();
}

void ReplicatorCheckpointTask::note_error(const std::string& what) {
  if (what == last_error_) return;
  last_error_ = what;
  log().warn(what, "; retrying");
}

void ReplicatorCheckpointTask::read_syncs(std::chrono::milliseconds wait) {
  if (!syncs_assigned_) {
    auto queues = syncs_consumer_->fetch_queues(sync_topic_);
    if (!queues.ok() || queues->empty()) return;  // no sync written yet
    if (auto r = syncs_consumer_->assign(*queues); !r.ok()) {
      note_error("reading " + sync_topic_ + ": " + r.error().message());
      return;
    }
    syncs_assigned_ = true;
  }
  auto messages = syncs_consumer_->poll(wait);
  if (!messages.ok()) {
    note_error("reading " + sync_topic_ + ": " + messages.error().message());
    return;
  }
  for (const auto& m : *messages) {
    auto s = OffsetSync::from_json(m.body());
    if (!s) {
      log().debug("skipping a malformed offset-sync record at ", m.queue_offset());
      continue;
    }
    if (!s->cluster.empty() && s->cluster != cluster_) continue;  // another source cluster
    QueueSyncs& q = syncs_[rocketmq::MessageQueue{s->src_topic, s->src_broker, s->src_queue_id}];
    q.offsets[s->src_offset] = s->dest_offset;
    q.dest = rocketmq::MessageQueue{s->dest_topic, s->dest_broker, s->dest_queue_id};
    while (q.offsets.size() > kSyncsPerQueue) q.offsets.erase(q.offsets.begin());
  }
}

ConnectRecord ReplicatorCheckpointTask::make_record(const std::string& group,
                                                    const std::string& json) const {
  ConnectRecord record(RecordPartition{}, RecordOffset{}, std::nullopt);
  if (value_bytes_) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(json.data());
    record.value_schema = schemas::bytes(true);
    record.value = Value(Bytes(p, p + json.size()));
  } else {
    record.value_schema = schemas::string(true);
    record.value = Value(json);
  }
  record.key_schema = schemas::string(true);
  record.key = Value(group);
  record.add_extension(std::string(ConnectRecord::kShardingKeyExtension), "checkpoint/" + group);
  record.set_topic(checkpoint_topic_);
  return record;
}

void ReplicatorCheckpointTask::checkpoint(std::vector<ConnectRecord>& out) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const auto& group : groups_) {
    auto progress = src_admin_->group_progress(group, topics_);
    if (!progress.ok()) {
      note_error("offsets of group " + group + " on " + source_endpoint(config_) + ": " +
                 progress.error().message());
      continue;
    }
    // Per destination queue: the smallest translation over the source queues that land there;
    // nullopt when one of them has none (nothing is committed for that queue then).
    std::map<rocketmq::MessageQueue, std::optional<std::int64_t>> commits;
    for (const auto& p : *progress) {
      auto it = syncs_.find(p.queue);
      if (it == syncs_.end() || it->second.offsets.empty()) continue;  // nothing copied yet
      const QueueSyncs& qs = it->second;
      std::optional<std::int64_t> translated;
      if (p.consumer_offset >= 0) translated = translate(qs.offsets, p.consumer_offset);
      auto [c, inserted] = commits.try_emplace(qs.dest, translated);
      if (!inserted) {
        c->second = (c->second && translated) ? std::optional(std::min(*c->second, *translated))
                                              : std::nullopt;
      }
      if (!translated) continue;
      Checkpoint cp;
      cp.group = group;
      cp.cluster = cluster_;
      cp.src_topic = p.queue.topic;
      cp.src_broker = p.queue.broker_name;
      cp.src_queue_id = p.queue.queue_id;
      cp.src_offset = p.consumer_offset;
      cp.dest_topic = qs.dest.topic;
      cp.dest_broker = qs.dest.broker_name;
      cp.dest_queue_id = qs.dest.queue_id;
      cp.dest_offset = *translated;
      cp.src_max_offset = p.broker_offset;
      cp.replicated_offset = qs.offsets.rbegin()->first + 1;
      cp.timestamp_ms = now_ms;
      auto key = std::make_pair(group, p.queue);
      auto state = std::make_tuple(cp.src_offset, cp.dest_offset, cp.replicated_offset);
      auto e = emitted_.find(key);
      if (e != emitted_.end() && e->second == state) continue;  // unchanged
      emitted_[key] = state;
      out.push_back(make_record(group, cp.to_json()));
    }
    if (!commit_) continue;
    for (const auto& [dest, offset] : commits) {
      if (!offset) continue;
      auto current = dest_admin_->committed_offset(group, dest);
      if (!current.ok()) {
        note_error("offset of group " + group +
                   " on the destination: " + current.error().message());
        continue;
      }
      if (*current >= *offset) continue;  // only forward
      if (auto r = dest_admin_->commit_offset(group, dest, *offset); !r.ok()) {
        note_error("committing group " + group + " on the destination: " + r.error().message());
      }
    }
  }
}

std::vector<ConnectRecord> ReplicatorCheckpointTask::poll() {
  std::vector<ConnectRecord> out;
  if (!syncs_consumer_) return out;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      next_checkpoint_ - std::chrono::steady_clock::now());
  read_syncs(std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(1000)));
  if (std::chrono::steady_clock::now() < next_checkpoint_) return out;
  // Everything synced so far first, so the translation is as fresh as the syncs on the broker.
  read_syncs(std::chrono::milliseconds(0));
  next_checkpoint_ = std::chrono::steady_clock::now() + interval_;
  checkpoint(out);
  return out;
}

}  // namespace rmqc::connectors::replicator
