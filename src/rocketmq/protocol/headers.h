#pragma once

// Custom headers (the extFields of each command, spec §2.3), named as RocketMQ's *Header
// classes. Each struct lists its fields once in fields(); the generic codec in headers.cc turns
// that list into to_ext_fields() / from_ext_fields(). Required fields (v(...)) must be present
// and parse; optional ones (v.opt(...)) keep their default when absent or unparsable, as Java
// turns an unconvertible value into null.

#include "rmqc/base/result.h"

#include "rocketmq/protocol/remoting_command.h"

#include <cstdint>
#include <optional>
#include <string>

namespace rmqc::rocketmq {

#define RMQC_EXT_HEADER(Type)      \
  ExtFields to_ext_fields() const; \
  static Result<Type> from_ext_fields(const ExtFields& fields);

// --- sending (spec §2.3.3) -------------------------------------------------------------------

struct SendMessageRequestHeader {
  std::string producer_group;                       // a; the 4.9.7 broker does not insist on it
  std::string topic;                                // b
  std::string default_topic = "TBW102";             // c
  std::int32_t default_topic_queue_nums = 4;        // d
  std::int32_t queue_id = 0;                        // e; < 0 = broker picks
  std::int32_t sys_flag = 0;                        // f
  std::int64_t born_timestamp = 0;                  // g
  std::int32_t flag = 0;                            // h
  std::string properties;                           // i
  std::int32_t reconsume_times = 0;                 // j
  bool unit_mode = false;                           // k
  std::optional<std::int32_t> max_reconsume_times;  // l
  bool batch = false;                               // m; selects batch decoding, not the code
  std::optional<std::string> bname;                 // n

  RMQC_EXT_HEADER(SendMessageRequestHeader)
  // SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE short names a..n.
  ExtFields to_v2_ext_fields() const;
  static Result<SendMessageRequestHeader> from_v2_ext_fields(const ExtFields& fields);
  // Long names for SEND_MESSAGE (10), short names for 310/320 and anything else.
  static Result<SendMessageRequestHeader> from_command(const RemotingCommand& cmd);

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v.opt("producerGroup", s.producer_group);
    v("topic", s.topic);
    v("defaultTopic", s.default_topic);
    v("defaultTopicQueueNums", s.default_topic_queue_nums);
    v("queueId", s.queue_id);
    v("sysFlag", s.sys_flag);
    v("bornTimestamp", s.born_timestamp);
    v("flag", s.flag);
    v.opt("properties", s.properties);
    v.opt("reconsumeTimes", s.reconsume_times);
    v.opt("unitMode", s.unit_mode);
    v.opt("maxReconsumeTimes", s.max_reconsume_times);
    v.opt("batch", s.batch);
    v.opt("bname", s.bname);
  }
};

struct SendMessageResponseHeader {
  std::string msg_id;  // offsetMsgId; comma-joined for batches
  std::int32_t queue_id = 0;
  std::int64_t queue_offset = 0;  // of the first message
  std::optional<std::string> transaction_id;
  std::optional<std::string> msg_region;  // MSG_REGION
  std::optional<std::string> trace_on;    // TRACE_ON

  RMQC_EXT_HEADER(SendMessageResponseHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("msgId", s.msg_id);
    v("queueId", s.queue_id);
    v("queueOffset", s.queue_offset);
    v.opt("transactionId", s.transaction_id);
    v.opt("MSG_REGION", s.msg_region);
    v.opt("TRACE_ON", s.trace_on);
  }
};

// --- pulling (spec §2.3.4) -------------------------------------------------------------------

// PULL_MESSAGE sysFlag bits (PullSysFlag).
namespace pull_sysflag {
inline constexpr std::int32_t FLAG_COMMIT_OFFSET = 0x1;
inline constexpr std::int32_t FLAG_SUSPEND = 0x2;
inline constexpr std::int32_t FLAG_SUBSCRIPTION = 0x4;
inline constexpr std::int32_t FLAG_CLASS_FILTER = 0x8;
inline constexpr std::int32_t FLAG_LITE_PULL_MESSAGE = 0x10;
}  // namespace pull_sysflag

