#pragma once

// JSON bodies of the remoting commands (spec §2.3), named as RocketMQ's classes. Writers emit
// what Java's fastjson emits (members in alphabetical order); readers ignore unknown members
// (5.x adds some) and accept RocketMQ's non-standard JSON with bare integer map keys
// (`{0:"10.0.0.1:10911"}`, spec §2.3.1).

#include "rmqc/base/result.h"

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::rocketmq {

// Topic permission bits (PermName).
namespace perm {
inline constexpr std::int32_t PERM_PRIORITY = 0x8;
inline constexpr std::int32_t PERM_READ = 0x4;
inline constexpr std::int32_t PERM_WRITE = 0x2;
inline constexpr std::int32_t PERM_INHERIT = 0x1;
}  // namespace perm

// Java's String.hashCode over the UTF-16 form of a UTF-8 string (tag codes, spec §2.3.6).
std::int32_t java_string_hash(std::string_view utf8);

// Rewrites bare numeric object keys to quoted ones so a standard parser accepts fastjson's
// legacy output; also rejects nesting deeper than max_depth. Returns the input unchanged when
// nothing needs quoting.
Result<std::string> normalize_legacy_json(std::string_view text, int max_depth = 64);

struct MessageQueue {
  std::string topic;
  std::string broker_name;
  std::int32_t queue_id = 0;

  auto operator<=>(const MessageQueue&) const = default;
};

struct QueueData {
  std::string broker_name;
  std::int32_t read_queue_nums = 0;
  std::int32_t write_queue_nums = 0;
  std::int32_t perm = 6;
  std::int32_t topic_sys_flag = 0;  // read from `topicSynFlag` too (name servers < 4.9.0)

  bool operator==(const QueueData&) const = default;
};

struct BrokerData {
  std::string cluster;
  std::string broker_name;
  std::map<std::int64_t, std::string> broker_addrs;  // brokerId -> ip:port; 0 = master

  bool operator==(const BrokerData&) const = default;
};

struct TopicRouteData {
  std::optional<std::string> order_topic_conf;
  std::vector<QueueData> queue_datas;
  std::vector<BrokerData> broker_datas;
  std::map<std::string, std::vector<std::string>> filter_server_table;

  // standard = quoted map keys and ASCII-only output (what a name server sends to requesters
  // with version >= 401 or acceptStandardJsonOnly); legacy = bare integer keys.
  std::string to_json(bool standard = true) const;
  static Result<TopicRouteData> from_json(std::string_view json);

  bool operator==(const TopicRouteData&) const = default;
};

// GET_BROKER_CLUSTER_INFO (106) body; Java always sends the legacy form.
struct ClusterInfo {
  std::map<std::string, BrokerData> broker_addr_table;
  std::map<std::string, std::vector<std::string>> cluster_addr_table;

  std::string to_json(bool standard = false) const;
  static Result<ClusterInfo> from_json(std::string_view json);
};

// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206) / GET_TOPICS_BY_CLUSTER (224) body.
struct TopicList {
  std::vector<std::string> topic_list;
  std::optional<std::string> broker_addr;

  std::string to_json() const;
  static Result<TopicList> from_json(std::string_view json);
};

// GET_CONSUMER_LIST_BY_GROUP (38) response body.
struct ConsumerListBody {
  std::vector<std::string> consumer_id_list;

  std::string to_json() const;
  static Result<ConsumerListBody> from_json(std::string_view json);
};

struct SubscriptionData {
  static constexpr std::string_view SUB_ALL = "*";

  bool class_filter_mode = false;
  std::string topic;
  std::string sub_string;
  std::vector<std::string> tags_set;
  std::vector<std::int32_t> code_set;
  std::int64_t sub_version = 0;
  std::optional<std::string> expression_type;  // "TAG" (absent = TAG) or "SQL92"

  // A TAG subscription: "*" (or empty) = all tags; else tags split on "||" and trimmed, codes
  // = Java hash codes.
  static SubscriptionData build(std::string topic, std::string_view sub_string,
                                std::int64_t sub_version);

  bool operator==(const SubscriptionData&) const = default;
};

struct ProducerData {
  std::string group_name;
  bool operator==(const ProducerData&) const = default;
};

struct ConsumerData {
  std::string group_name;
  std::string consume_type = "CONSUME_PASSIVELY";  // or CONSUME_ACTIVELY
  std::string message_model = "CLUSTERING";        // or BROADCASTING
  std::string consume_from_where = "CONSUME_FROM_LAST_OFFSET";
  std::vector<SubscriptionData> subscription_data_set;
  bool unit_mode = false;

  bool operator==(const ConsumerData&) const = default;
};

// HEART_BEAT (34) request body.
struct HeartbeatData {
  std::string client_id;  // clientID
  std::vector<ProducerData> producer_data_set;
  std::vector<ConsumerData> consumer_data_set;

  std::string to_json() const;
  static Result<HeartbeatData> from_json(std::string_view json);

  bool operator==(const HeartbeatData&) const = default;
};

// LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42) request body.
struct LockBatchRequestBody {
  std::string consumer_group;
  std::string client_id;
  std::vector<MessageQueue> mq_set;
  std::optional<bool> only_this_broker;

  std::string to_json() const;
  static Result<LockBatchRequestBody> from_json(std::string_view json);
};
using UnlockBatchRequestBody = LockBatchRequestBody;

struct LockBatchResponseBody {
  std::vector<MessageQueue> lock_ok_mq_set;

  std::string to_json() const;
  static Result<LockBatchResponseBody> from_json(std::string_view json);
};

struct DataVersion {
  std::int64_t timestamp = 0;
  std::int64_t counter = 0;
  bool operator==(const DataVersion&) const = default;
};

struct TopicConfig {
  std::string topic_name;
  std::int32_t read_queue_nums = 4;
  std::int32_t write_queue_nums = 4;
  std::int32_t perm = 6;
  std::string topic_filter_type = "SINGLE_TAG";
  std::int32_t topic_sys_flag = 0;
  bool order = false;
  bool operator==(const TopicConfig&) const = default;
};

// REGISTER_BROKER (103) body, uncompressed form (`compressed` = false, as 4.9 brokers send).
struct RegisterBrokerBody {
  DataVersion data_version;
  std::map<std::string, TopicConfig> topic_config_table;
  std::vector<std::string> filter_server_list;

  std::string to_json() const;
  static Result<RegisterBrokerBody> from_json(std::string_view json);
};

}  // namespace rmqc::rocketmq
