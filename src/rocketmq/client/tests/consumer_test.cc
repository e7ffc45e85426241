// The lite-pull consumer against the embedded broker over real TCP: assign, subscribe with
// rebalance, commit/resume, seek, pause/resume, tag filtering, long polling.
#include "rocketmq/client/client_instance.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/tests/test_env.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

namespace rmqc::rocketmq {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

MessageQueue mq(std::string topic, std::string broker, int id) {
  return MessageQueue{std::move(topic), std::move(broker), id};
}

TEST(AllocateAveragely, MatchesTheSpecExamples) {
  std::vector<MessageQueue> q8;
  for (const char* b : {"a", "b"}) {
    for (int i = 0; i < 4; ++i) q8.push_back(mq("T", b, i));
  }
  std::vector<std::string> ids = {"c0", "c1", "c2"};
  EXPECT_EQ(allocate_averagely(q8, ids, "c0"),
            (std::vector<MessageQueue>{mq("T", "a", 0), mq("T", "a", 1), mq("T", "a", 2)}));
  EXPECT_EQ(allocate_averagely(q8, ids, "c1"),
            (std::vector<MessageQueue>{mq("T", "a", 3), mq("T", "b", 0), mq("T", "b", 1)}));
  EXPECT_EQ(allocate_averagely(q8, ids, "c2"),
            (std::vector<MessageQueue>{mq("T", "b", 2), mq("T", "b", 3)}));
  EXPECT_TRUE(allocate_averagely(q8, ids, "other").empty());
  std::vector<MessageQueue> q4(q8.begin(), q8.begin() + 4);
  std::vector<std::string> five = {"c0", "c1", "c2", "c3", "c4"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(allocate_averagely(q4, five, five[i]).size(), 1u);
  }
  EXPECT_TRUE(allocate_averagely(q4, five, "c4").empty());
}

class ConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = testing::start_broker(testing::broker_options(dir_.str()));
    ASSERT_TRUE(broker_);
    ASSERT_TRUE(broker_->broker().create_topic("T", 4, 4).ok());
    ProducerConfig pc;
    pc.client = testing::client_config(broker_->namesrv_addr());
    pc.group = "PG";
    auto p = Producer::start(pc);
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    producer_ = std::move(p).value();
  }

  std::unique_ptr<LitePullConsumer> make_consumer(const std::string& group,
                                                  ConsumerConfig config = {}) {
    config.client = testing::client_config(broker_->namesrv_addr());
    config.group = group;
    config.rebalance_interval = 1s;
    config.long_poll_suspend = 2s;
    auto c = LitePullConsumer::start(config);
    EXPECT_TRUE(c.ok()) << c.error().to_string();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  void produce(int count, const std::string& prefix = "m", const std::string& tags = "") {
    for (int i = 0; i < count; ++i) {
      auto r = producer_->send(Message("T", prefix + std::to_string(i), tags));
      ASSERT_TRUE(r.ok()) << r.error().to_string();
    }
  }

  // Polls until `count` messages arrived or `timeout` passed.
  static std::vector<std::string> drain(LitePullConsumer& c, std::size_t count,
                                        std::chrono::milliseconds timeout = 10s) {
    std::vector<std::string> out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto got = c.poll(200ms);
      EXPECT_TRUE(got.ok());
      if (!got.ok()) break;
      for (const auto& m : *got) out.emplace_back(m.body());
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
  std::unique_ptr<Producer> producer_;
};

TEST_F(ConsumerTest, AssignReceivesEveryMessageWithMetadata) {
  produce(100);
  auto c = make_consumer("G1");
  auto queues = c->fetch_queues("T");
  ASSERT_TRUE(queues.ok());
  ASSERT_EQ(queues->size(), 4u);
  ASSERT_TRUE(c->assign(*queues).ok());
  std::set<std::string> bodies;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (bodies.size() < 100 && std::chrono::steady_clock::now() < deadline) {
    auto got = c->poll(200ms);
    ASSERT_TRUE(got.ok());
    for (const auto& m : *got) {
      bodies.emplace(m.body());
      EXPECT_EQ(m.topic(), "T");
      EXPECT_EQ(m.queue().broker_name, "broker-a");
      EXPECT_EQ(m.msg_id().size(), 32u);
      EXPECT_NE(m.msg_id(), m.offset_msg_id());
      EXPECT_GT(m.store_timestamp(), 0);
    }
  }
  EXPECT_EQ(bodies.size(), 100u);
}

TEST_F(ConsumerTest, LongPollingDeliversPromptly) {
  auto c = make_consumer("G1");
  ASSERT_TRUE(c->subscribe("T").ok());
  ASSERT_TRUE(testing::eventually([&] { return c->assignment().size() == 4; }));
  std::this_thread::sleep_for(300ms);  // the pulls are parked on the broker now
  std::thread sender([&] {
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(producer_->send(Message("T", "late")).ok());
  });
  auto start = std::chrono::steady_clock::now();
  auto got = drain(*c, 1, 5s);
  auto took = std::chrono::steady_clock::now() - start;
  sender.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "late");
  EXPECT_LT(took, 1500ms);
}

