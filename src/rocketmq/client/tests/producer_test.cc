// The producer against the embedded broker over real TCP.
#include "rocketmq/client/producer.h"

#include "rocketmq/client/client_instance.h"
#include "rocketmq/client/tests/test_env.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/message_id.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <set>

namespace rmqc::rocketmq {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

class ProducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = testing::start_broker(testing::broker_options(dir_.str()));
    ASSERT_TRUE(broker_);
    ASSERT_TRUE(broker_->broker().create_topic("T", 4, 4).ok());
    producer_ = make_producer();
  }

  std::unique_ptr<Producer> make_producer(ProducerConfig config = {}) {
    config.client = testing::client_config(broker_->namesrv_addr());
    config.group = "PG";
    auto p = Producer::start(config);
    EXPECT_TRUE(p.ok()) << p.error().to_string();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  // Every stored record of topic/queue, decoded.
  std::vector<std::string> stored(const std::string& topic, int queue,
                                  std::vector<StoredMessageView>* views = nullptr) {
    std::vector<std::string> out;
    keep_.clear();
    auto got = broker_->store().get_messages(topic, queue, 0, 1000, 64 << 20);
    if (!got.ok()) return out;
    for (const auto& m : got->messages) {
      keep_.emplace_back(m.bytes);
      auto v = decode_stored_message(keep_.back());
      EXPECT_TRUE(v.ok());
      if (!v.ok()) continue;
      auto body = decode_body(v->body, v->sys_flag);
      out.push_back(body.ok() ? *body : std::string("<bad>"));
      if (views) views->push_back(*v);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
  std::unique_ptr<Producer> producer_;
  std::deque<std::string> keep_;
};

TEST_F(ProducerTest, SyncSendFillsTheSendResultAndStoresProperties) {
  Message m("T", "hello", "TagA", "k1 k2");
  m.properties["color"] = "blue";
  auto r = producer_->send(m);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->status, SendStatus::kSendOk);
  EXPECT_EQ(r->queue.topic, "T");
  EXPECT_EQ(r->queue.broker_name, "broker-a");
  EXPECT_EQ(r->msg_id.size(), 32u);
  auto offset_id = decode_offset_msg_id(r->offset_msg_id);
  ASSERT_TRUE(offset_id.ok());
  EXPECT_EQ(offset_id->store_host.to_string(), broker_->broker_addr());
  EXPECT_EQ(r->queue_offset, 0);

  std::vector<StoredMessageView> views;
  auto bodies = stored("T", r->queue.queue_id, &views);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], "hello");
  auto props = parse_properties(views[0].properties);
  EXPECT_EQ(props["TAGS"], "TagA");
  EXPECT_EQ(props["KEYS"], "k1 k2");
  EXPECT_EQ(props["color"], "blue");
  EXPECT_EQ(props["UNIQ_KEY"], r->msg_id);
  EXPECT_EQ(views[0].offset_msg_id(), r->offset_msg_id);
}

TEST_F(ProducerTest, RoundRobinCoversEveryQueue) {
  std::map<int, int> per_queue;
  for (int i = 0; i < 40; ++i) {
    auto r = producer_->send(Message("T", "m" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    per_queue[r->queue.queue_id]++;
  }
  ASSERT_EQ(per_queue.size(), 4u);
  for (auto [q, n] : per_queue) EXPECT_EQ(n, 10) << "queue " << q;
}

TEST_F(ProducerTest, SameKeySameQueueInOrder) {
  std::map<std::string, std::set<int>> queues_of_key;
  for (int i = 0; i < 100; ++i) {
    std::string key = "key-" + std::to_string(i % 7);
    auto r = producer_->send_by_key(Message("T", key + ":" + std::to_string(i)), key);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    queues_of_key[key].insert(r->queue.queue_id);
    EXPECT_EQ(static_cast<std::size_t>(r->queue.queue_id), Producer::queue_for_key(key, 4));
  }
  for (const auto& [key, queues] : queues_of_key) EXPECT_EQ(queues.size(), 1u) << key;
  // Per key, the stored order is the send order.
  for (int q = 0; q < 4; ++q) {
    std::map<std::string, int> last;
    for (const auto& body : stored("T", q)) {
      auto colon = body.find(':');
      std::string key = body.substr(0, colon);
      int seq = std::stoi(body.substr(colon + 1));
      if (last.contains(key)) {
        EXPECT_GT(seq, last[key]);
      }
      last[key] = seq;
    }
  }
}

TEST_F(ProducerTest, AsyncCallbacksAndFutures) {
  constexpr int kCount = 500;
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < kCount; ++i) {
    producer_->send_async(Message("T", "a" + std::to_string(i)),
                          [&](Result<SendResult> r) { (r.ok() ? ok : failed)++; });
  }
  auto f = producer_->send_async(Message("T", "future"));
  auto r = f.get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(testing::eventually([&] { return ok + failed == kCount; }));
  EXPECT_EQ(failed.load(), 0);
  std::size_t total = 0;
  for (int q = 0; q < 4; ++q) total += stored("T", q).size();
  EXPECT_EQ(total, static_cast<std::size_t>(kCount + 1));
}

TEST_F(ProducerTest, OnewayIsStored) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(producer_->send_oneway(Message("T", "o")).ok());
  EXPECT_TRUE(testing::eventually([&] {
    std::size_t total = 0;
    for (int q = 0; q < 4; ++q) total += stored("T", q).size();
    return total == 20;
  }));
}

