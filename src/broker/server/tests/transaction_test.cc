// Transactional messages in the embedded broker over real TCP, driven by raw remoting requests
// shaped as a Java 4.9 producer sends them (spec §2.3.8, §8.7): half messages, END_TRANSACTION
// commit / rollback / unknown, check-backs, discard after transactionCheckMax, and all of it
// across a restart and a crash.
#include "broker/server/embedded_broker.h"
#include "broker/server/tests/broker_test_env.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/message_id.h"
#include "rocketmq/protocol/message_properties.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"
#include "rocketmq/remoting/blocking_client.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>
#include <thread>

namespace rmqc::broker {
namespace {

namespace fs = std::filesystem;
namespace rc = rocketmq::request_code;
namespace rsp = rocketmq::response_code;
namespace sysflag = rocketmq::sysflag;
using remoting::BlockingClient;
using rocketmq::RemotingCommand;
using namespace std::chrono_literals;
using testing::call;
using testing::connect_to;

using testing::TempDir;

std::unique_ptr<EmbeddedBroker> start(const EmbeddedBrokerOptions& o) {
  return testing::start_broker(o);
}

// Transaction checks come every 100 ms here: 10 s is plenty.
using rmqc::testing::eventually;

// Short intervals: a pass every 100 ms, halves checkable at once.
EmbeddedBrokerOptions tx_options(const std::string& dir, int check_max = 15) {
  EmbeddedBrokerOptions o = testing::test_options(dir);
  o.broker.transaction.check_interval = 100ms;
  o.broker.transaction.timeout = 0ms;
  o.broker.transaction.check_max = check_max;
  return o;
}

// A Java producer's half message: TRAN_MSG, PGROUP, UNIQ_KEY, sysFlag PREPARED.
RemotingCommand half_request(const std::string& topic, const std::string& body,
                             const std::string& uniq, const std::string& group = "pg") {
  rocketmq::SendMessageRequestHeader h;
  h.producer_group = group;
  h.topic = topic;
  h.queue_id = 1;
  h.sys_flag = sysflag::TRANSACTION_PREPARED_TYPE;
  h.born_timestamp = 1700000000000;
  rocketmq::MessageProperties props;
  props["TAGS"] = "TagA";
  props["TRAN_MSG"] = "true";
  props["PGROUP"] = group;
  props["UNIQ_KEY"] = uniq;
  props["WAIT"] = "true";
  h.properties = rocketmq::encode_properties(props);
  auto cmd = RemotingCommand::request(rc::SEND_MESSAGE_V2, h.to_v2_ext_fields());
  cmd.body = body;
  return cmd;
}

struct Half {
  std::int64_t queue_offset = 0;
  std::int64_t commit_log_offset = 0;
  std::string uniq;
};

Half send_half(BlockingClient& c, const std::string& topic, const std::string& body,
               const std::string& uniq) {
  auto reply = call(c, half_request(topic, body, uniq));
  EXPECT_EQ(reply.code, rsp::SUCCESS) << reply.remark;
  Half h;
  h.uniq = uniq;
  if (const auto* q = reply.ext("queueOffset")) h.queue_offset = std::stoll(*q);
  if (const auto* id = reply.ext("msgId")) {
    auto decoded = rocketmq::decode_offset_msg_id(*id);
    EXPECT_TRUE(decoded.ok());
    if (decoded.ok()) h.commit_log_offset = decoded->physical_offset;
  }
  return h;
}

// END_TRANSACTION as Java sends it (every extField a string).
RemotingCommand end_request(const Half& half, std::int32_t type, bool from_check = false,
                            const std::string& group = "pg") {
  rocketmq::EndTransactionRequestHeader h;
  h.producer_group = group;
  h.tran_state_table_offset = half.queue_offset;
  h.commit_log_offset = half.commit_log_offset;
  h.commit_or_rollback = type;
  h.from_transaction_check = from_check;
  h.msg_id = half.uniq;
  h.transaction_id = half.uniq;
  return RemotingCommand::request(rc::END_TRANSACTION, h.to_ext_fields());
}

struct Pulled {
  std::string body;
  std::int32_t sys_flag = 0;
  std::int64_t prepared_offset = 0;
  rocketmq::MessageProperties props;
};

std::vector<Pulled> pull_all(BlockingClient& c, const std::string& topic, std::int32_t queue) {
  auto reply = call(c, testing::pull_request(topic, queue, 0));
  std::vector<Pulled> out;
  if (reply.code != rsp::SUCCESS) return out;
  auto records = rocketmq::decode_stored_messages(reply.body);
  EXPECT_TRUE(records.ok());
  if (!records.ok()) return out;
  for (const auto& r : *records) {
    out.push_back({std::string(r.body), r.sys_flag, r.prepared_transaction_offset,
                   rocketmq::parse_properties(r.properties)});
  }
  return out;
}

// A producer connection: heartbeats its group so the broker checks back on it.
std::unique_ptr<BlockingClient> producer_connection(const std::string& addr,
                                                    const std::string& group = "pg") {
  auto c = connect_to(addr);
  rocketmq::HeartbeatData hb;
  hb.client_id = "127.0.0.1@tx-test";
  hb.producer_data_set.push_back({group});
  auto request = RemotingCommand::request(rc::HEART_BEAT);
  request.body = hb.to_json();
  EXPECT_EQ(call(*c, std::move(request)).code, rsp::SUCCESS);
  return c;
}

TEST(BrokerTransactionTest, HalfIsInvisibleUntilCommittedThenDeliveredOnce) {
  TempDir dir;
  auto options = tx_options(dir.str());
  options.broker.transaction.timeout = 1h;  // no check-back in this test
  auto b = start(options);
  ASSERT_TRUE(b);
  auto c = connect_to(b->broker_addr());
  auto half = send_half(*c, "orders", "paid", "UNIQ-1");
  EXPECT_EQ(half.queue_offset, 0);
  EXPECT_TRUE(pull_all(*c, "orders", 1).empty()) << "a half message is visible to consumers";
  // Stored in RMQ_SYS_TRANS_HALF_TOPIC queue 0, transaction bits cleared (spec §2.3.8).
  auto halves = pull_all(*c, "RMQ_SYS_TRANS_HALF_TOPIC", 0);
  ASSERT_EQ(halves.size(), 1u);
  EXPECT_EQ(halves[0].sys_flag & sysflag::TRANSACTION_MASK, 0);
  EXPECT_EQ(halves[0].props["REAL_TOPIC"], "orders");
  EXPECT_EQ(halves[0].props["REAL_QID"], "1");
  EXPECT_EQ(halves[0].props["TRAN_MSG"], "true");
  EXPECT_EQ(halves[0].props["PGROUP"], "pg");
  EXPECT_EQ(halves[0].props.count("WAIT"), 0u);

  auto committed = call(*c, end_request(half, sysflag::TRANSACTION_COMMIT_TYPE));
  EXPECT_EQ(committed.code, rsp::SUCCESS) << committed.remark;
  EXPECT_TRUE(committed.ext_fields.empty());
  auto got = pull_all(*c, "orders", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "paid");
  EXPECT_EQ(got[0].sys_flag & sysflag::TRANSACTION_MASK, sysflag::TRANSACTION_COMMIT_TYPE);
  EXPECT_EQ(got[0].prepared_offset, half.commit_log_offset);
  EXPECT_EQ(got[0].props["TRAN_MSG"], "true");  // kept, as a 4.9 broker does
  EXPECT_EQ(got[0].props["UNIQ_KEY"], "UNIQ-1");
  EXPECT_EQ(got[0].props["TAGS"], "TagA");
  // The op record marks the half done.
  auto ops = pull_all(*c, "RMQ_SYS_TRANS_OP_HALF_TOPIC", 0);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].body, "0");
  EXPECT_EQ(ops[0].props["TAGS"], "d");