TEST_F(ConsumerTest, CommitAndResumeFromCommittedOffsets) {
  produce(40, "first");
  {
    ConsumerConfig config;
    config.auto_commit = false;
    auto c = make_consumer("G2", config);
    ASSERT_TRUE(c->subscribe("T").ok());
    EXPECT_EQ(drain(*c, 40).size(), 40u);
    ASSERT_TRUE(c->commit().ok());
    for (const auto& q : c->assignment()) {
      auto committed = c->committed(q);
      ASSERT_TRUE(committed.ok());
      EXPECT_EQ(*committed, 10) << q.queue_id;
      EXPECT_EQ(c->position(q), 10);
    }
  }
  produce(20, "second");
  auto c = make_consumer("G2");
  ASSERT_TRUE(c->subscribe("T").ok());
  auto got = drain(*c, 20);
  ASSERT_EQ(got.size(), 20u);
  for (const auto& body : got) EXPECT_EQ(body.rfind("second", 0), 0u) << body;
  EXPECT_TRUE(c->poll(300ms)->empty());
}

TEST_F(ConsumerTest, AutoCommitOnShutdown) {
  produce(8);
  {
    auto c = make_consumer("G3");
    ASSERT_TRUE(c->subscribe("T").ok());
    EXPECT_EQ(drain(*c, 8).size(), 8u);
  }
  auto c = make_consumer("G3");
  auto queues = c->fetch_queues("T");
  ASSERT_TRUE(queues.ok());
  for (const auto& q : *queues) EXPECT_EQ(*c->committed(q), 2);
}

TEST_F(ConsumerTest, SeekPauseAndResume) {
  produce(40);
  auto c = make_consumer("G4");
  auto queues = c->fetch_queues("T");
  ASSERT_TRUE(queues.ok());
  ASSERT_TRUE(c->assign(*queues).ok());
  EXPECT_EQ(drain(*c, 40).size(), 40u);

  const auto q0 = (*queues)[0];
  ASSERT_TRUE(c->seek_to_begin(q0).ok());
  auto again = drain(*c, 10);
  EXPECT_EQ(again.size(), 10u);
  ASSERT_TRUE(c->seek(q0, 7).ok());
  EXPECT_EQ(drain(*c, 3).size(), 3u);
  ASSERT_TRUE(c->seek_to_end(q0).ok());
  EXPECT_TRUE(c->poll(300ms)->empty());

  // A timestamp before every message finds the first one.
  ASSERT_TRUE(c->seek_to_timestamp(q0, 0).ok());
  EXPECT_EQ(drain(*c, 10).size(), 10u);

  c->pause({q0});
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(producer_->send_to(Message("T", "p" + std::to_string(i)), q0).ok());
  }
  EXPECT_TRUE(c->poll(500ms)->empty());
  c->resume({q0});
  EXPECT_EQ(drain(*c, 20).size(), 20u);
}

