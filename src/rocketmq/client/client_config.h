#pragma once

// Settings shared by the producer, the consumer and the admin client.

#include "rocketmq/protocol/remoting_command.h"

#include <chrono>
#include <string>

namespace rmqc::rocketmq {

struct ClientConfig {
  // "host:port[;host:port...]"; `,` is accepted too.
  std::string namesrv_addr;
  // Default "<pid>#<counter><nanos>", unique per client object, so two consumers of one group in
  // one process get different client ids (spec §4.1).
  std::string instance_name;
  std::string client_ip;  // default: first non-loopback IPv4 address
  // ACL (spec §1.7, "Optional ACL signing"): requests are signed when both are set.
  std::string access_key;
  std::string secret_key;
  std::string security_token;

  std::chrono::milliseconds request_timeout{3000};
  std::chrono::milliseconds route_refresh_interval{30'000};
  std::chrono::milliseconds heartbeat_interval{30'000};
  int io_threads = 1;
  // Names this client's threads, as top -H and ps -L show them: "io:<tag>" (network I/O),
  // "cl:<tag>" (heartbeats, route refresh) and "p:<tag>" (a consumer's pulls), cut to 15 bytes
  // keeping the tag's last "-..." part (a task id). Empty: the producer's or consumer's group.
  std::string thread_tag;
  SerializeType serialize_type = SerializeType::JSON;
};

}  // namespace rmqc::rocketmq
