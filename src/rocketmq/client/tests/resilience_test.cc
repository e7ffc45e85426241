// Failure handling: broker restart in the middle, several brokers with one stopped, ACL, the
// remoting client's server-pushed requests and reconnects.
#include "rocketmq/client/admin.h"
#include "rocketmq/client/client_instance.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/tests/test_env.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/remoting/remoting_client.h"
#include "rocketmq/remoting/remoting_server.h"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <map>
#include <set>

namespace rmqc::rocketmq {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

std::unique_ptr<Producer> start_producer(const std::string& namesrv, ClientConfig client = {}) {
  ProducerConfig pc;
  client.namesrv_addr = namesrv;
  pc.client = client;
  pc.group = "PG";
  auto p = Producer::start(pc);
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? std::move(p).value() : nullptr;
}

// Polls `consumer`, adding the bodies to `seen`, until it holds `n` of them (30 s at most).
bool poll_until(LitePullConsumer& consumer, std::set<std::string>& seen, std::size_t n) {
  return testing::eventually(
      [&] {
        auto got = consumer.poll(100ms);
        if (got.ok()) {
          for (const auto& m : *got) seen.emplace(m.body());
        }
        return seen.size() >= n;
      },
      30s);
}

// Sends "<prefix>0" ... "<prefix><count - 1>" to T, each again until the (restarting) broker
// takes it (30 s at most).
bool send_all(Producer& producer, const std::string& prefix, int count) {
  int sent = 0;
  return testing::eventually(
      [&] {
        if (producer.send(Message("T", prefix + std::to_string(sent))).ok()) ++sent;
        return sent == count;
      },
      30s);
}

TEST(Resilience, ProducerFailsOverWhenOneOfTwoBrokersStops) {
  TempDir dir_a, dir_b;
  auto a = testing::start_broker(testing::broker_options(dir_a.str(), "broker-a"));
  ASSERT_TRUE(a);
  auto ob = testing::broker_options(dir_b.str(), "broker-b");
  ob.run_namesrv = false;
  ob.namesrv_addr = a->namesrv_addr();
  auto b = testing::start_broker(ob);
  ASSERT_TRUE(b);
  auto admin = Admin::start(testing::client_config(a->namesrv_addr()));
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE(testing::eventually([&] {
    auto info = (*admin)->cluster_info();
    return info.ok() && info->broker_addr_table.size() == 2;
  }));
  ASSERT_TRUE((*admin)->create_topic("T", 2).ok());
  ASSERT_TRUE(testing::eventually([&] {
    auto route = (*admin)->topic_route("T");
    return route.ok() && route->queue_datas.size() == 2;
  }));

  auto producer = start_producer(a->namesrv_addr());
  std::set<std::string> brokers;
  for (int i = 0; i < 8; ++i) {
    auto r = producer->send(Message("T", "before"));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    brokers.insert(r->queue.broker_name);
  }
  EXPECT_EQ(brokers.size(), 2u);

  // Destroyed, not just stopped: EmbeddedBroker::stop() leaves the listening socket open until
  // destruction, which looks like a hung broker (each send would spend its whole timeout there)
  // rather than a stopped one (connection refused).
  b.reset();
  // The cached route still lists broker-b: sends fail over to broker-a.
  for (int i = 0; i < 20; ++i) {
    auto r = producer->send(Message("T", "after"));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->queue.broker_name, "broker-a");
  }
  std::atomic<int> async_ok{0};
  for (int i = 0; i < 20; ++i) {
    producer->send_async(Message("T", "async"), [&](Result<SendResult> r) {
      if (r.ok()) async_ok++;
    });
  }
  EXPECT_TRUE(testing::eventually([&] { return async_ok == 20; }));
}

TEST(Resilience, SeveralNameServersOneDown) {
  TempDir dir;
  auto broker = testing::start_broker(testing::broker_options(dir.str()));
  ASSERT_TRUE(broker);
  ASSERT_TRUE(broker->broker().create_topic("T", 2, 2).ok());
  // Port 1 refuses connections: every route lookup that starts there moves on to the next.
  for (const auto& list :
       {"127.0.0.1:1;" + broker->namesrv_addr(), broker->namesrv_addr() + ";127.0.0.1:1"}) {
    auto producer = start_producer(list);
    auto r = producer->send(Message("T", "x"));
    ASSERT_TRUE(r.ok()) << list << ": " << r.error().to_string();
  }
}