struct PullMessageRequestHeader {
  std::string consumer_group;
  std::string topic;
  std::int32_t queue_id = 0;
  std::int64_t queue_offset = 0;
  std::int32_t max_msg_nums = 32;
  std::int32_t sys_flag = 0;
  std::int64_t commit_offset = 0;
  std::int64_t suspend_timeout_millis = 15000;
  std::optional<std::string> subscription;
  std::int64_t sub_version = 0;
  std::optional<std::string> expression_type;  // TAG (default) or SQL92
  std::optional<std::string> bname;

  RMQC_EXT_HEADER(PullMessageRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("consumerGroup", s.consumer_group);
    v("topic", s.topic);
    v("queueId", s.queue_id);
    v("queueOffset", s.queue_offset);
    v("maxMsgNums", s.max_msg_nums);
    v("sysFlag", s.sys_flag);
    v("commitOffset", s.commit_offset);
    v("suspendTimeoutMillis", s.suspend_timeout_millis);
    v.opt("subscription", s.subscription);
    v("subVersion", s.sub_version);
    v.opt("expressionType", s.expression_type);
    v.opt("bname", s.bname);
  }
};

struct PullMessageResponseHeader {
  std::int64_t suggest_which_broker_id = 0;
  std::int64_t next_begin_offset = 0;
  std::int64_t min_offset = 0;
  std::int64_t max_offset = 0;

  RMQC_EXT_HEADER(PullMessageResponseHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("suggestWhichBrokerId", s.suggest_which_broker_id);
    v("nextBeginOffset", s.next_begin_offset);
    v("minOffset", s.min_offset);
    v("maxOffset", s.max_offset);
  }
};

// --- offsets (spec §2.3.5) -------------------------------------------------------------------

struct QueryConsumerOffsetRequestHeader {
  std::string consumer_group;
  std::string topic;
  std::int32_t queue_id = 0;
  std::optional<std::string> bname;

  RMQC_EXT_HEADER(QueryConsumerOffsetRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("consumerGroup", s.consumer_group);
    v("topic", s.topic);
    v("queueId", s.queue_id);
    v.opt("bname", s.bname);
  }
};

// Response of QUERY_CONSUMER_OFFSET, GET_MAX_OFFSET, GET_MIN_OFFSET, SEARCH_OFFSET_BY_TIMESTAMP.
struct OffsetResponseHeader {
  std::int64_t offset = 0;

  RMQC_EXT_HEADER(OffsetResponseHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("offset", s.offset);
  }
};
using QueryConsumerOffsetResponseHeader = OffsetResponseHeader;
using GetMaxOffsetResponseHeader = OffsetResponseHeader;
using GetMinOffsetResponseHeader = OffsetResponseHeader;
using SearchOffsetResponseHeader = OffsetResponseHeader;

struct UpdateConsumerOffsetRequestHeader {
  std::string consumer_group;
  std::string topic;
  std::int32_t queue_id = 0;
  std::int64_t commit_offset = 0;
  std::optional<std::string> bname;

  RMQC_EXT_HEADER(UpdateConsumerOffsetRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("consumerGroup", s.consumer_group);
    v("topic", s.topic);
    v("queueId", s.queue_id);
    v("commitOffset", s.commit_offset);
    v.opt("bname", s.bname);
  }
};

// GET_MAX_OFFSET, GET_MIN_OFFSET and GET_EARLIEST_MSG_STORETIME requests.
struct QueueRequestHeader {
  std::string topic;
  std::int32_t queue_id = 0;
  std::optional<bool> committed;  // 5.x GET_MAX_OFFSET only
  std::optional<std::string> bname;

  RMQC_EXT_HEADER(QueueRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("topic", s.topic);
    v("queueId", s.queue_id);
    v.opt("committed", s.committed);
    v.opt("bname", s.bname);
  }
};
using GetMaxOffsetRequestHeader = QueueRequestHeader;
using GetMinOffsetRequestHeader = QueueRequestHeader;
using GetEarliestMsgStoretimeRequestHeader = QueueRequestHeader;

struct SearchOffsetRequestHeader {
  std::string topic;
  std::int32_t queue_id = 0;
  std::int64_t timestamp = 0;
  std::optional<std::string> bname;

  RMQC_EXT_HEADER(SearchOffsetRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("topic", s.topic);
    v("queueId", s.queue_id);
    v("timestamp", s.timestamp);
    v.opt("bname", s.bname);
  }
};

struct GetEarliestMsgStoretimeResponseHeader {
  std::int64_t timestamp = 0;  // -1 for an empty queue

