// Admin calls and group membership against the embedded broker.
#include "rocketmq/client/admin.h"

#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/tests/test_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>

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

TEST_F(AdminTest, QueryMessagesConnectionsAndProgressFromTheBrokersStats) {
  ASSERT_TRUE(admin_->create_topic("Q", 2).ok());
  ProducerConfig pc;
  pc.client = testing::client_config(broker_->namesrv_addr());
  auto producer = Producer::start(pc);
  ASSERT_TRUE(producer.ok());
  std::vector<SendResult> sent;
  for (int i = 0; i < 6; ++i) {
    Message m("Q", "body-" + std::to_string(i));
    m.keys = i % 2 == 0 ? "even all" : "odd all";
    auto r = (*producer)->send_to(m, MessageQueue{"Q", "broker-a", i % 2});
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    sent.push_back(*r);
  }
  auto even = admin_->query_messages("Q", "even");
  ASSERT_TRUE(even.ok()) << even.error().to_string();
  std::set<std::string> bodies;
  for (const auto& m : *even) bodies.insert(std::string(m.body()));
  EXPECT_EQ(bodies, (std::set<std::string>{"body-0", "body-2", "body-4"}));
  auto by_id = admin_->query_messages("Q", sent[3].msg_id, /*unique_key=*/true);
  ASSERT_TRUE(by_id.ok());
  ASSERT_EQ(by_id->size(), 1u);
  EXPECT_EQ((*by_id)[0].body(), "body-3");
  EXPECT_EQ((*by_id)[0].msg_id(), sent[3].msg_id);
  EXPECT_TRUE(admin_->query_messages("Q", "nope")->empty());
  auto viewed = admin_->view_message(sent[5].offset_msg_id);
  ASSERT_TRUE(viewed.ok()) << viewed.error().to_string();
  EXPECT_EQ(viewed->body(), "body-5");
  EXPECT_EQ(viewed->keys(), "odd all");
  auto viewed_by_uniq = admin_->view_message(sent[1].msg_id, "Q");
  ASSERT_TRUE(viewed_by_uniq.ok());
  EXPECT_EQ(viewed_by_uniq->body(), "body-1");

  // Connections: none, then a live lite-pull consumer.
  auto offline = admin_->consumer_connections("QG");
  ASSERT_FALSE(offline.ok());
  EXPECT_EQ(offline.error().message(), "the consumer group[QG] not online");
  ConsumerConfig cc;
  cc.client = testing::client_config(broker_->namesrv_addr());
  cc.group = "QG";
  auto c = LitePullConsumer::start(cc);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->subscribe("Q", "TagA || TagB").ok());
  auto online = admin_->consumer_connections("QG");
  ASSERT_TRUE(online.ok()) << online.error().to_string();
  ASSERT_EQ(online->connections.size(), 1u);
  EXPECT_EQ(online->connections[0].client_id, (*c)->client_id());
  EXPECT_EQ(online->connections[0].language, "CPP");
  EXPECT_FALSE(online->connections[0].client_addr.empty());
  ASSERT_TRUE(online->subscriptions.contains("Q"));
  EXPECT_EQ(online->subscriptions.at("Q").sub_string, "TagA || TagB");
  EXPECT_EQ(online->message_model, "CLUSTERING");

  // Progress without topics: the topics the group committed offsets for (GET_CONSUME_STATS).
  ASSERT_TRUE(admin_->commit_offset("QG", MessageQueue{"Q", "broker-a", 1}, 2).ok());
  auto progress = admin_->group_progress("QG", {});
  ASSERT_TRUE(progress.ok()) << progress.error().to_string();
  ASSERT_EQ(progress->size(), 2u);
  EXPECT_EQ((*progress)[1].queue, (MessageQueue{"Q", "broker-a", 1}));
  EXPECT_EQ((*progress)[1].broker_offset, 3);
  EXPECT_EQ((*progress)[1].consumer_offset, 2);
  EXPECT_EQ((*progress)[1].lag(), 1);
  EXPECT_GT((*progress)[1].last_timestamp, 0);
  auto status = admin_->topic_status("Q");
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->size(), 2u);
  EXPECT_EQ((*status)[0].max_offset, 3);
  EXPECT_GT((*status)[0].last_update_timestamp, 0);
}

TEST(QueueKeyedMap, ParsesFastjsonObjectKeysAndRejectsGarbage) {
  auto ok = parse_queue_keyed_map(
      R"({"consumeTps":0.0,"offsetTable":{{"brokerName":"b","queueId":1,"topic":"T"}:)"
      R"({"brokerOffset":5,"consumerOffset":2,"lastTimestamp":0},{"brokerName":"b","queueId":0,)"
      R"("topic":"T\"x"}:{"brokerOffset":1}}})",
      "offsetTable");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].first, (MessageQueue{"T", "b", 1}));
  EXPECT_EQ((*ok)[0].second, R"({"brokerOffset":5,"consumerOffset":2,"lastTimestamp":0})");
  EXPECT_EQ((*ok)[1].first.topic, "T\"x");
  EXPECT_TRUE(parse_queue_keyed_map(R"({"offsetTable":{}})", "offsetTable")->empty());
  EXPECT_FALSE(parse_queue_keyed_map(R"({"offsetTable":{{"brokerName":"b")", "offsetTable").ok());
  EXPECT_FALSE(parse_queue_keyed_map(R"({"offsetTable":{"x":1}})", "offsetTable").ok());
  EXPECT_FALSE(parse_queue_keyed_map(R"({"offsetTable":{{"a":1}:{}}})", "offsetTable").ok());
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
