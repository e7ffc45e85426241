// The transactional producer against the embedded broker over real TCP: committed messages
// reach a consumer once, rolled-back ones never, unknown ones are checked back and the check
// listener's answer applies, also across a broker restart.
#include "rocketmq/client/transaction_producer.h"

#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/tests/test_env.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>

namespace rmqc::rocketmq {
namespace {

using namespace std::chrono_literals;

// The application's record of its local transactions, by message body.
class LocalLedger {
 public:
  void set(const std::string& key, TransactionState state) {
    std::lock_guard lock(mutex_);
    states_[key] = state;
  }
  TransactionState get(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = states_.find(key);
    return it == states_.end() ? TransactionState::kUnknown : it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, TransactionState> states_;
};

class TransactionProducerTest : public ::testing::Test {
 protected:
  void SetUp() override { start_broker(); }

  void start_broker() {
    auto o = testing::broker_options(dir_.str());
    o.broker.transaction.check_interval = 100ms;
    o.broker.transaction.timeout = 300ms;
    o.broker.transaction.check_max = 15;
    if (port_ != 0) {
      o.broker_port = port_;  // a restarted broker keeps its address
      o.namesrv_port = namesrv_port_;
    }
    broker_ = testing::start_broker(o);
    ASSERT_TRUE(broker_);
    port_ = broker_->broker_port();
    namesrv_port_ = broker_->namesrv_port();
    ASSERT_TRUE(broker_->broker().create_topic("T", 1, 1).ok());
  }

  std::unique_ptr<TransactionProducer> make_producer() {
    ProducerConfig pc;
    pc.client = testing::client_config(broker_->namesrv_addr());
    pc.client.heartbeat_interval = 200ms;  // re-registers quickly with a restarted broker
    pc.group = "TXG";
    auto p = TransactionProducer::start(pc, [this](const MessageExt& m) {
      checked_.fetch_add(1);
      return ledger_.get(std::string(m.body()));
    });
    EXPECT_TRUE(p.ok()) << p.error().to_string();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  std::unique_ptr<LitePullConsumer> make_consumer() {
    ConsumerConfig config;
    config.client = testing::client_config(broker_->namesrv_addr());
    config.group = "TXC";
    config.rebalance_interval = 1s;
    config.long_poll_suspend = 1s;
    auto c = LitePullConsumer::start(config);
    EXPECT_TRUE(c.ok()) << c.error().to_string();
    if (!c.ok()) return nullptr;
    EXPECT_TRUE((*c)->subscribe("T").ok());
    return std::move(c).value();
  }

  // Everything the consumer receives until `quiet` passes with nothing new after `count`.
  static std::multiset<std::string> drain(LitePullConsumer& c, std::size_t count,
                                          std::chrono::milliseconds timeout = 15s) {
    std::multiset<std::string> out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto got = c.poll(200ms);
      EXPECT_TRUE(got.ok());
      if (!got.ok()) break;
      for (const auto& m : *got) out.emplace(m.body());
    }
    // Anything extra (a duplicate) would come right behind.
    for (int i = 0; i < 3; ++i) {
      auto got = c.poll(200ms);
      if (got.ok()) {
        for (const auto& m : *got) out.emplace(m.body());
      }
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
  std::uint16_t port_ = 0;
  std::uint16_t namesrv_port_ = 0;
  LocalLedger ledger_;
  std::atomic<int> checked_{0};
};

TEST_F(TransactionProducerTest, CommittedOnceRolledBackNeverUnknownCheckedBack) {
  auto producer = make_producer();
  ASSERT_TRUE(producer);
  auto run = [&](const std::string& body, TransactionState local) {
    auto r = producer->send_in_transaction(Message("T", body, "TagA"),
                                           [&](const Message& m, const SendResult& sent) {
                                             EXPECT_EQ(m.body, body);
                                             EXPECT_FALSE(sent.offset_msg_id.empty());
                                             ledger_.set(body, local);
                                             return local;
                                           });
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->local_state, local);
  };
  run("commit", TransactionState::kCommit);
  run("rollback", TransactionState::kRollback);
  // Unknown at first; the check-back finds the local transaction committed / rolled back.
  run("late-commit", TransactionState::kUnknown);
  run("late-rollback", TransactionState::kUnknown);
  ledger_.set("late-commit", TransactionState::kCommit);
  ledger_.set("late-rollback", TransactionState::kRollback);
  // A local transaction that throws counts as unknown.
  auto thrown = producer->send_in_transaction(
      Message("T", "threw"), [&](const Message&, const SendResult&) -> TransactionState {
        ledger_.set("threw", TransactionState::kCommit);
        throw std::runtime_error("database hiccup");
      });
  ASSERT_TRUE(thrown.ok());
  EXPECT_EQ(thrown->local_state, TransactionState::kUnknown);

  auto consumer = make_consumer();
  ASSERT_TRUE(consumer);
  auto got = drain(*consumer, 3);
  EXPECT_EQ(got, (std::multiset<std::string>{"commit", "late-commit", "threw"}));
  EXPECT_GE(checked_.load(), 3);  // late-commit, late-rollback and threw were checked back
  EXPECT_GE(producer->checks_answered(), 3);
  auto stats = broker_->broker().transactions().stats();
  EXPECT_EQ(stats.committed, 3);
  EXPECT_EQ(stats.rolled_back, 2);
}

TEST_F(TransactionProducerTest, UnknownTransactionsAreResolvedAfterABrokerRestart) {
  auto producer = make_producer();
  ASSERT_TRUE(producer);
  for (const char* body : {"a", "b"}) {
    auto r = producer->send_in_transaction(
        Message("T", body),
        [](const Message&, const SendResult&) { return TransactionState::kUnknown; });
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  auto committed = producer->send_in_transaction(
      Message("T", "c"),
      [](const Message&, const SendResult&) { return TransactionState::kCommit; });
  ASSERT_TRUE(committed.ok());
  // Its oneway END may still be in flight when the broker stops: then the check-back after the
  // restart must find it committed too.
  ledger_.set("c", TransactionState::kCommit);
  // The broker goes away before anything is checked back, and comes back on the same ports.
  broker_->stop();
  broker_.reset();
  ledger_.set("a", TransactionState::kCommit);
  ledger_.set("b", TransactionState::kRollback);
  start_broker();
  auto consumer = make_consumer();
  ASSERT_TRUE(consumer);
  auto got = drain(*consumer, 2, 20s);
  EXPECT_EQ(got, (std::multiset<std::string>{"a", "c"}));
  EXPECT_GE(checked_.load(), 2);
}

TEST_F(TransactionProducerTest, NeedsACheckListener) {
  ProducerConfig pc;
  pc.client = testing::client_config(broker_->namesrv_addr());
  pc.group = "TXG";
  auto p = TransactionProducer::start(pc, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidConfig);
}

}  // namespace
}  // namespace rmqc::rocketmq
