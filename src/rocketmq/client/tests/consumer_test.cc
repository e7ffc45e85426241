// The lite-pull consumer against the embedded broker over real TCP: assign, subscribe with
// rebalance, commit/resume, seek, pause/resume, tag filtering, long polling.
#include "rocketmq/client/client_instance.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/tests/test_env.h"
#include "rocketmq/protocol/request_code.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
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

// lock_queues: exclusive queue ownership through the broker's queue locks.
using Clock = std::chrono::steady_clock;

ConsumerConfig locked(std::chrono::milliseconds lock_wait = 60s) {
  ConsumerConfig c;
  c.auto_commit = false;  // as sink tasks: commits are the application's
  c.lock_queues = true;
  c.lock_retry_interval = 100ms;
  c.lock_wait = lock_wait;
  return c;
}

long long ms_between(Clock::time_point from, Clock::time_point to) {
  return static_cast<long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

// What one consumer saw, recorded by its polling thread.
struct Consumed {
  std::mutex mutex;  // held across poll() + record, and by the revocation listener
  std::map<MessageQueue, std::int64_t> next;           // last offset + 1
  std::map<MessageQueue, std::int64_t> first;          // first offset received
  std::map<MessageQueue, Clock::time_point> first_at;  // when it was received
  std::vector<std::string> bodies;
  std::mutex assigned_mutex;
  std::map<MessageQueue, Clock::time_point> assigned_at;  // on_assigned

  void poll_once(LitePullConsumer& c) {
    std::lock_guard lock(mutex);
    auto got = c.poll(50ms);
    if (!got.ok()) return;
    const auto now = Clock::now();
    for (const auto& m : *got) {
      const auto& q = m.queue();
      if (!first.contains(q)) {
        first[q] = m.queue_offset();
        first_at[q] = now;
      }
      next[q] = std::max(next[q], m.queue_offset() + 1);
      bodies.emplace_back(m.body());
    }
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return bodies.size();
  }
  // Not under `mutex`: the polling thread takes that one again at once and would delay this.
  void on_assigned(const std::vector<MessageQueue>& queues) {
    const auto now = Clock::now();
    std::lock_guard lock(assigned_mutex);
    for (const auto& q : queues) assigned_at[q] = now;
  }
  std::size_t assigned() {
    std::lock_guard lock(assigned_mutex);
    return assigned_at.size();
  }
  Clock::time_point last_assigned() {
    std::lock_guard lock(assigned_mutex);
    Clock::time_point last{};
    for (const auto& [q, t] : assigned_at) last = std::max(last, t);
    return last;
  }
};

class Poller {
 public:
  Poller(LitePullConsumer& c, Consumed& out)
      : thread_([this, &c, &out] {
          while (running_) out.poll_once(c);
        }) {}
  ~Poller() { stop(); }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> running_{true};
  std::thread thread_;
};

TEST_F(ConsumerTest, LockedQueuesChangeOwnerWithoutDuplicates) {
  produce(400);  // 100 per queue
  Consumed a_seen;
  Consumed b_seen;
  std::map<MessageQueue, std::int64_t> a_committed;
  std::map<MessageQueue, Clock::time_point> a_revoked_at;  // just before on_revoked returns
  std::atomic<Clock::time_point> revoking_at{};
  std::unique_ptr<LitePullConsumer> a = make_consumer("GL", locked());
  AssignmentListener a_listener;
  a_listener.on_revoked = [&](const std::vector<MessageQueue>& revoked) {
    revoking_at = Clock::now();
    std::this_thread::sleep_for(300ms);  // a slow sink flushing before it commits
    std::lock_guard lock(a_seen.mutex);
    std::map<MessageQueue, std::int64_t> offsets;
    for (const auto& q : revoked) {
      if (a_seen.next.contains(q)) offsets[q] = a_seen.next[q];
    }
    auto r = a->commit(offsets);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    for (const auto& [q, o] : offsets) a_committed[q] = o;
    for (const auto& q : revoked) a_revoked_at[q] = Clock::now();
  };
  a_listener.on_assigned = [&](const std::vector<MessageQueue>& q) { a_seen.on_assigned(q); };
  a->set_assignment_listener(a_listener);
  ASSERT_TRUE(a->subscribe("T").ok());
  Poller a_poller(*a, a_seen);
  // A consumed everything and committed nothing: all its progress is uncommitted.
  ASSERT_TRUE(testing::eventually([&] { return a_seen.count() >= 400; }, 15s));
  EXPECT_EQ(a_seen.assigned(), 4u);

  std::unique_ptr<LitePullConsumer> b = make_consumer("GL", locked());
  AssignmentListener b_listener;
  b_listener.on_assigned = [&](const std::vector<MessageQueue>& q) { b_seen.on_assigned(q); };
  b->set_assignment_listener(b_listener);
  const auto joined = Clock::now();
  ASSERT_TRUE(b->subscribe("T").ok());
  Poller b_poller(*b, b_seen);
  ASSERT_TRUE(testing::eventually([&] { return b_seen.assigned() == 2; }, 15s));
  EXPECT_EQ(a->assignment().size(), 2u);
  std::printf("A's on_revoked called %lld ms after B joined\n",
              ms_between(joined, revoking_at.load()));
  produce(200, "n");
  ASSERT_TRUE(testing::eventually([&] { return a_seen.count() + b_seen.count() >= 600; }, 15s));
  std::this_thread::sleep_for(300ms);  // anything extra (a duplicate) would show up by now
  a_poller.stop();
  b_poller.stop();

  // Every message exactly once across A and B.
  std::map<std::string, int> times;
  for (const auto& body : a_seen.bodies) times[body]++;
  for (const auto& body : b_seen.bodies) times[body]++;
  int duplicates = 0;
  for (const auto& [body, n] : times) duplicates += n - 1;
  EXPECT_EQ(duplicates, 0);
  for (int i = 0; i < 400; ++i) EXPECT_EQ(times["m" + std::to_string(i)], 1) << "m" << i;
  for (int i = 0; i < 200; ++i) EXPECT_EQ(times["n" + std::to_string(i)], 1) << "n" << i;
  // B started each queue where A's revocation committed, after it returned.
  ASSERT_EQ(a_committed.size(), 2u);
  for (const auto& [q, committed] : a_committed) {
    ASSERT_TRUE(b_seen.assigned_at.contains(q)) << q.queue_id;
    ASSERT_TRUE(b_seen.first.contains(q)) << q.queue_id;
    EXPECT_EQ(b_seen.first[q], committed) << q.queue_id;
    EXPECT_GE(b_seen.assigned_at[q], a_revoked_at[q]);
    EXPECT_GE(b_seen.first_at[q], a_revoked_at[q]);
    std::printf(
        "queue %d, from B joining: A's on_revoked committed %lld at +%lld ms, B locked "
        "at +%lld ms, B's first message (offset %lld) at +%lld ms\n",
        q.queue_id, static_cast<long long>(committed), ms_between(joined, a_revoked_at[q]),
        ms_between(joined, b_seen.assigned_at[q]), static_cast<long long>(b_seen.first[q]),
        ms_between(joined, b_seen.first_at[q]));
  }
}

TEST_F(ConsumerTest, LocksOfAKilledOwnerAreFreeAtOnce) {
  Consumed a_seen;
  Consumed b_seen;
  std::mutex hang_mutex;
  std::condition_variable hang_cv;
  bool release = false;
  std::atomic<bool> a_revoking{false};
  auto a = make_consumer("GK", locked());
  AssignmentListener a_listener;
  a_listener.on_revoked = [&](const std::vector<MessageQueue>&) {
    // A "dies" in its revocation: it never commits or unlocks.
    a_revoking = true;
    std::unique_lock lock(hang_mutex);
    hang_cv.wait(lock, [&] { return release; });
  };
  a_listener.on_assigned = [&](const std::vector<MessageQueue>& q) { a_seen.on_assigned(q); };
  a->set_assignment_listener(a_listener);
  ASSERT_TRUE(a->subscribe("T").ok());
  ASSERT_TRUE(testing::eventually([&] { return a_seen.assigned() == 4; }));

  // lock_wait 60 s: only the broker dropping A's locks can let B in within the test.
  auto b = make_consumer("GK", locked(60s));
  AssignmentListener b_listener;
  b_listener.on_assigned = [&](const std::vector<MessageQueue>& q) { b_seen.on_assigned(q); };
  b->set_assignment_listener(b_listener);
  ASSERT_TRUE(b->subscribe("T").ok());
  Poller b_poller(*b, b_seen);
  ASSERT_TRUE(testing::eventually([&] { return a_revoking.load(); }));
  EXPECT_EQ(b->assignment().size(), 2u);
  std::this_thread::sleep_for(1s);  // ten lock retries of B
  EXPECT_EQ(b_seen.assigned(), 0u) << "B consumed queues A still holds";

  // Kill A: its connections close without UNLOCK_BATCH_MQ or UNREGISTER_CLIENT.
  const auto killed = Clock::now();
  a->instance().shutdown();
  ASSERT_TRUE(testing::eventually([&] { return b_seen.assigned() == 4; }, 20s));
  const auto last = b_seen.last_assigned();
  std::printf("B consumes all 4 queues %lld ms after A was killed (lock_wait 60 s)\n",
              ms_between(killed, last));
  // (All 4 within the 20 s wait, while lock_wait is 60 s: the locks were freed, not waited out.)
  produce(40);
  EXPECT_TRUE(testing::eventually([&] { return b_seen.count() >= 40; }));
  b_poller.stop();
  {
    std::lock_guard lock(hang_mutex);
    release = true;
  }
  hang_cv.notify_all();
  a->shutdown();
}

TEST_F(ConsumerTest, ALockNeverReleasedIsTakenAfterLockWait) {
  // A client that locked every queue of the group and never unlocks (its connection stays).
  auto ghost = ClientInstance::create(testing::client_config(broker_->namesrv_addr()));
  ASSERT_TRUE(ghost.ok());
  auto route = (*ghost)->refresh_route("T");
  ASSERT_TRUE(route.ok());
  LockBatchRequestBody body{"GW", "ghost", (*route)->subscribe_queues, std::nullopt};
  auto request = RemotingCommand::request(request_code::LOCK_BATCH_MQ);
  request.body = body.to_json();
  auto locked_reply = (*ghost)->invoke_broker(broker_->broker_addr(), request);
  ASSERT_TRUE(locked_reply.ok());
  auto granted = LockBatchResponseBody::from_json(locked_reply->body);
  ASSERT_TRUE(granted.ok());
  ASSERT_EQ(granted->lock_ok_mq_set.size(), 4u);

  produce(40);
  Consumed seen;
  const auto lock_wait = 1500ms;
  auto c = make_consumer("GW", locked(lock_wait));
  AssignmentListener listener;
  listener.on_assigned = [&](const std::vector<MessageQueue>& q) { seen.on_assigned(q); };
  c->set_assignment_listener(listener);
  const auto start = Clock::now();
  ASSERT_TRUE(c->subscribe("T").ok());
  EXPECT_EQ(c->assignment().size(), 4u);
  Poller poller(*c, seen);
  ASSERT_TRUE(testing::eventually([&] { return seen.assigned() == 4; }, 20s));
  Clock::time_point first = Clock::time_point::max();
  {
    std::lock_guard lock(seen.assigned_mutex);
    for (const auto& [q, t] : seen.assigned_at) first = std::min(first, t);
  }
  std::printf("queues taken without their lock %lld ms after subscribe (lock_wait %lld ms)\n",
              ms_between(start, first), static_cast<long long>(lock_wait.count()));
  EXPECT_GE(first - start, lock_wait);  // not before lock_wait
  EXPECT_TRUE(testing::eventually([&] { return seen.count() >= 40; }));
  poller.stop();
  c->shutdown();
  // The ghost's locks are still its own: the taker does not unlock what it never locked.
  auto again = (*ghost)->invoke_broker(broker_->broker_addr(), request);
  ASSERT_TRUE(again.ok());
  auto still = LockBatchResponseBody::from_json(again->body);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->lock_ok_mq_set.size(), 4u);
  (*ghost)->shutdown();
}

