// Interop with ali-ons (the npm RocketMQ client) on the embedded broker: our producer with an
// ali-ons consumer, an ali-ons producer with our consumer. Skipped unless node and ali-ons are
// installed (tests/e2e/ali_ons/run.sh installs them; or set NODE_PATH). Uses
// bench/ali_ons_bench.js, whose consumer checks every body's length.
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/tests/test_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace rmqc::rocketmq {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string ali_ons_path() {
  if (const char* env = std::getenv("NODE_PATH"); env && fs::exists(fs::path(env) / "ali-ons")) {
    return env;
  }
  fs::path work =
      fs::path("/tmp") / ("rmqc-e2e-ali-ons-" + std::to_string(::getuid())) / "node_modules";
  if (fs::exists(work / "ali-ons") && std::system("node --version >/dev/null 2>&1") == 0) {
    return work.string();
  }
  return {};
}

int run_node(const std::string& node_path, const std::string& args) {
  // The test runs in src/rocketmq/client (CTest WORKING_DIRECTORY); the script is in bench/.
  fs::path script = fs::path(RMQC_SOURCE_DIR) / "bench" / "ali_ons_bench.js";
  std::string cmd =
      "NODE_PATH='" + node_path + "' timeout 90 node '" + script.string() + "' " + args;
  return std::system(cmd.c_str());
}

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_path_ = ali_ons_path();
    if (node_path_.empty()) GTEST_SKIP() << "node or ali-ons not installed";
    broker_ = testing::start_broker(testing::broker_options(dir_.str()));
    ASSERT_TRUE(broker_);
  }
  testing::TempDir dir_;
  std::string node_path_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
};

TEST_F(InteropTest, OurProducerAliOnsConsumer) {
  ASSERT_TRUE(broker_->broker().create_topic("interop_a", 4, 4).ok());
  ProducerConfig pc;
  pc.client = testing::client_config(broker_->namesrv_addr());
  auto producer = Producer::start(pc);
  ASSERT_TRUE(producer.ok());
  // 5000-byte bodies: compressed by our producer (sysFlag 0x301), inflated by ali-ons.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE((*producer)->send(Message("interop_a", std::string(5000, 'a' + i % 26), "TagA")));
  }
  std::vector<Message> batch(20, Message("interop_a", std::string(5000, 'b')));
  ASSERT_TRUE((*producer)->send_batch(batch).ok());
  EXPECT_EQ(run_node(node_path_, "consume --namesrv " + broker_->namesrv_addr() +
                                     " --topic interop_a --count 120 --size 5000"),
            0);
}

TEST_F(InteropTest, AliOnsProducerOurConsumer) {
  ASSERT_TRUE(broker_->broker().create_topic("interop_b", 4, 4).ok());
  // ali-ons sends count + 1 messages (one to warm its route), compressed above 4 KiB.
  ASSERT_EQ(run_node(node_path_, "produce --namesrv " + broker_->namesrv_addr() +
                                     " --topic interop_b --count 49 --size 6000 --concurrency 4"),
            0);
  ConsumerConfig cc;
  cc.client = testing::client_config(broker_->namesrv_addr());
  cc.group = "interop";
  auto consumer = LitePullConsumer::start(cc);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->subscribe("interop_b").ok());
  std::size_t got = 0;
  EXPECT_TRUE(testing::eventually(
      [&] {
        auto polled = (*consumer)->poll(100ms);
        if (!polled.ok()) return false;
        for (const auto& m : *polled) {
          EXPECT_EQ(m.body().size(), 6000u);
          EXPECT_EQ(m.tags(), "TagA");
          EXPECT_EQ(m.msg_id(), m.offset_msg_id());  // ali-ons sets no UNIQ_KEY
          ++got;
        }
        return got >= 50;
      },
      20s));
  EXPECT_EQ(got, 50u);
}

}  // namespace
}  // namespace rmqc::rocketmq