  RMQC_EXT_HEADER(GetEarliestMsgStoretimeResponseHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("timestamp", s.timestamp);
  }
};

// --- name server (spec §2.3.1, §2.3.2) -------------------------------------------------------

struct GetRouteInfoRequestHeader {
  std::string topic;
  std::optional<bool> accept_standard_json_only;

  RMQC_EXT_HEADER(GetRouteInfoRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("topic", s.topic);
    v.opt("acceptStandardJsonOnly", s.accept_standard_json_only);
  }
};

struct RegisterBrokerRequestHeader {
  std::string broker_name;
  std::string broker_addr;  // ip:10911
  std::string cluster_name;
  std::string ha_server_addr;  // ip:10912
  std::int64_t broker_id = 0;  // 0 = master
  bool compressed = false;
  std::int32_t body_crc32 = 0;  // crc32(body) & 0x7FFFFFFF; 0 = don't check

  RMQC_EXT_HEADER(RegisterBrokerRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("brokerName", s.broker_name);
    v("brokerAddr", s.broker_addr);
    v("clusterName", s.cluster_name);
    v("haServerAddr", s.ha_server_addr);
    v("brokerId", s.broker_id);
    v.opt("compressed", s.compressed);
    v.opt("bodyCrc32", s.body_crc32);
  }
};

struct RegisterBrokerResponseHeader {
  std::optional<std::string> ha_server_addr;
  std::optional<std::string> master_addr;

  RMQC_EXT_HEADER(RegisterBrokerResponseHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v.opt("haServerAddr", s.ha_server_addr);
    v.opt("masterAddr", s.master_addr);
  }
};

// UNREGISTER_BROKER (104) and QUERY_DATA_VERSION (322).
struct UnregisterBrokerRequestHeader {
  std::string broker_name;
  std::string broker_addr;
  std::string cluster_name;
  std::int64_t broker_id = 0;

  RMQC_EXT_HEADER(UnregisterBrokerRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("brokerName", s.broker_name);
    v("brokerAddr", s.broker_addr);
    v("clusterName", s.cluster_name);
    v("brokerId", s.broker_id);
  }
};
using QueryDataVersionRequestHeader = UnregisterBrokerRequestHeader;

struct QueryDataVersionResponseHeader {
  bool changed = false;

  RMQC_EXT_HEADER(QueryDataVersionResponseHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("changed", s.changed);
  }
};

struct GetTopicsByClusterRequestHeader {
  std::string cluster;

  RMQC_EXT_HEADER(GetTopicsByClusterRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("cluster", s.cluster);
  }
};

// --- consumer groups (spec §2.3.6, §2.3.7) ---------------------------------------------------

// GET_CONSUMER_LIST_BY_GROUP (38), NOTIFY_CONSUMER_IDS_CHANGED (40),
// GET_CONSUMER_CONNECTION_LIST (203).
struct ConsumerGroupRequestHeader {
  std::string consumer_group;

  RMQC_EXT_HEADER(ConsumerGroupRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("consumerGroup", s.consumer_group);
  }
};
using GetConsumerListByGroupRequestHeader = ConsumerGroupRequestHeader;
using NotifyConsumerIdsChangedRequestHeader = ConsumerGroupRequestHeader;

struct UnregisterClientRequestHeader {
  std::string client_id;  // clientID
  std::optional<std::string> producer_group;
  std::optional<std::string> consumer_group;

  RMQC_EXT_HEADER(UnregisterClientRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("clientID", s.client_id);
    v.opt("producerGroup", s.producer_group);
    v.opt("consumerGroup", s.consumer_group);
  }
};

struct ConsumerSendMsgBackRequestHeader {
  std::int64_t offset = 0;  // commit-log offset of the failed message
  std::string group;
  std::int32_t delay_level = 0;  // 0 = broker picks 3 + reconsumeTimes; < 0 = DLQ
  std::optional<std::string> origin_msg_id;
  std::optional<std::string> origin_topic;
  bool unit_mode = false;
  std::optional<std::int32_t> max_reconsume_times;
  std::optional<std::string> bname;

  RMQC_EXT_HEADER(ConsumerSendMsgBackRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("offset", s.offset);
    v("group", s.group);
    v("delayLevel", s.delay_level);
    v.opt("originMsgId", s.origin_msg_id);
    v.opt("originTopic", s.origin_topic);
    v.opt("unitMode", s.unit_mode);
    v.opt("maxReconsumeTimes", s.max_reconsume_times);
    v.opt("bname", s.bname);
  }
};