TEST_F(ConsumerTest, TagExpressionFilters) {
  produce(10, "a", "TagA");
  produce(10, "b", "TagB");
  produce(10, "c", "TagC");
  auto c = make_consumer("G5");
  ASSERT_TRUE(c->subscribe("T", "TagA || TagC").ok());
  auto got = drain(*c, 20);
  EXPECT_EQ(got.size(), 20u);
  for (const auto& b : got) EXPECT_NE(b[0], 'b');
  EXPECT_TRUE(c->poll(300ms)->empty());
}

TEST_F(ConsumerTest, RebalanceWhenAConsumerJoinsAndLeaves) {
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread sender([&] {
    while (!stop) {
      if (producer_->send(Message("T", "r" + std::to_string(sent.load()))).ok()) sent++;
      std::this_thread::sleep_for(2ms);
    }
  });
  std::mutex seen_mutex;
  std::set<std::string> seen;
  auto consume = [&](LitePullConsumer& c) {
    auto got = c.poll(50ms);
    if (!got.ok()) return;
    std::lock_guard lock(seen_mutex);
    for (const auto& m : *got) seen.emplace(m.body());
  };

  auto a = make_consumer("GR");
  std::vector<MessageQueue> revoked_from_a;
  std::mutex revoked_mutex;
  a->set_assignment_listener({[&](const std::vector<MessageQueue>& revoked) {
                                std::lock_guard lock(revoked_mutex);
                                revoked_from_a.insert(revoked_from_a.end(), revoked.begin(),
                                                      revoked.end());
                              },
                              nullptr});
  ASSERT_TRUE(a->subscribe("T").ok());
  EXPECT_EQ(a->assignment().size(), 4u);
  for (int i = 0; i < 10; ++i) consume(*a);

  auto b = make_consumer("GR");
  std::atomic<bool> b_running{true};
  std::thread b_thread([&] {
    ASSERT_TRUE(b->subscribe("T").ok());
    while (b_running) consume(*b);
  });
  // Both end up with two queues each, disjoint.
  bool split = testing::eventually(
      [&] {
        consume(*a);
        auto qa = a->assignment();
        auto qb = b->assignment();
        if (qa.size() != 2 || qb.size() != 2) return false;
        std::set<MessageQueue> all(qa.begin(), qa.end());
        all.insert(qb.begin(), qb.end());
        return all.size() == 4;
      },
      15s);
  EXPECT_TRUE(split);
  {
    std::lock_guard lock(revoked_mutex);
    EXPECT_EQ(revoked_from_a.size(), 2u);
  }
  for (int i = 0; i < 10; ++i) consume(*a);

  // B leaves: A takes everything back.
  b_running = false;
  b_thread.join();
  b->shutdown();
  EXPECT_TRUE(testing::eventually(
      [&] {
        consume(*a);
        return a->assignment().size() == 4;
      },
      15s));
  stop = true;
  sender.join();
  const int total = sent.load();
  // Nothing lost: every sent message shows up at least once.
  EXPECT_TRUE(testing::eventually(
      [&] {
        consume(*a);
        std::lock_guard lock(seen_mutex);
        return seen.size() >= static_cast<std::size_t>(total);
      },
      15s));
  std::lock_guard lock(seen_mutex);
  for (int i = 0; i < total; ++i) {
    EXPECT_TRUE(seen.contains("r" + std::to_string(i))) << "lost r" << i;
  }
}

TEST_F(ConsumerTest, SubscribeAndAssignAreExclusive) {
  auto c = make_consumer("G6");
  ASSERT_TRUE(c->subscribe("T").ok());
  auto queues = c->fetch_queues("T");
  ASSERT_TRUE(queues.ok());
  EXPECT_FALSE(c->assign(*queues).ok());
}

}  // namespace
}  // namespace rmqc::rocketmq
