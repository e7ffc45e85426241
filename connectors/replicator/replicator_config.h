#pragma once

// What the replicator connectors share (docs/connectors/replicator.md): config keys, the
// src.topictags format, client settings of the source and destination clusters, the destination
// topic of a source topic, queue splitting over tasks, and the JSON text of offset-sync and
// checkpoint records.

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"

#include "rocketmq/client/client_config.h"
#include "rocketmq/protocol/bodies.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::replicator {

// Source cluster.
inline constexpr std::string_view kSrcEndpoint = "src.endpoint";
inline constexpr std::string_view kSrcCluster = "src.cluster";
inline constexpr std::string_view kSrcTopicTags = "src.topictags";
inline constexpr std::string_view kSrcAclEnable = "src.acl.enable";
inline constexpr std::string_view kSrcAccessKey = "src.access.key";
inline constexpr std::string_view kSrcSecretKey = "src.secret.key";
inline constexpr std::string_view kSrcGroup = "src.group";
inline constexpr std::string_view kSrcConsumeFrom = "src.consume.from";
// Destination cluster (the worker's: see the docs).
inline constexpr std::string_view kDestEndpoint = "dest.endpoint";
inline constexpr std::string_view kDestAclEnable = "dest.acl.enable";
inline constexpr std::string_view kDestAccessKey = "dest.access.key";
inline constexpr std::string_view kDestSecretKey = "dest.secret.key";
inline constexpr std::string_view kDestTopic = "dest.topic";
inline constexpr std::string_view kRenameFormat = "topic.rename.format";
// Offset syncs and checkpoints.
inline constexpr std::string_view kOffsetSyncTopic = "offset.sync.topic";
inline constexpr std::string_view kOffsetSyncInterval = "offset.sync.interval.ms";
inline constexpr std::string_view kOffsetSyncStep = "offset.sync.step";
inline constexpr std::string_view kPollBatch = "poll.batch.size";
inline constexpr std::string_view kSyncGids = "sync.gids";
inline constexpr std::string_view kCheckpointTopic = "checkpoint.topic";
inline constexpr std::string_view kCheckpointInterval = "checkpoint.interval.ms";
inline constexpr std::string_view kSyncGroupOffsets = "sync.group.offsets.enabled";
// Set by the connector in each task config.
inline constexpr std::string_view kTaskIndex = "replicator.task.index";
inline constexpr std::string_view kTaskCount = "replicator.task.count";

inline constexpr std::string_view kDefaultOffsetSyncTopic = "rmq-replicator-offset-sync";
inline constexpr std::string_view kDefaultCheckpointTopic = "rmq-replicator-checkpoint";

// Position fields of replicated records: partition {topic, brokerName, queueId}, offset
// {queueOffset} (the source message's own offset; a restart resumes after it).
inline constexpr std::string_view kTopicField = "topic";
inline constexpr std::string_view kBrokerField = "brokerName";
inline constexpr std::string_view kQueueIdField = "queueId";
inline constexpr std::string_view kQueueOffsetField = "queueOffset";

// Properties naming a copied message's origin.
inline constexpr std::string_view kOriginCluster = "REPLICATOR_SRC_CLUSTER";
inline constexpr std::string_view kOriginTopic = "REPLICATOR_SRC_TOPIC";
inline constexpr std::string_view kOriginBroker = "REPLICATOR_SRC_BROKER";
inline constexpr std::string_view kOriginQueueId = "REPLICATOR_SRC_QUEUE_ID";
inline constexpr std::string_view kOriginQueueOffset = "REPLICATOR_SRC_QUEUE_OFFSET";
inline constexpr std::string_view kOriginMsgId = "REPLICATOR_SRC_MSG_ID";
inline constexpr std::string_view kOriginStoreTime = "REPLICATOR_SRC_STORE_TIMESTAMP";

// One entry of src.topictags: a topic and its tag filter (empty = every tag).
struct TopicTags {
  std::string topic;
  std::vector<std::string> tags;
  std::string expression() const;  // "*" or "a || b"
  bool accepts(std::string_view tag) const;
};

// "TopicA,TopicB" or "TopicA:tagA||tagB;TopicB:*": entries separated by ';', each a topic with an
// optional ':'-separated tag expression; an entry without ':' may list several topics with ','.
// An error message naming the key for a bad value.
std::optional<std::string> parse_topic_tags(std::string_view text, std::vector<TopicTags>* out);

// The source cluster's name server list: src.endpoint, else src.cluster when it holds one.
std::string source_endpoint(const KeyValue& config);
// The name shown in origin properties and records: src.cluster, else src.endpoint.
std::string source_cluster_name(const KeyValue& config);

// Client settings for "src" or "dest" (the endpoint and the ACL keys of that side).
rocketmq::ClientConfig client_config(const KeyValue& config, std::string_view side,
                                     const std::string& endpoint, const std::string& tag);

// The keys both connectors define (source cluster, ACL, topics, offset-sync topic).
void define_common_keys(ConfigDef& def);
// Checks beyond the ConfigDef; throws ConnectException naming the key.
void validate_common(const KeyValue& parsed);

// The destination topic of a source topic: dest.topic, else topic.rename.format with ${topic}.
std::string destination_topic(const KeyValue& config, const std::string& source_topic);

// The queues of one task: every `count`-th of the sorted queues, starting at `index`.
std::vector<rocketmq::MessageQueue> queues_of_task(std::vector<rocketmq::MessageQueue> all,
                                                   int index, int count);

// Offset-sync record body: the source message at src_offset is stored at dest_offset.
struct OffsetSync {
  std::string cluster;
  std::string src_topic;
  std::string src_broker;
  std::int32_t src_queue_id = 0;
  std::int64_t src_offset = 0;
  std::string dest_topic;
  std::string dest_broker;
  std::int32_t dest_queue_id = 0;
  std::int64_t dest_offset = 0;
  std::string to_json() const;
  static std::optional<OffsetSync> from_json(std::string_view text);
};

// Checkpoint record body.
struct Checkpoint {
  std::string group;
  std::string cluster;
  std::string src_topic;
  std::string src_broker;
  std::int32_t src_queue_id = 0;
  std::int64_t src_offset = 0;  // the group's committed offset on the source
  std::string dest_topic;
  std::string dest_broker;
  std::int32_t dest_queue_id = 0;
  std::int64_t dest_offset = 0;        // translated
  std::int64_t src_max_offset = 0;     // the source queue's max offset
  std::int64_t replicated_offset = 0;  // last replicated source offset + 1 known from syncs
  std::int64_t timestamp_ms = 0;
  std::int64_t replication_lag() const {
    return std::max<std::int64_t>(0, src_max_offset - replicated_offset);
  }
  std::string to_json() const;
  static std::optional<Checkpoint> from_json(std::string_view text);
};

// Offset translation: `syncs` maps source offsets to destination offsets of one source queue.
// For a group's committed source offset G, the entry with the greatest source offset s <= G
// gives d, and the answer is d when s == G, else d + 1 (the first destination message after the
// last one the group is known to have consumed). nullopt when no entry is at or before G.
std::optional<std::int64_t> translate(const std::map<std::int64_t, std::int64_t>& syncs,
                                      std::int64_t group_offset);

}  // namespace rmqc::connectors::replicator