// --- transactions (spec §2.3.8) --------------------------------------------------------------

struct EndTransactionRequestHeader {
  std::string producer_group;
  std::int64_t tran_state_table_offset = 0;
  std::int64_t commit_log_offset = 0;
  std::int32_t commit_or_rollback = 0;  // 8 commit, 12 rollback, 0 unknown
  bool from_transaction_check = false;
  std::string msg_id;
  std::optional<std::string> transaction_id;

  RMQC_EXT_HEADER(EndTransactionRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("producerGroup", s.producer_group);
    v("tranStateTableOffset", s.tran_state_table_offset);
    v("commitLogOffset", s.commit_log_offset);
    v("commitOrRollback", s.commit_or_rollback);
    v.opt("fromTransactionCheck", s.from_transaction_check);
    v("msgId", s.msg_id);
    v.opt("transactionId", s.transaction_id);
  }
};

struct CheckTransactionStateRequestHeader {
  std::int64_t tran_state_table_offset = 0;
  std::int64_t commit_log_offset = 0;
  std::optional<std::string> msg_id;
  std::optional<std::string> transaction_id;
  std::optional<std::string> offset_msg_id;

  RMQC_EXT_HEADER(CheckTransactionStateRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("tranStateTableOffset", s.tran_state_table_offset);
    v("commitLogOffset", s.commit_log_offset);
    v.opt("msgId", s.msg_id);
    v.opt("transactionId", s.transaction_id);
    v.opt("offsetMsgId", s.offset_msg_id);
  }
};

// --- admin and queries (spec §2.2, §2.3.9) ---------------------------------------------------

// UPDATE_AND_CREATE_TOPIC (17).
struct CreateTopicRequestHeader {
  std::string topic;
  std::string default_topic = "TBW102";
  std::int32_t read_queue_nums = 4;
  std::int32_t write_queue_nums = 4;
  std::int32_t perm = 6;
  std::string topic_filter_type = "SINGLE_TAG";
  std::int32_t topic_sys_flag = 0;
  bool order = false;

  RMQC_EXT_HEADER(CreateTopicRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("topic", s.topic);
    v("defaultTopic", s.default_topic);
    v("readQueueNums", s.read_queue_nums);
    v("writeQueueNums", s.write_queue_nums);
    v("perm", s.perm);
    v("topicFilterType", s.topic_filter_type);
    v.opt("topicSysFlag", s.topic_sys_flag);
    v.opt("order", s.order);
  }
};

// DELETE_TOPIC_IN_BROKER (215) and DELETE_TOPIC_IN_NAMESRV (216), GET_TOPIC_STATS_INFO (202).
struct DeleteTopicRequestHeader {
  std::string topic;
  std::optional<std::string> cluster_name;  // 216 only

  RMQC_EXT_HEADER(DeleteTopicRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("topic", s.topic);
    v.opt("clusterName", s.cluster_name);
  }
};

struct ViewMessageRequestHeader {
  std::int64_t offset = 0;  // commit-log offset

  RMQC_EXT_HEADER(ViewMessageRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("offset", s.offset);
  }
};

struct QueryMessageRequestHeader {
  std::string topic;
  std::string key;
  std::int32_t max_num = 32;
  std::int64_t begin_timestamp = 0;
  std::int64_t end_timestamp = 0;
  std::optional<bool> unique_key_query;  // _UNIQUE_KEY_QUERY

  RMQC_EXT_HEADER(QueryMessageRequestHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("topic", s.topic);
    v("key", s.key);
    v("maxNum", s.max_num);
    v("beginTimestamp", s.begin_timestamp);
    v("endTimestamp", s.end_timestamp);
    v.opt("_UNIQUE_KEY_QUERY", s.unique_key_query);
  }
};

struct QueryMessageResponseHeader {
  std::int64_t index_last_update_timestamp = 0;
  std::int64_t index_last_update_phyoffset = 0;

  RMQC_EXT_HEADER(QueryMessageResponseHeader)
  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("indexLastUpdateTimestamp", s.index_last_update_timestamp);
    v("indexLastUpdatePhyoffset", s.index_last_update_phyoffset);
  }
};

#undef RMQC_EXT_HEADER

}  // namespace rmqc::rocketmq