TEST(ConsumerLockTest, ALostLockStopsConsumptionUntilLockedAgain) {
  // Broker locks expire after 300 ms; the consumer renews only every 2 s, so a thief can take
  // its queues in between (as after a connection loss or a long stall).
  testing::TempDir dir;
  auto options = testing::broker_options(dir.str());
  options.broker.queue_lock_expiry = 300ms;
  auto broker = testing::start_broker(options);
  ASSERT_TRUE(broker);
  ASSERT_TRUE(broker->broker().create_topic("T", 2, 2).ok());
  ProducerConfig pc;
  pc.client = testing::client_config(broker->namesrv_addr());
  pc.group = "PG";
  auto producer = Producer::start(pc);
  ASSERT_TRUE(producer.ok());
  auto send = [&](const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE((*producer)->send(Message("T", prefix + std::to_string(i))).ok());
    }
  };

  ConsumerConfig config = locked();
  config.client = testing::client_config(broker->namesrv_addr());
  config.group = "GX";
  config.lock_renew_interval = 2s;
  auto c = LitePullConsumer::start(config);
  ASSERT_TRUE(c.ok());
  Consumed seen;
  AssignmentListener listener;
  listener.on_assigned = [&](const std::vector<MessageQueue>& q) { seen.on_assigned(q); };
  (*c)->set_assignment_listener(listener);
  ASSERT_TRUE((*c)->subscribe("T").ok());
  Poller poller(**c, seen);
  send("a", 20);
  ASSERT_TRUE(testing::eventually([&] { return seen.count() >= 20; }));
  ASSERT_TRUE((*c)->commit().ok());

  auto thief = ClientInstance::create(testing::client_config(broker->namesrv_addr()));
  ASSERT_TRUE(thief.ok());
  LockBatchRequestBody body{"GX", "thief", (*c)->assignment(), std::nullopt};
  auto lock = RemotingCommand::request(request_code::LOCK_BATCH_MQ);
  lock.body = body.to_json();
  // The thief takes the queues once the consumer's locks expired, and keeps renewing them.
  std::atomic<std::size_t> stolen{0};
  std::atomic<bool> thief_running{true};
  std::thread thief_thread([&] {
    while (thief_running) {
      auto r = (*thief)->invoke_broker(broker->broker_addr(), lock);
      if (r.ok()) {
        if (auto got = LockBatchResponseBody::from_json(r->body); got.ok()) {
          stolen = got->lock_ok_mq_set.size();
        }
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  struct Joiner {
    std::atomic<bool>& running;
    std::thread& thread;
    ~Joiner() {
      running = false;
      if (thread.joinable()) thread.join();
    }
  } joiner{thief_running, thief_thread};
  ASSERT_TRUE(testing::eventually([&] { return stolen == 2; }));
  // The consumer's next renewal finds them gone: it stops consuming both queues.
  const auto stolen_at = Clock::now();
  ASSERT_TRUE(testing::eventually([&] { return (*c)->position((*c)->assignment()[0]) < 0; }, 10s));
  std::printf("consumer stopped %lld ms after its locks were stolen (renewal every 2 s)\n",
              ms_between(stolen_at, Clock::now()));
  send("b", 20);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(seen.count(), 20u) << "consumed queues locked by another client";
  // The thief lets go: the consumer locks them again and goes on from the committed offset.
  thief_running = false;
  thief_thread.join();
  auto unlock = RemotingCommand::request(request_code::UNLOCK_BATCH_MQ);
  unlock.body = body.to_json();
  ASSERT_TRUE((*thief)->invoke_broker(broker->broker_addr(), unlock).ok());
  EXPECT_TRUE(testing::eventually([&] { return seen.count() >= 40; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(seen.count(), 40u);
  poller.stop();
  (*thief)->shutdown();
}

// Throughput of one consumer draining a pre-filled topic, with lock_queues off and on.
// RMQC_LOCK_BENCH_MESSAGES sets the count (default 50 000).
TEST_F(ConsumerTest, LockQueuesCostsNothingOnThePollPath) {
  std::size_t n = 50'000;
  if (const char* env = std::getenv("RMQC_LOCK_BENCH_MESSAGES")) n = std::stoul(env);
  ASSERT_TRUE(broker_->broker().create_topic("B", 4, 4).ok());
  std::vector<Message> batch;
  for (std::size_t i = 0; i < 32; ++i) batch.emplace_back("B", std::string(100, 'x'));
  for (std::size_t sent = 0; sent < n; sent += batch.size()) {
    auto r = producer_->send_batch(batch);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  n = (n + 31) / 32 * 32;
  for (int round = 0; round < 2; ++round) {
    for (bool lock : {false, true}) {
      ConsumerConfig config;
      config.lock_queues = lock;
      config.auto_commit = false;
      auto c = make_consumer("GB" + std::to_string(round) + (lock ? "on" : "off"), config);
      const auto start = Clock::now();
      ASSERT_TRUE(c->subscribe("B").ok());
      std::size_t got = 0;
      while (got < n && Clock::now() - start < 60s) {
        auto r = c->poll(200ms);
        ASSERT_TRUE(r.ok());
        got += r->size();
      }
      const double secs = std::chrono::duration<double>(Clock::now() - start).count();
      EXPECT_EQ(got, n);
      std::printf("lock_queues %-3s: %zu messages in %.3f s = %.0f msgs/s\n", lock ? "on" : "off",
                  got, secs, static_cast<double>(got) / secs);
    }
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