  // A repeated commit (oneway as Java sends it, then two-way) changes nothing.
  ASSERT_TRUE(c->invoke_oneway(end_request(half, sysflag::TRANSACTION_COMMIT_TYPE)).ok());
  EXPECT_EQ(call(*c, end_request(half, sysflag::TRANSACTION_COMMIT_TYPE)).code, rsp::SUCCESS);
  EXPECT_EQ(pull_all(*c, "orders", 1).size(), 1u);
  EXPECT_EQ(b->broker().transactions().stats().committed, 1);
}

TEST(BrokerTransactionTest, RollbackWritesOnlyTheOpRecordAndBadRequestsAreAnswered) {
  TempDir dir;
  auto options = tx_options(dir.str());
  options.broker.transaction.timeout = 1h;
  auto b = start(options);
  ASSERT_TRUE(b);
  auto c = connect_to(b->broker_addr());
  auto half = send_half(*c, "orders", "cancelled", "UNIQ-2");
  EXPECT_EQ(call(*c, end_request(half, sysflag::TRANSACTION_ROLLBACK_TYPE)).code, rsp::SUCCESS);
  EXPECT_TRUE(pull_all(*c, "orders", 1).empty());
  EXPECT_EQ(pull_all(*c, "RMQ_SYS_TRANS_OP_HALF_TOPIC", 0).size(), 1u);
  // A commit after the rollback is too late.
  EXPECT_EQ(call(*c, end_request(half, sysflag::TRANSACTION_COMMIT_TYPE)).code, rsp::SUCCESS);
  EXPECT_TRUE(pull_all(*c, "orders", 1).empty());

  // A bad commitLogOffset, exactly as verified against 4.9.7 (spec §8.7).
  Half bad = half;
  bad.commit_log_offset = 987654321;
  auto reply = call(*c, end_request(bad, sysflag::TRANSACTION_COMMIT_TYPE));
  EXPECT_EQ(reply.code, rsp::SYSTEM_ERROR);
  EXPECT_EQ(reply.remark, "Find prepared transaction message failed");
  // Another group's END, or the wrong queue offset, is refused as a real broker does.
  auto other = send_half(*c, "orders", "x", "UNIQ-3");
  Half wrong_group = other;
  reply = call(*c, end_request(wrong_group, sysflag::TRANSACTION_COMMIT_TYPE, false, "other"));
  EXPECT_EQ(reply.code, rsp::SYSTEM_ERROR);
  EXPECT_EQ(reply.remark, "The producer group wrong");
  Half wrong_offset = other;
  wrong_offset.queue_offset += 7;
  reply = call(*c, end_request(wrong_offset, sysflag::TRANSACTION_COMMIT_TYPE));
  EXPECT_EQ(reply.remark, "The transaction state table offset wrong");
  // A header without its required fields is refused, not a crash.
  auto empty = call(*c, RemotingCommand::request(rc::END_TRANSACTION, {{"producerGroup", "pg"}}));
  EXPECT_EQ(empty.code, rsp::SYSTEM_ERROR);
  // Unknown (0) is not answered, as RocketMQ: the connection stays usable.
  auto unknown = c->invoke(end_request(other, sysflag::TRANSACTION_NOT_TYPE), 300ms);
  EXPECT_FALSE(unknown.ok());
  c = connect_to(b->broker_addr());
  EXPECT_TRUE(pull_all(*c, "orders", 1).empty());
}

