#pragma once

// What the broker server tests share: a private temp dir, an embedded name server + broker on
// free ports, a blocking remoting connection to it and a request helper, polling for a
// condition.

#include "broker/server/embedded_broker.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_properties.h"
#include "rocketmq/protocol/remoting_command.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/remoting/blocking_client.h"
#include "testing/eventually.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>

namespace rmqc::broker::testing {

// <tmp>/<prefix>_<pid>_<n>, empty, removed again when destroyed.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "rmqc_broker_test") {
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

// Name server and broker on free ports, no VIP port, small commit-log segments.
inline EmbeddedBrokerOptions test_options(const std::string& dir) {
  EmbeddedBrokerOptions o;
  o.store.dir = dir;
  o.store.commit_log_segment_bytes = 8 << 20;
  o.namesrv_port = 0;
  o.broker_port = 0;
  o.vip_port = false;
  return o;
}

inline std::unique_ptr<EmbeddedBroker> start_broker(const EmbeddedBrokerOptions& o) {
  auto b = EmbeddedBroker::start(o);
  EXPECT_TRUE(b.ok()) << b.error().to_string();
  return b.ok() ? std::move(b).value() : nullptr;
}

inline std::unique_ptr<remoting::BlockingClient> connect_to(const std::string& addr) {
  auto c = std::make_unique<remoting::BlockingClient>();
  auto r = c->connect(addr, std::chrono::seconds(2));
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return c;
}

// The reply; when there is none, a failed expectation and a command with code -1 (never
// SUCCESS, which is 0), so later checks of the reply fail too.
inline rocketmq::RemotingCommand call(remoting::BlockingClient& c,
                                      rocketmq::RemotingCommand request) {
  auto r = c.invoke(std::move(request), std::chrono::seconds(5));
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  if (r.ok()) return std::move(r).value();
  rocketmq::RemotingCommand none;
  none.code = -1;
  return none;
}

// SEND_MESSAGE_V2 as a producer of group "pg" sends it: WAIT=true and `properties`.
inline rocketmq::RemotingCommand send_request(const std::string& topic, std::string body,
                                              rocketmq::MessageProperties properties = {},
                                              std::int32_t queue_id = 0) {
  rocketmq::SendMessageRequestHeader h;
  h.producer_group = "pg";
  h.topic = topic;
  h.queue_id = queue_id;
  h.born_timestamp = 1700000000000;
  properties["WAIT"] = "true";
  h.properties = rocketmq::encode_properties(properties);
  auto cmd = rocketmq::RemotingCommand::request(rocketmq::request_code::SEND_MESSAGE_V2,
                                                h.to_v2_ext_fields());
  cmd.body = std::move(body);
  return cmd;
}

// PULL_MESSAGE of group "cg" for up to 32 records from `offset`; held on the broker up to
// `suspend_ms` when there are none (0: answered at once).
inline rocketmq::RemotingCommand pull_request(const std::string& topic, std::int32_t queue,
                                              std::int64_t offset, std::int64_t suspend_ms = 0,
                                              const std::string& sub = "*") {
  rocketmq::PullMessageRequestHeader h;
  h.consumer_group = "cg";
  h.topic = topic;
  h.queue_id = queue;
  h.queue_offset = offset;
  h.max_msg_nums = 32;
  h.sys_flag = rocketmq::pull_sysflag::FLAG_SUBSCRIPTION |
               (suspend_ms > 0 ? rocketmq::pull_sysflag::FLAG_SUSPEND : 0);
  h.suspend_timeout_millis = suspend_ms;
  h.subscription = sub;
  return rocketmq::RemotingCommand::request(rocketmq::request_code::PULL_MESSAGE,
                                            h.to_ext_fields());
}

using rmqc::testing::eventually;  // polls every 10 ms, 20 s by default

}  // namespace rmqc::broker::testing
