#pragma once

// Response codes (spec §2.1), named as RocketMQ's ResponseCode / RemotingSysResponseCode.

#include <cstdint>

namespace rmqc::rocketmq::response_code {

inline constexpr std::int32_t SUCCESS = 0;
inline constexpr std::int32_t SYSTEM_ERROR = 1;
inline constexpr std::int32_t SYSTEM_BUSY = 2;
inline constexpr std::int32_t REQUEST_CODE_NOT_SUPPORTED = 3;
inline constexpr std::int32_t TRANSACTION_FAILED = 4;
inline constexpr std::int32_t FLUSH_DISK_TIMEOUT = 10;
inline constexpr std::int32_t SLAVE_NOT_AVAILABLE = 11;
inline constexpr std::int32_t FLUSH_SLAVE_TIMEOUT = 12;
inline constexpr std::int32_t MESSAGE_ILLEGAL = 13;
inline constexpr std::int32_t SERVICE_NOT_AVAILABLE = 14;
inline constexpr std::int32_t VERSION_NOT_SUPPORTED = 15;
inline constexpr std::int32_t NO_PERMISSION = 16;
inline constexpr std::int32_t TOPIC_NOT_EXIST = 17;
inline constexpr std::int32_t TOPIC_EXIST_ALREADY = 18;
inline constexpr std::int32_t PULL_NOT_FOUND = 19;
inline constexpr std::int32_t PULL_RETRY_IMMEDIATELY = 20;
inline constexpr std::int32_t PULL_OFFSET_MOVED = 21;
inline constexpr std::int32_t QUERY_NOT_FOUND = 22;
inline constexpr std::int32_t SUBSCRIPTION_PARSE_FAILED = 23;
inline constexpr std::int32_t SUBSCRIPTION_NOT_EXIST = 24;
inline constexpr std::int32_t SUBSCRIPTION_NOT_LATEST = 25;
inline constexpr std::int32_t SUBSCRIPTION_GROUP_NOT_EXIST = 26;
inline constexpr std::int32_t FILTER_DATA_NOT_EXIST = 27;
inline constexpr std::int32_t FILTER_DATA_NOT_LATEST = 28;
inline constexpr std::int32_t INVALID_PARAMETER = 29;  // 5.x
inline constexpr std::int32_t TRANSACTION_SHOULD_COMMIT = 200;
inline constexpr std::int32_t TRANSACTION_SHOULD_ROLLBACK = 201;
inline constexpr std::int32_t TRANSACTION_STATE_UNKNOW = 202;
inline constexpr std::int32_t TRANSACTION_STATE_GROUP_WRONG = 203;
inline constexpr std::int32_t NO_BUYER_ID = 204;
inline constexpr std::int32_t NOT_IN_CURRENT_UNIT = 205;
inline constexpr std::int32_t CONSUMER_NOT_ONLINE = 206;
inline constexpr std::int32_t CONSUME_MSG_TIMEOUT = 207;
inline constexpr std::int32_t NO_MESSAGE = 208;
// 209-211 mean ACL config failures in 4.9.8 but POLLING_FULL / POLLING_TIMEOUT /
// BROKER_NOT_EXIST in 5.x: compare numbers, not names, when it matters.
inline constexpr std::int32_t UPDATE_AND_CREATE_ACL_CONFIG_FAILED = 209;
inline constexpr std::int32_t DELETE_ACL_CONFIG_FAILED = 210;
inline constexpr std::int32_t UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED = 211;
inline constexpr std::int32_t FLOW_CONTROL = 215;
inline constexpr std::int32_t NOT_LEADER_FOR_QUEUE = 501;  // 5.x
inline constexpr std::int32_t ILLEGAL_OPERATION = 604;     // 5.x
inline constexpr std::int32_t GO_AWAY = 1500;              // 5.x

// Send outcomes where the message was stored (the client reports a send result, not an error).
constexpr bool is_send_stored(std::int32_t code) {
  return code == SUCCESS || code == FLUSH_DISK_TIMEOUT || code == SLAVE_NOT_AVAILABLE ||
         code == FLUSH_SLAVE_TIMEOUT;
}
// Codes on which a Java producer retries on another broker (spec §4.4).
constexpr bool is_send_retriable(std::int32_t code) {
  return code == SYSTEM_ERROR || code == SERVICE_NOT_AVAILABLE || code == NO_PERMISSION ||
         code == TOPIC_NOT_EXIST || code == NO_BUYER_ID || code == NOT_IN_CURRENT_UNIT;
}

}  // namespace rmqc::rocketmq::response_code
