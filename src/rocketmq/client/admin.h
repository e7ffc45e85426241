#pragma once

// Admin calls (spec §2.3.9, §2.3.1, §2.3.5, §2.3.6): topics, routes, cluster info, offsets,
// consumer groups; and GroupMembership, the member list of a consumer group kept current
// through NOTIFY_CONSUMER_IDS_CHANGED (what the distributed worker builds its cluster on).

#include "rmqc/base/result.h"

#include "rocketmq/client/client_config.h"
#include "rocketmq/client/message.h"
#include "rocketmq/protocol/bodies.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::rocketmq {

class ClientInstance;

struct QueueOffsets {
  MessageQueue queue;
  std::int64_t min_offset = 0;
  std::int64_t max_offset = 0;             // next offset to be written
  std::int64_t last_update_timestamp = 0;  // store time of the last message; 0 when empty
};

struct QueueProgress {
  MessageQueue queue;
  std::int64_t broker_offset = 0;    // max offset
  std::int64_t consumer_offset = 0;  // committed; 0 when none (as GET_CONSUME_STATS reports it)
  std::int64_t last_timestamp = 0;   // store time of the last consumed message; 0 when unknown
  std::int64_t lag() const {
    return consumer_offset < 0 ? broker_offset
                               : std::max<std::int64_t>(0, broker_offset - consumer_offset);
  }
};

// A consumer group's connections (GET_CONSUMER_CONNECTION_LIST, 203), over every master.
struct ConsumerConnection {
  struct Connection {
    std::string client_id;
    std::string client_addr;
    std::string language;
    std::int32_t version = 0;
  };
  std::vector<Connection> connections;  // sorted by client id
  std::string consume_type;
  std::string message_model;
  std::string consume_from_where;
  std::map<std::string, SubscriptionData> subscriptions;  // by topic
};

// Parses a fastjson map whose keys are MessageQueue objects (the bodies of 202 and 208,
// spec §2.3.9): `{"offsetTable":{{"brokerName":..,"queueId":..,"topic":..}:{...},...}}` into
// (queue, value JSON text) pairs of `member`.
Result<std::vector<std::pair<MessageQueue, std::string>>> parse_queue_keyed_map(
    std::string_view body, std::string_view member);

class Admin {
 public:
  static Result<std::unique_ptr<Admin>> start(ClientConfig config);
  ~Admin();

  // UPDATE_AND_CREATE_TOPIC on every master of `cluster` (every master when empty).
  Result<void> create_topic(const std::string& topic, std::int32_t queues = 8,
                            std::int32_t perm = 6, const std::string& cluster = {});
  // DELETE_TOPIC_IN_BROKER on every master of the topic, then DELETE_TOPIC_IN_NAMESRV.
  Result<void> delete_topic(const std::string& topic);
  Result<std::vector<std::string>> topic_list();
  Result<TopicRouteData> topic_route(const std::string& topic);
  Result<ClusterInfo> cluster_info();
  // Per-queue min/max offset and last store time (GET_TOPIC_STATS_INFO on every master).
  Result<std::vector<QueueOffsets>> topic_status(const std::string& topic);

  Result<std::int64_t> min_offset(const MessageQueue& queue);
  Result<std::int64_t> max_offset(const MessageQueue& queue);
  Result<std::int64_t> search_offset(const MessageQueue& queue, std::int64_t timestamp_ms);

  // Sorted client ids of a group's members (union over the masters); empty when none.
  Result<std::vector<std::string>> consumer_ids(const std::string& group);
  // The group's committed offset of a queue; -1 when none.
  Result<std::int64_t> committed_offset(const std::string& group, const MessageQueue& queue);
  Result<void> commit_offset(const std::string& group, const MessageQueue& queue,
                             std::int64_t offset);
  // Committed offset and max offset of every queue of `topics` (GET_CONSUME_STATS on every
  // master; no topics: every topic the group committed offsets for). Sorted by queue.
  Result<std::vector<QueueProgress>> group_progress(const std::string& group,
                                                    const std::vector<std::string>& topics);
  // The group's connections; kNotFound "the consumer group[<g>] not online" when none.
  Result<ConsumerConnection> consumer_connections(const std::string& group);

  // QUERY_MESSAGE on every master of the topic: messages whose KEYS contain `key` (or, with
  // unique_key, whose UNIQ_KEY is `key`), stored within [begin_ms, end_ms]. Empty when none.
  Result<std::vector<MessageExt>> query_messages(
      const std::string& topic, const std::string& key, bool unique_key = false,
      std::int32_t max_num = 32, std::int64_t begin_ms = 0,
      std::int64_t end_ms = std::numeric_limits<std::int64_t>::max());
  // One message by offsetMsgId (VIEW_MESSAGE_BY_ID at the broker the id names) or, when
  // `topic` is given and the id is not an offsetMsgId, by its unique key.
  Result<MessageExt> view_message(const std::string& msg_id, const std::string& topic = {});

  ClientInstance& instance() { return *instance_; }

 private:
  explicit Admin(std::shared_ptr<ClientInstance> instance) : instance_(std::move(instance)) {}
  Result<std::string> master_of(const MessageQueue& queue);
  Result<std::int64_t> offset_call(std::int32_t code, const MessageQueue& queue,
                                   std::int64_t timestamp = 0);
  std::shared_ptr<ClientInstance> instance_;
};

// Membership of a consumer group. With join = true this client becomes a member (heartbeats a
// CONSUME_ACTIVELY consumer of `topic`); the member list is re-read when the broker sends
// NOTIFY_CONSUMER_IDS_CHANGED and every `poll_interval`, and `on_change` gets the sorted ids
// whenever they differ from the last list.
class GroupMembership {
 public:
  using Listener = std::function<void(const std::vector<std::string>& member_ids)>;

  struct Options {
    ClientConfig client;
    std::string group;
    std::string topic;  // a topic of the group's subscription (its brokers hold the group)
    bool join = true;
    std::chrono::milliseconds poll_interval{10'000};
  };

  static Result<std::unique_ptr<GroupMembership>> start(Options options, Listener on_change);
  ~GroupMembership();

  const std::string& client_id() const;
  std::vector<std::string> members() const;
  // When the member list was last read from every master (start() reads it once). A worker that
  // has not managed to for a while is cut off from the broker.
  std::chrono::steady_clock::time_point last_refreshed() const;
  // Leaves the group (UNREGISTER_CLIENT) and stops. Idempotent.
  void stop();

 private:
  GroupMembership() = default;
  void run();
  void refresh();

  Options options_;
  Listener on_change_;
  std::shared_ptr<ClientInstance> instance_;
  int heartbeat_id_ = 0;
  int listener_id_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool changed_ = false;
  std::vector<std::string> members_;
  std::chrono::steady_clock::time_point last_refreshed_;
  std::thread thread_;
};

}  // namespace rmqc::rocketmq