TEST(Resilience, ClientsRecoverFromABrokerRestart) {
  TempDir dir;
  auto options = testing::broker_options(dir.str());
  auto broker = testing::start_broker(options);
  ASSERT_TRUE(broker);
  ASSERT_TRUE(broker->broker().create_topic("T", 2, 2).ok());
  options.namesrv_port = broker->namesrv_port();
  options.broker_port = broker->broker_port();
  const std::string namesrv = broker->namesrv_addr();

  auto producer = start_producer(namesrv);
  ConsumerConfig cc;
  cc.client = testing::client_config(namesrv);
  cc.group = "G";
  cc.long_poll_suspend = 2s;
  cc.pull_error_backoff = 200ms;
  auto consumer = LitePullConsumer::start(cc);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->subscribe("T").ok());

  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(producer->send(Message("T", "a" + std::to_string(i))));
  ASSERT_TRUE(poll_until(**consumer, seen, 10));

  broker->stop();
  broker.reset();
  EXPECT_FALSE(producer->send(Message("T", "while down")).ok());
  broker = testing::start_broker(options);
  ASSERT_TRUE(broker);

  ASSERT_TRUE(send_all(*producer, "b", 10));
  EXPECT_TRUE(poll_until(**consumer, seen, 20));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(seen.contains("b" + std::to_string(i)));
}

// The broker restarts (same port, same store) while the name server stays up: consumers in both
// modes, with pulls held on the broker when it goes, read everything produced afterwards. No
// auto-commit, and the rebalance interval's default: nothing but the failed pulls' retry wakes
// the consumers' threads (once, a failed pull was never retried when nothing else was due).
TEST(Resilience, ConsumersRecoverFromABrokerRestartBehindARunningNameServer) {
  TempDir dir_ns;
  TempDir dir_b;
  auto ns = testing::start_broker(testing::broker_options(dir_ns.str(), "broker-ns"));
  ASSERT_TRUE(ns);
  const std::string namesrv = ns->namesrv_addr();
  auto options = testing::broker_options(dir_b.str(), "broker-b");
  options.run_namesrv = false;
  options.namesrv_addr = namesrv;
  auto broker = testing::start_broker(options);
  ASSERT_TRUE(broker);
  options.broker_port = broker->broker_port();
  ASSERT_TRUE(broker->broker().create_topic("T", 2, 2).ok());
  auto admin = Admin::start(testing::client_config(namesrv));
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE(testing::eventually([&] { return (*admin)->topic_route("T").ok(); }));

  auto producer = start_producer(namesrv);
  ASSERT_TRUE(producer);
  auto consumer_config = [&](const std::string& group) {
    ConsumerConfig cc;
    cc.client = testing::client_config(namesrv);
    cc.group = group;
    cc.consume_from = ConsumeFromWhere::kFirstOffset;
    cc.auto_commit = false;
    cc.long_poll_suspend = 5s;
    return cc;
  };
  auto subscriber = LitePullConsumer::start(consumer_config("G-subscribe"));
  ASSERT_TRUE(subscriber.ok());
  ASSERT_TRUE((*subscriber)->subscribe("T").ok());
  auto assigned = LitePullConsumer::start(consumer_config("G-assign"));
  ASSERT_TRUE(assigned.ok());
  auto queues = (*assigned)->fetch_queues("T");
  ASSERT_TRUE(queues.ok());
  ASSERT_EQ(queues->size(), 2u);
  ASSERT_TRUE((*assigned)->assign(*queues).ok());

  std::map<std::string, std::set<std::string>> seen;
  auto poll_both = [&](std::size_t n) {
    return testing::eventually(
        [&] {
          for (auto* c : {subscriber->get(), assigned->get()}) {
            auto got = c->poll(50ms);
            if (got.ok()) {
              for (const auto& m : *got) seen[c->group()].emplace(m.body());
            }
          }
          return seen["G-subscribe"].size() >= n && seen["G-assign"].size() >= n;
        },
        30s);
  };
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(producer->send(Message("T", "a" + std::to_string(i))));
  ASSERT_TRUE(poll_both(10));
  // Both queues are drained: their pulls are held on the broker now.
  for (auto* c : {subscriber->get(), assigned->get()}) EXPECT_TRUE(c->poll(200ms)->empty());

  broker->stop();
  broker.reset();
  // Down for a while: the held pulls failed, reconnects back off.
  for (int i = 0; i < 10; ++i) {
    for (auto* c : {subscriber->get(), assigned->get()}) EXPECT_TRUE(c->poll(50ms)->empty());
  }
  broker = testing::start_broker(options);
  ASSERT_TRUE(broker);

  ASSERT_TRUE(send_all(*producer, "b", 20));
  EXPECT_TRUE(poll_both(30)) << seen["G-subscribe"].size() << " / " << seen["G-assign"].size();
  for (const auto& group : {"G-subscribe", "G-assign"}) {
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(seen[group].contains("b" + std::to_string(i))) << group << " b" << i;
    }
  }
}