TEST(BrokerTransactionTest, UnresolvedHalvesAreCheckedBackAndTheAnswersApplied) {
  TempDir dir;
  auto b = start(tx_options(dir.str()));
  ASSERT_TRUE(b);
  auto producer = producer_connection(b->broker_addr());
  auto commit_me = send_half(*producer, "orders", "commit me", "UNIQ-C");
  auto roll_me = send_half(*producer, "orders", "roll me back", "UNIQ-R");

  std::set<std::string> answered;
  for (int i = 0; i < 20 && answered.size() < 2; ++i) {
    auto check = producer->take_server_request(5s);
    ASSERT_TRUE(check.ok()) << "no check-back: " << check.error().to_string();
    ASSERT_EQ(check->code, rc::CHECK_TRANSACTION_STATE);
    EXPECT_TRUE(check->is_oneway());
    auto h = rocketmq::CheckTransactionStateRequestHeader::from_ext_fields(check->ext_fields);
    ASSERT_TRUE(h.ok()) << h.error().message();
    auto body = rocketmq::decode_stored_message(check->body);
    ASSERT_TRUE(body.ok()) << body.error().message();
    EXPECT_EQ(body->topic, "orders");  // shown with its real topic and queue
    EXPECT_EQ(body->queue_id, 1);
    EXPECT_EQ(body->physical_offset, h->commit_log_offset);
    auto props = rocketmq::parse_properties(body->properties);
    EXPECT_EQ(h->transaction_id.value_or(""), props["UNIQ_KEY"]);
    EXPECT_FALSE(props["TRANSACTION_CHECK_TIMES"].empty());
    // The producer answers with the offsets of the copy it was asked about.
    Half asked{h->tran_state_table_offset, h->commit_log_offset, props["UNIQ_KEY"]};
    std::string text(body->body);
    bool commit = text == "commit me";
    auto reply = call(*producer, end_request(asked,
                                             commit ? sysflag::TRANSACTION_COMMIT_TYPE
                                                    : sysflag::TRANSACTION_ROLLBACK_TYPE,
                                             /*from_check=*/true));
    EXPECT_EQ(reply.code, rsp::SUCCESS) << reply.remark;
    answered.insert(text);
  }
  ASSERT_EQ(answered.size(), 2u);
  auto got = pull_all(*producer, "orders", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "commit me");
  // Resolved (both answers were acknowledged): no more check-backs after this point.
  auto& tx = b->broker().transactions();
  const auto checks = tx.stats().checks_sent;
  std::this_thread::sleep_for(500ms);  // five passes
  EXPECT_EQ(tx.stats().checks_sent, checks) << "a resolved transaction was checked back";
  // The producer's own late END of the first copies changes nothing.
  EXPECT_EQ(call(*producer, end_request(commit_me, sysflag::TRANSACTION_COMMIT_TYPE)).code,
            rsp::SUCCESS);
  EXPECT_EQ(call(*producer, end_request(roll_me, sysflag::TRANSACTION_COMMIT_TYPE)).code,
            rsp::SUCCESS);
  EXPECT_EQ(pull_all(*producer, "orders", 1).size(), 1u);
  EXPECT_EQ(tx.stats().committed, 1);
  EXPECT_EQ(tx.stats().rolled_back, 1);
}

