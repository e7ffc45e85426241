#pragma once

// RemotingCommand: one request or response of the RocketMQ remoting protocol (spec §1), in
// memory. Wire encoding lives in frame_codec.h.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace rmqc::rocketmq {

enum class SerializeType : std::uint8_t { JSON = 0, ROCKETMQ = 1 };

// The sender's language; bytes outside the table are kept as they came (Java accepts them).
enum class LanguageCode : std::uint8_t {
  JAVA = 0,
  CPP = 1,
  DOTNET = 2,
  PYTHON = 3,
  DELPHI = 4,
  ERLANG = 5,
  RUBY = 6,
  OTHER = 7,
  HTTP = 8,
  GO = 9,
  PHP = 10,
  OMS = 11,
  RUST = 12,
};

// "JAVA" for JAVA; "OTHER" for bytes outside the table.
std::string_view language_name(LanguageCode language);
// false for unknown names.
bool parse_language(std::string_view name, LanguageCode* out);

// Flag bits (spec §1.5), RocketMQ's RemotingCommand RPC_TYPE / RPC_ONEWAY.
inline constexpr std::int32_t RPC_TYPE = 0x1;
inline constexpr std::int32_t RPC_ONEWAY = 0x2;

// MQVersion ordinals that matter (spec §1.7).
namespace mq_version {
inline constexpr std::int32_t V3_0_11 = 37;
inline constexpr std::int32_t V3_4_9 = 121;
inline constexpr std::int32_t V4_1_0_SNAPSHOT = 232;
inline constexpr std::int32_t V4_9_4 = 401;
inline constexpr std::int32_t V4_9_7 = 407;
inline constexpr std::int32_t V4_9_8 = 409;
inline constexpr std::int32_t V5_3_3 = 479;
}  // namespace mq_version

// What we send by default: ≥ 401 gets standard JSON route data, ≥ 409 is what Java clients
// expect from a broker.
inline constexpr std::int32_t kDefaultVersion = mq_version::V4_9_8;

// Custom header fields, string to string, sorted (fastjson's key order is meaningless anyway).
using ExtFields = std::map<std::string, std::string, std::less<>>;

struct RemotingCommand {
  std::int32_t code = 0;
  LanguageCode language = LanguageCode::JAVA;
  std::int32_t version = kDefaultVersion;
  std::int32_t opaque = 0;
  std::int32_t flag = 0;
  std::string remark;  // empty = absent/null
  ExtFields ext_fields;
  // JSON only: write `"extFields":{}` even when ext_fields is empty. Java replies to commands
  // with a header type do that (spec §1.3) and JavaScript clients index into it. Set by decoding
  // when the peer sent an extFields object.
  bool ext_fields_present = false;
  SerializeType serialize_type = SerializeType::JSON;
  std::string body;

  bool is_response() const { return (flag & RPC_TYPE) != 0; }
  bool is_oneway() const { return (flag & RPC_ONEWAY) != 0; }
  void mark_response() { flag |= RPC_TYPE; }
  void mark_oneway() { flag |= RPC_ONEWAY; }

  static RemotingCommand request(std::int32_t code, ExtFields ext_fields = {});
  // A response to `request`: same opaque and serialize type, flag = RPC_TYPE.
  static RemotingCommand response_to(const RemotingCommand& request, std::int32_t code,
                                     std::string remark = {});

  // Convenience lookup: nullptr if absent.
  const std::string* ext(std::string_view key) const;
};

}  // namespace rmqc::rocketmq