TEST_F(ProducerTest, BatchGetsConsecutiveOffsets) {
  std::vector<Message> batch;
  for (int i = 0; i < 10; ++i) {
    batch.emplace_back("T", "b" + std::to_string(i), "TagB",
                       i % 2 == 0 ? "k" + std::to_string(i) : "");
    batch.back().flag = i;
    if (i % 3 == 0) batch.back().properties["user.prop"] = std::string(i * 5 + 1, 'v');
  }
  auto r = producer_->send_batch(batch);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(std::count(r->msg_id.begin(), r->msg_id.end(), ','), 9);
  EXPECT_EQ(std::count(r->offset_msg_id.begin(), r->offset_msg_id.end(), ','), 9);
  std::vector<StoredMessageView> views;
  auto bodies = stored("T", r->queue.queue_id, &views);
  ASSERT_EQ(bodies.size(), 10u);
  std::string_view ids = r->msg_id;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(bodies[i], "b" + std::to_string(i));
    EXPECT_EQ(views[i].queue_offset, r->queue_offset + i);
    EXPECT_EQ(views[i].flag, i);
    // Each entry's properties, written in place into the batch body, read back whole: the
    // message's own, TAGS, KEYS when set, and the UNIQ_KEY the result reports for it (the broker
    // adds its own).
    auto props = parse_properties(views[i].properties);
    EXPECT_EQ(props.count("KEYS"), i % 2 == 0 ? 1u : 0u);
    EXPECT_EQ(props.count("user.prop"), i % 3 == 0 ? 1u : 0u);
    EXPECT_EQ(props["TAGS"], "TagB");
    if (i % 2 == 0) {
      EXPECT_EQ(props["KEYS"], "k" + std::to_string(i));
    }
    if (i % 3 == 0) {
      EXPECT_EQ(props["user.prop"], std::string(i * 5 + 1, 'v'));
    }
    const auto comma = ids.find(',');
    EXPECT_EQ(props["UNIQ_KEY"], ids.substr(0, comma));
    EXPECT_TRUE(decode_uniq_key(props["UNIQ_KEY"]).ok());
    ids = comma == std::string_view::npos ? std::string_view() : ids.substr(comma + 1);
  }
}

TEST_F(ProducerTest, AsyncBatchByKeyLandsOnTheKeysQueue) {
  std::vector<Message> batch;
  for (int i = 0; i < 5; ++i) batch.emplace_back("T", "k" + std::to_string(i), "", "order-7");
  auto single = producer_->send_by_key(Message("T", "first", "", "order-7"), "order-7");
  ASSERT_TRUE(single.ok()) << single.error().to_string();
  std::promise<Result<SendResult>> done;
  producer_->send_batch_async(batch, "order-7",
                              [&](Result<SendResult> r) { done.set_value(std::move(r)); });
  auto r = done.get_future().get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->queue.queue_id, single->queue.queue_id) << "the batch left the key's queue";
  EXPECT_EQ(r->queue_offset, single->queue_offset + 1);
  auto bodies = stored("T", r->queue.queue_id);
  ASSERT_EQ(bodies.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bodies[1 + i], "k" + std::to_string(i));
  // A bad batch fails through the callback, not by throwing or blocking.
  std::promise<Result<SendResult>> bad;
  producer_->send_batch_async({}, "", [&](Result<SendResult> e) { bad.set_value(std::move(e)); });
  EXPECT_FALSE(bad.get_future().get().ok());
}

TEST_F(ProducerTest, CompressesLargeBodies) {
  std::string body(20000, 'x');
  for (std::size_t i = 0; i < body.size(); i += 7) body[i] = static_cast<char>('a' + i % 26);
  auto r = producer_->send(Message("T", body));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  std::vector<StoredMessageView> views;
  auto bodies = stored("T", r->queue.queue_id, &views);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(views[0].sys_flag & 0x301, 0x301);
  EXPECT_LT(views[0].body.size(), body.size());
  EXPECT_EQ(bodies[0], body);
}

TEST_F(ProducerTest, RejectsOversizedAndInvalidMessages) {
  ProducerConfig config;
  config.max_message_size = 1024;
  auto small = make_producer(config);
  auto r = small->send(Message("T", std::string(2000, 'x')));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(r.error().is_retriable());
  EXPECT_NE(r.error().message().find("maximum message size"), std::string::npos);
  EXPECT_FALSE(producer_->send(Message("bad topic!", "x")).ok());
  EXPECT_FALSE(producer_->send(Message("T", "")).ok());
}

TEST_F(ProducerTest, UnknownTopicIsAutoCreatedThroughTBW102) {
  auto r = producer_->send(Message("Fresh", "first"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(stored("Fresh", r->queue.queue_id).size(), 1u);
  // The route becomes real once the broker registered the topic.
  EXPECT_TRUE(testing::eventually([&] {
    auto route = producer_->instance().refresh_route("Fresh");
    return route.ok() && !route.value()->from_default_topic;
  }));
}

TEST_F(ProducerTest, ConcurrentSendersShareOneProducer) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        if (!producer_->send(Message("T", std::to_string(t) + "-" + std::to_string(i))).ok()) {
          failures++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::size_t total = 0;
  for (int q = 0; q < 4; ++q) total += stored("T", q).size();
  EXPECT_EQ(total, 400u);
}

TEST_F(ProducerTest, SendAfterShutdownIsCancelled) {
  producer_->shutdown();
  auto r = producer_->send(Message("T", "late"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
}

}  // namespace
}  // namespace rmqc::rocketmq