TEST(BrokerTransactionTest, UnansweredHalvesAreDiscardedAfterCheckMax) {
  TempDir dir;
  auto b = start(tx_options(dir.str(), /*check_max=*/2));
  ASSERT_TRUE(b);
  auto producer = producer_connection(b->broker_addr());
  send_half(*producer, "orders", "never answered", "UNIQ-N");
  for (int i = 1; i <= 2; ++i) {
    auto check = producer->take_server_request(5s);
    ASSERT_TRUE(check.ok()) << "check-back " << i << " missing";
    auto body = rocketmq::decode_stored_message(check->body);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(rocketmq::parse_properties(body->properties)["TRANSACTION_CHECK_TIMES"],
              std::to_string(i));
  }
  std::vector<Pulled> discarded;
  ASSERT_TRUE(eventually(
      [&] { return !(discarded = pull_all(*producer, "TRANS_CHECK_MAX_TIME_TOPIC", 0)).empty(); }));
  ASSERT_EQ(discarded.size(), 1u);
  EXPECT_EQ(discarded[0].body, "never answered");
  EXPECT_EQ(discarded[0].props["REAL_TOPIC"], "orders");
  EXPECT_FALSE(producer->take_server_request(500ms).ok()) << "checked back after the discard";
  EXPECT_TRUE(pull_all(*producer, "orders", 1).empty());
  EXPECT_EQ(b->broker().transactions().stats().discarded, 1);
}