// Name server and broker both down for a while, then back on the same ports with their store:
// an assign()ed consumer without auto-commit that kept asking for routes meanwhile (the
// replicator's source task) reads everything produced afterwards.
TEST(Resilience, AssignedConsumerRecoversFromAClusterOutage) {
  TempDir dir;
  auto options = testing::broker_options(dir.str());
  auto broker = testing::start_broker(options);
  ASSERT_TRUE(broker);
  ASSERT_TRUE(broker->broker().create_topic("T", 2, 2).ok());
  options.namesrv_port = broker->namesrv_port();
  options.broker_port = broker->broker_port();
  const std::string namesrv = broker->namesrv_addr();

  auto producer = start_producer(namesrv);
  ASSERT_TRUE(producer);
  ConsumerConfig cc;
  cc.client = testing::client_config(namesrv);
  cc.group = "G";
  cc.consume_from = ConsumeFromWhere::kFirstOffset;
  cc.auto_commit = false;
  cc.long_poll_suspend = 5s;
  auto consumer = LitePullConsumer::start(cc);
  ASSERT_TRUE(consumer.ok());
  auto queues = (*consumer)->fetch_queues("T");
  ASSERT_TRUE(queues.ok());
  ASSERT_TRUE((*consumer)->assign(*queues).ok());

  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(producer->send(Message("T", "a" + std::to_string(i))));
  ASSERT_TRUE(poll_until(**consumer, seen, 10));

  broker->stop();
  broker.reset();
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE((*consumer)->poll(100ms)->empty());
    if (i % 10 == 0) {
      EXPECT_FALSE((*consumer)->fetch_queues("T").ok());
    }
  }
  broker = testing::start_broker(options);
  ASSERT_TRUE(broker);
  ASSERT_TRUE(testing::eventually([&] { return (*consumer)->fetch_queues("T").ok(); }, 30s));

  ASSERT_TRUE(send_all(*producer, "b", 10));
  EXPECT_TRUE(poll_until(**consumer, seen, 20)) << seen.size();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(seen.contains("b" + std::to_string(i))) << i;
}

