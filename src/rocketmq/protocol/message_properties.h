#pragma once

// The message properties string (spec §3.6) and the property keys of §3.7.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmqc::rocketmq {

inline constexpr char kNameValueSeparator = '\x01';
inline constexpr char kPropertySeparator = '\x02';

// Property keys, spelled as RocketMQ's MessageConst.
namespace property {
inline constexpr std::string_view KEYS = "KEYS";
inline constexpr std::string_view TAGS = "TAGS";
inline constexpr std::string_view UNIQ_KEY = "UNIQ_KEY";
inline constexpr std::string_view WAIT = "WAIT";
inline constexpr std::string_view DELAY = "DELAY";
inline constexpr std::string_view RETRY_TOPIC = "RETRY_TOPIC";
inline constexpr std::string_view REAL_TOPIC = "REAL_TOPIC";
inline constexpr std::string_view REAL_QID = "REAL_QID";
inline constexpr std::string_view TRAN_MSG = "TRAN_MSG";
inline constexpr std::string_view PGROUP = "PGROUP";
inline constexpr std::string_view ORIGIN_MESSAGE_ID = "ORIGIN_MESSAGE_ID";
inline constexpr std::string_view RECONSUME_TIME = "RECONSUME_TIME";
inline constexpr std::string_view MAX_RECONSUME_TIMES = "MAX_RECONSUME_TIMES";
inline constexpr std::string_view MIN_OFFSET = "MIN_OFFSET";
inline constexpr std::string_view MAX_OFFSET = "MAX_OFFSET";
inline constexpr std::string_view CLUSTER = "CLUSTER";
inline constexpr std::string_view MSG_REGION = "MSG_REGION";
inline constexpr std::string_view TRACE_ON = "TRACE_ON";
inline constexpr std::string_view TRAN_PREPARED_QUEUE_OFFSET = "TRAN_PREPARED_QUEUE_OFFSET";
inline constexpr std::string_view TRANSACTION_CHECK_TIMES = "TRANSACTION_CHECK_TIMES";
inline constexpr std::string_view CHECK_IMMUNITY_TIME_IN_SECONDS = "CHECK_IMMUNITY_TIME_IN_SECONDS";
inline constexpr std::string_view CORRELATION_ID = "CORRELATION_ID";
inline constexpr std::string_view REPLY_TO_CLIENT = "REPLY_TO_CLIENT";
inline constexpr std::string_view TTL = "TTL";
inline constexpr std::string_view MSG_TYPE = "MSG_TYPE";
inline constexpr std::string_view ARRIVE_TIME = "ARRIVE_TIME";
inline constexpr std::string_view SHARDING_KEY = "__SHARDINGKEY";       // Apache 5.x
inline constexpr std::string_view ONS_SHARDING_KEY = "__SHARDING_KEY";  // ali-ons
inline constexpr std::string_view STARTDELIVERTIME = "__STARTDELIVERTIME";
inline constexpr std::string_view TIMER_DELIVER_MS = "TIMER_DELIVER_MS";
inline constexpr std::string_view TIMER_DELAY_SEC = "TIMER_DELAY_SEC";
inline constexpr std::string_view INSTANCE_ID = "INSTANCE_ID";
inline constexpr std::string_view BUYER_ID = "BUYER_ID";
inline constexpr std::string_view TRANSFER_FLAG = "TRANSFER_FLAG";
inline constexpr std::string_view CORRECTION_FLAG = "CORRECTION_FLAG";
inline constexpr std::string_view MQ2_FLAG = "MQ2_FLAG";
}  // namespace property

// Properties in a deterministic order; last value wins on duplicate keys (as Java's parser).
using MessageProperties = std::map<std::string, std::string, std::less<>>;

// Calls fn(name, value) for every well-formed segment in order, duplicates included. Follows
// Java's rules: split on 0x02, the first 0x01 splits name and value, segments with an empty name
// or empty value (0x01 missing, first or last) are skipped. Never fails.
template <typename Fn>
void for_each_property(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    auto end = text.find(kPropertySeparator);
    std::string_view segment = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    auto sep = segment.find(kNameValueSeparator);
    if (sep == std::string_view::npos || sep == 0 || sep + 1 == segment.size()) continue;
    fn(segment.substr(0, sep), segment.substr(sep + 1));
  }
}

MessageProperties parse_properties(std::string_view text);
// Views into `text`, in order, duplicates kept.
std::vector<std::pair<std::string_view, std::string_view>> parse_properties_view(
    std::string_view text);
// Last value of `name` without allocating; empty optional-like: returns false if absent.
bool find_property(std::string_view text, std::string_view name, std::string_view* value);

// Java's encoding: name 0x01 value, joined by 0x02, no trailing separator, empty names/values
// skipped.
std::string encode_properties(const MessageProperties& properties);
void append_property(std::string& out, std::string_view name, std::string_view value);

}  // namespace rmqc::rocketmq