// The check count is kept in the put-back copies: a restart does not start it again.
TEST(BrokerTransactionTest, CheckCountSurvivesARestartThenTheHalfIsDiscarded) {
  TempDir dir;
  auto options = tx_options(dir.str(), /*check_max=*/2);
  int checks = 0;
  {
    auto b = start(options);
    ASSERT_TRUE(b);
    auto producer = producer_connection(b->broker_addr());
    send_half(*producer, "orders", "left open", "UNIQ-D");
    ASSERT_TRUE(producer->take_server_request(5s).ok()) << "no check-back";
    ++checks;
    b->stop();
    while (producer->take_server_request(200ms).ok()) ++checks;  // one more may have come
  }
  auto b = start(options);
  ASSERT_TRUE(b);
  auto producer = producer_connection(b->broker_addr());
  std::vector<Pulled> discarded;
  ASSERT_TRUE(eventually([&] {
    while (producer->take_server_request(10ms).ok()) ++checks;
    return !(discarded = pull_all(*producer, "TRANS_CHECK_MAX_TIME_TOPIC", 0)).empty();
  }));
  while (producer->take_server_request(200ms).ok()) ++checks;
  EXPECT_EQ(checks, 2) << "transactionCheckMax counted again from 0 after the restart";
  ASSERT_EQ(discarded.size(), 1u);
  EXPECT_EQ(discarded[0].body, "left open");
  EXPECT_EQ(discarded[0].props["TRANSACTION_CHECK_TIMES"], "2");
  EXPECT_TRUE(pull_all(*producer, "orders", 1).empty());
}

// Committed, rolled back and unresolved transactions behave the same after a clean restart
// and after a crash (no flush, no checkpoint).
void restart_keeps_transactions(bool crash) {
  TempDir dir;
  auto options = tx_options(dir.str());
  {
    auto quiet = options;
    quiet.broker.transaction.timeout = 1h;  // nothing checked before the restart
    auto b = start(quiet);
    ASSERT_TRUE(b);
    auto c = connect_to(b->broker_addr());
    auto committed = send_half(*c, "orders", "committed", "UNIQ-A");
    auto rolled = send_half(*c, "orders", "rolled back", "UNIQ-B");
    send_half(*c, "orders", "unresolved", "UNIQ-U");
    ASSERT_EQ(call(*c, end_request(committed, sysflag::TRANSACTION_COMMIT_TYPE)).code,
              rsp::SUCCESS);
    ASSERT_EQ(call(*c, end_request(rolled, sysflag::TRANSACTION_ROLLBACK_TYPE)).code, rsp::SUCCESS);
    if (crash) b->store().close_without_flush_for_testing();
  }
  auto b = start(options);
  ASSERT_TRUE(b);
  auto producer = producer_connection(b->broker_addr());
  auto check = producer->take_server_request(5s);
  ASSERT_TRUE(check.ok()) << "the unresolved half was not checked back after the restart";
  auto body = rocketmq::decode_stored_message(check->body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->body, "unresolved");
  auto h = rocketmq::CheckTransactionStateRequestHeader::from_ext_fields(check->ext_fields);
  ASSERT_TRUE(h.ok());
  Half asked{h->tran_state_table_offset, h->commit_log_offset, "UNIQ-U"};
  EXPECT_EQ(call(*producer, end_request(asked, sysflag::TRANSACTION_COMMIT_TYPE, true)).code,
            rsp::SUCCESS);
  auto& tx = b->broker().transactions();
  const auto checks = tx.stats().checks_sent;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(tx.stats().checks_sent, checks) << "a resolved transaction was checked back";
  auto got = pull_all(*producer, "orders", 1);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "committed");
  EXPECT_EQ(got[1].body, "unresolved");
  // The progress survives a second restart: nothing is checked again.
  b.reset();
  b = start(options);
  ASSERT_TRUE(b);
  producer = producer_connection(b->broker_addr());
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(b->broker().transactions().stats().checks_sent, 0);
  EXPECT_EQ(pull_all(*producer, "orders", 1).size(), 2u);
}

TEST(BrokerTransactionTest, OutcomesSurviveARestart) {
  restart_keeps_transactions(false);
}

TEST(BrokerTransactionTest, OutcomesSurviveACrash) {
  restart_keeps_transactions(true);
}

}  // namespace
}  // namespace rmqc::broker