TEST(Resilience, AclSignsEveryRequestWhenKeysAreSet) {
  TempDir dir;
  auto options = testing::broker_options(dir.str());
  options.broker.acl_enable = true;
  options.broker.acl_accounts["rocketmq2"] = "12345678";
  auto broker = testing::start_broker(options);
  ASSERT_TRUE(broker);
  ASSERT_TRUE(broker->broker().create_topic("T", 1, 1).ok());

  ProducerConfig unsigned_config;
  unsigned_config.client = testing::client_config(broker->namesrv_addr());
  unsigned_config.retry_times = 0;
  auto anonymous = Producer::start(unsigned_config);
  ASSERT_TRUE(anonymous.ok());
  auto refused = (*anonymous)->send(Message("T", "x"));
  ASSERT_FALSE(refused.ok());

  ClientConfig keys;
  keys.access_key = "rocketmq2";
  keys.secret_key = "12345678";
  auto producer = start_producer(broker->namesrv_addr(), keys);
  for (int i = 0; i < 5; ++i) {
    auto r = producer->send(Message("T", "signed" + std::to_string(i), "TagA"));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  std::vector<Message> batch(3, Message("T", "batched"));
  ASSERT_TRUE(producer->send_batch(batch).ok());

  ConsumerConfig cc;
  cc.client = keys;
  cc.client.namesrv_addr = broker->namesrv_addr();
  cc.group = "G";
  auto consumer = LitePullConsumer::start(cc);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->subscribe("T").ok());
  std::size_t got = 0;
  EXPECT_TRUE(testing::eventually([&] {
    auto polled = (*consumer)->poll(100ms);
    if (polled.ok()) got += polled->size();
    return got == 8;
  }));
  ASSERT_TRUE((*consumer)->commit().ok());
  EXPECT_EQ(*(*consumer)->committed(MessageQueue{"T", "broker-a", 0}), 8);
}

// A tiny server that answers each request after pushing a NOTIFY_CONSUMER_IDS_CHANGED.
class PushingHandler : public remoting::RequestHandler {
 public:
  void on_request(const remoting::ConnectionPtr& c, RemotingCommand request) override {
    auto notify = RemotingCommand::request(request_code::NOTIFY_CONSUMER_IDS_CHANGED,
                                           {{"consumerGroup", "G"}});
    notify.opaque = 100000;
    notify.mark_oneway();
    c->send(notify);
    auto reply = RemotingCommand::response_to(request, 0);
    reply.body = request.body;
    c->send(reply);
  }
};

TEST(RemotingClient, MultiplexesRequestsAndDispatchesServerRequests) {
  asio::io_context io;
  PushingHandler handler;
  auto server = remoting::RemotingServer::start(io, remoting::ServerOptions{}, handler);
  ASSERT_TRUE(server.ok());
  std::thread io_thread([&] {
    auto guard = asio::make_work_guard(io);
    io.run();
  });
  const std::string addr = "127.0.0.1:" + std::to_string((*server)->port());

  remoting::RemotingClient client;
  std::atomic<int> pushed{0};
  client.set_server_request_handler(
      [&](const std::string&, RemotingCommand r) -> std::optional<RemotingCommand> {
        if (r.code == request_code::NOTIFY_CONSUMER_IDS_CHANGED) pushed++;
        return std::nullopt;
      });
  std::atomic<int> matched{0};
  for (int i = 0; i < 200; ++i) {
    auto body = std::to_string(i);
    client.invoke_async(addr, RemotingCommand::request(request_code::HEART_BEAT), body, 5s,
                        [&matched, body](Result<RemotingCommand> r) {
                          if (r.ok() && r->body == body) matched++;
                        });
  }
  EXPECT_TRUE(testing::eventually([&] { return matched == 200 && pushed == 200; }));
  auto sync = client.invoke(addr, RemotingCommand::request(request_code::HEART_BEAT), "x", 5s);
  ASSERT_TRUE(sync.ok());
  EXPECT_EQ(sync->body, "x");

  // The server drops the connection: the next request reconnects.
  (*server)->stop();
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(client.invoke(addr, RemotingCommand::request(34), "y", 1s).ok());
  auto again = remoting::RemotingServer::start(
      io, remoting::ServerOptions{"127.0.0.1", (*server)->port()}, handler);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_TRUE(testing::eventually(
      [&] { return client.invoke(addr, RemotingCommand::request(34), "z", 1s).ok(); }, 10s));

  // Nobody listening: a short timeout, retriable.
  auto dead = client.invoke("127.0.0.1:1", RemotingCommand::request(34), 1s);
  ASSERT_FALSE(dead.ok());
  EXPECT_TRUE(dead.error().is_retriable());
  client.shutdown();
  (*again)->stop();
  io.stop();
  io_thread.join();
}

}  // namespace
}  // namespace rmqc::rocketmq
