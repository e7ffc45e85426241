#pragma once

// An embedded name server + broker on free ports in a temp dir, for the client tests.

#include "broker/server/embedded_broker.h"
#include "rocketmq/client/client_config.h"
#include "testing/eventually.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>

namespace rmqc::rocketmq::testing {

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("rmqc_client_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

inline broker::EmbeddedBrokerOptions broker_options(const std::string& dir,
                                                    const std::string& name = "broker-a") {
  broker::EmbeddedBrokerOptions o;
  o.store.dir = dir;
  o.store.commit_log_segment_bytes = 16 << 20;
  o.namesrv_port = 0;
  o.broker_port = 0;
  o.vip_port = false;
  o.broker.broker_name = name;
  o.register_interval = std::chrono::milliseconds(1000);
  return o;
}

inline std::unique_ptr<broker::EmbeddedBroker> start_broker(broker::EmbeddedBrokerOptions o) {
  auto b = broker::EmbeddedBroker::start(std::move(o));
  EXPECT_TRUE(b.ok()) << b.error().to_string();
  return b.ok() ? std::move(b).value() : nullptr;
}

inline ClientConfig client_config(const std::string& namesrv) {
  ClientConfig c;
  c.namesrv_addr = namesrv;
  c.request_timeout = std::chrono::milliseconds(3000);
  return c;
}

using rmqc::testing::eventually;  // polls every 10 ms, 20 s by default

}  // namespace rmqc::rocketmq::testing
