// Admin calls and group membership against the embedded broker.
#include "rocketmq/client/admin.h"

#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/tests/test_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

namespace rmqc::rocketmq {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = testing::start_broker(testing::broker_options(dir_.str()));
    ASSERT_TRUE(broker_);
    auto a = Admin::start(testing::client_config(broker_->namesrv_addr()));
    ASSERT_TRUE(a.ok()) << a.error().to_string();
    admin_ = std::move(a).value();
  }
  TempDir dir_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
  std::unique_ptr<Admin> admin_;
};

TEST_F(AdminTest, TopicsRoutesAndOffsets) {
  ASSERT_TRUE(admin_->create_topic("Orders", 3).ok());
  ASSERT_TRUE(testing::eventually([&] {
    auto list = admin_->topic_list();
    return list.ok() && std::find(list->begin(), list->end(), "Orders") != list->end();
  }));
  auto route = admin_->topic_route("Orders");
  ASSERT_TRUE(route.ok()) << route.error().to_string();
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].write_queue_nums, 3);
  EXPECT_EQ(route->broker_datas[0].broker_addrs.at(0), broker_->broker_addr());

  auto cluster = admin_->cluster_info();
  ASSERT_TRUE(cluster.ok());
  EXPECT_TRUE(cluster->broker_addr_table.contains("broker-a"));

  ProducerConfig pc;
  pc.client = testing::client_config(broker_->namesrv_addr());
  auto producer = Producer::start(pc);
  ASSERT_TRUE(producer.ok());
  MessageQueue q1{"Orders", "broker-a", 1};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*producer)->send_to(Message("Orders", "x"), q1).ok());

  auto status = admin_->topic_status("Orders");
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->size(), 3u);
  EXPECT_EQ((*status)[1].max_offset, 5);
  EXPECT_EQ((*status)[0].max_offset, 0);
  EXPECT_EQ(*admin_->min_offset(q1), 0);
  EXPECT_EQ(*admin_->search_offset(q1, 0), 0);

  ASSERT_TRUE(admin_->commit_offset("G", q1, 3).ok());
  EXPECT_EQ(*admin_->committed_offset("G", q1), 3);
  auto progress = admin_->group_progress("G", {"Orders"});
  ASSERT_TRUE(progress.ok());
  ASSERT_EQ(progress->size(), 3u);
  EXPECT_EQ((*progress)[1].consumer_offset, 3);
  EXPECT_EQ((*progress)[1].lag(), 2);

  EXPECT_FALSE(admin_->create_topic("TBW102").ok());  // system topic
}

TEST_F(AdminTest, DeleteTopic) {
  ASSERT_TRUE(admin_->create_topic("Gone", 2).ok());
  ASSERT_TRUE(admin_->topic_route("Gone").ok());
  ASSERT_TRUE(admin_->delete_topic("Gone").ok());
  EXPECT_TRUE(testing::eventually([&] {
    auto route = admin_->topic_route("Gone");
    return !route.ok() && route.error().code() == ErrorCode::kNotFound;
  }));
}

TEST_F(AdminTest, ConsumerIdsOfAGroup) {
  ASSERT_TRUE(admin_->create_topic("T", 4).ok());
  EXPECT_TRUE(admin_->consumer_ids("G")->empty());
  ConsumerConfig cc;
  cc.client = testing::client_config(broker_->namesrv_addr());
  cc.group = "G";
  auto c = LitePullConsumer::start(cc);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->subscribe("T").ok());
  auto ids = admin_->consumer_ids("G");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<std::string>{(*c)->client_id()});
}

TEST_F(AdminTest, MembershipFollowsJoinsAndLeaves) {
  ASSERT_TRUE(admin_->create_topic("cluster-topic", 1).ok());
  std::mutex mutex;
  std::vector<std::string> seen_by_a;
  GroupMembership::Options o;
  o.client = testing::client_config(broker_->namesrv_addr());
  o.group = "workers";
  o.topic = "cluster-topic";
  o.poll_interval = 60s;  // only notifications, so the test shows they work
  auto a = GroupMembership::start(o, [&](const std::vector<std::string>& ids) {
    std::lock_guard lock(mutex);
    seen_by_a = ids;
  });
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ((*a)->members(), std::vector<std::string>{(*a)->client_id()});
  auto b = GroupMembership::start(o, nullptr);
  ASSERT_TRUE(b.ok());
  auto both = std::vector<std::string>{(*a)->client_id(), (*b)->client_id()};
  std::sort(both.begin(), both.end());
  EXPECT_TRUE(testing::eventually([&] {
    std::lock_guard lock(mutex);
    return seen_by_a == both;
  }));
  (*b)->stop();
  EXPECT_TRUE(testing::eventually([&] {
    std::lock_guard lock(mutex);
    return seen_by_a == std::vector<std::string>{(*a)->client_id()};
  }));
}

}  // namespace
}  // namespace rmqc::rocketmq
