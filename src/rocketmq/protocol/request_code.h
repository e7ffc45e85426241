#pragma once

// Request codes (spec §2.2), named as RocketMQ's RequestCode.

#include <cstdint>

namespace rmqc::rocketmq::request_code {

inline constexpr std::int32_t SEND_MESSAGE = 10;
inline constexpr std::int32_t PULL_MESSAGE = 11;
inline constexpr std::int32_t QUERY_MESSAGE = 12;
inline constexpr std::int32_t QUERY_CONSUMER_OFFSET = 14;
inline constexpr std::int32_t UPDATE_CONSUMER_OFFSET = 15;
inline constexpr std::int32_t UPDATE_AND_CREATE_TOPIC = 17;
inline constexpr std::int32_t GET_ALL_TOPIC_CONFIG = 21;
inline constexpr std::int32_t GET_BROKER_CONFIG = 26;
inline constexpr std::int32_t GET_BROKER_RUNTIME_INFO = 28;
inline constexpr std::int32_t SEARCH_OFFSET_BY_TIMESTAMP = 29;
inline constexpr std::int32_t GET_MAX_OFFSET = 30;
inline constexpr std::int32_t GET_MIN_OFFSET = 31;
inline constexpr std::int32_t GET_EARLIEST_MSG_STORETIME = 32;
inline constexpr std::int32_t VIEW_MESSAGE_BY_ID = 33;
inline constexpr std::int32_t HEART_BEAT = 34;
inline constexpr std::int32_t UNREGISTER_CLIENT = 35;
inline constexpr std::int32_t CONSUMER_SEND_MSG_BACK = 36;
inline constexpr std::int32_t END_TRANSACTION = 37;
inline constexpr std::int32_t GET_CONSUMER_LIST_BY_GROUP = 38;
inline constexpr std::int32_t CHECK_TRANSACTION_STATE = 39;
inline constexpr std::int32_t NOTIFY_CONSUMER_IDS_CHANGED = 40;
inline constexpr std::int32_t LOCK_BATCH_MQ = 41;
inline constexpr std::int32_t UNLOCK_BATCH_MQ = 42;
inline constexpr std::int32_t GET_ALL_CONSUMER_OFFSET = 43;
inline constexpr std::int32_t CHECK_CLIENT_CONFIG = 46;
inline constexpr std::int32_t PUT_KV_CONFIG = 100;
inline constexpr std::int32_t GET_KV_CONFIG = 101;
inline constexpr std::int32_t DELETE_KV_CONFIG = 102;
inline constexpr std::int32_t REGISTER_BROKER = 103;
inline constexpr std::int32_t UNREGISTER_BROKER = 104;
inline constexpr std::int32_t GET_ROUTEINFO_BY_TOPIC = 105;
inline constexpr std::int32_t GET_BROKER_CLUSTER_INFO = 106;
inline constexpr std::int32_t UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200;
inline constexpr std::int32_t GET_TOPIC_STATS_INFO = 202;
inline constexpr std::int32_t GET_CONSUMER_CONNECTION_LIST = 203;
inline constexpr std::int32_t GET_PRODUCER_CONNECTION_LIST = 204;
inline constexpr std::int32_t WIPE_WRITE_PERM_OF_BROKER = 205;
inline constexpr std::int32_t GET_ALL_TOPIC_LIST_FROM_NAMESERVER = 206;
inline constexpr std::int32_t DELETE_SUBSCRIPTIONGROUP = 207;
inline constexpr std::int32_t GET_CONSUME_STATS = 208;
inline constexpr std::int32_t DELETE_TOPIC_IN_BROKER = 215;
inline constexpr std::int32_t DELETE_TOPIC_IN_NAMESRV = 216;
inline constexpr std::int32_t GET_KVLIST_BY_NAMESPACE = 219;
inline constexpr std::int32_t RESET_CONSUMER_CLIENT_OFFSET = 220;
inline constexpr std::int32_t GET_CONSUMER_STATUS_FROM_CLIENT = 221;
inline constexpr std::int32_t INVOKE_BROKER_TO_RESET_OFFSET = 222;
inline constexpr std::int32_t INVOKE_BROKER_TO_GET_CONSUMER_STATUS = 223;
inline constexpr std::int32_t GET_TOPICS_BY_CLUSTER = 224;
inline constexpr std::int32_t QUERY_TOPIC_CONSUME_BY_WHO = 300;
inline constexpr std::int32_t GET_SYSTEM_TOPIC_LIST_FROM_NS = 304;
inline constexpr std::int32_t GET_CONSUMER_RUNNING_INFO = 307;
inline constexpr std::int32_t CONSUME_MESSAGE_DIRECTLY = 309;
inline constexpr std::int32_t SEND_MESSAGE_V2 = 310;
inline constexpr std::int32_t SEND_BATCH_MESSAGE = 320;
inline constexpr std::int32_t QUERY_DATA_VERSION = 322;
inline constexpr std::int32_t SEND_REPLY_MESSAGE = 324;
inline constexpr std::int32_t SEND_REPLY_MESSAGE_V2 = 325;
inline constexpr std::int32_t PUSH_REPLY_MESSAGE_TO_CLIENT = 326;

// 5.x codes a 4.x-compatible broker answers with REQUEST_CODE_NOT_SUPPORTED (spec §6). Those
// above 32767 only travel in JSON headers.
inline constexpr std::int32_t LITE_PULL_MESSAGE = 361;
inline constexpr std::int32_t RECALL_MESSAGE = 370;
inline constexpr std::int32_t QUERY_ASSIGNMENT = 400;
inline constexpr std::int32_t SET_MESSAGE_REQUEST_MODE = 401;
inline constexpr std::int32_t POP_MESSAGE = 200050;
inline constexpr std::int32_t ACK_MESSAGE = 200051;
inline constexpr std::int32_t PEEK_MESSAGE = 200052;
inline constexpr std::int32_t CHANGE_MESSAGE_INVISIBLETIME = 200053;
inline constexpr std::int32_t NOTIFICATION = 200054;
inline constexpr std::int32_t POLLING_INFO = 200055;
inline constexpr std::int32_t POP_ROLLBACK = 200056;
inline constexpr std::int32_t BATCH_ACK_MESSAGE = 200151;

}  // namespace rmqc::rocketmq::request_code
