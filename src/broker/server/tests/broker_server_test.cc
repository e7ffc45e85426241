// The embedded broker and name server over real TCP, driven by raw remoting requests.
#include "base/logging.h"
#include "broker/server/embedded_broker.h"
#include "broker/server/tests/broker_test_env.h"
#include "rocketmq/protocol/acl.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/message_properties.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"
#include "rocketmq/remoting/blocking_client.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

namespace rmqc::broker {
namespace {

namespace fs = std::filesystem;
namespace rc = rocketmq::request_code;
namespace rsp = rocketmq::response_code;
using remoting::BlockingClient;
using rocketmq::RemotingCommand;
using namespace std::chrono_literals;
using testing::call;
using testing::connect_to;
using testing::eventually;
using testing::pull_request;
using testing::TempDir;
using testing::test_options;

RemotingCommand send_request(const std::string& topic, std::string body, std::string tags = "",
                             std::string keys = "", std::int32_t queue_id = 0) {
  rocketmq::MessageProperties props;
  if (!tags.empty()) props["TAGS"] = tags;
  if (!keys.empty()) props["KEYS"] = keys;
  return testing::send_request(topic, std::move(body), std::move(props), queue_id);
}

RemotingCommand delayed_send_request(const std::string& topic, std::string body, int level,
                                     std::int32_t queue_id = 0) {
  auto cmd = send_request(topic, std::move(body), "", "", queue_id);
  auto h = rocketmq::SendMessageRequestHeader::from_command(cmd);
  auto props = rocketmq::parse_properties(h->properties);
  props["DELAY"] = std::to_string(level);
  h->properties = rocketmq::encode_properties(props);
  auto out = RemotingCommand::request(rc::SEND_MESSAGE_V2, h->to_v2_ext_fields());
  out.body = cmd.body;
  return out;
}

// Every record of a queue from offset 0 (copied out of the reply).
struct Pulled {
  std::string body;
  std::string msg_id;
  std::int32_t reconsume_times = 0;
  rocketmq::MessageProperties props;
};
std::vector<Pulled> pull_all(BlockingClient& c, const std::string& topic, std::int32_t queue) {
  std::vector<Pulled> out;
  auto reply = call(c, pull_request(topic, queue, 0));
  if (reply.code != rsp::SUCCESS) return out;
  auto records = rocketmq::decode_stored_messages(reply.body);
  if (!records.ok()) return out;
  for (const auto& r : *records) {
    Pulled p;
    p.body = std::string(r.body);
    p.msg_id = r.offset_msg_id();
    p.reconsume_times = r.reconsume_times;
    p.props = rocketmq::parse_properties(r.properties);
    out.push_back(std::move(p));
  }
  return out;
}

std::string heartbeat_body(const std::string& client_id, const std::string& group,
                           const std::string& topic) {
  rocketmq::HeartbeatData hb;
  hb.client_id = client_id;
  rocketmq::ConsumerData c;
  c.group_name = group;
  c.subscription_data_set.push_back(rocketmq::SubscriptionData::build(topic, "*", 1));
  hb.consumer_data_set.push_back(c);
  return hb.to_json();
}

class BrokerServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto options = test_options(dir_.str());
    options.broker.message_delay_level = "100ms 100ms 100ms 200ms";  // retries come back soon
    auto b = EmbeddedBroker::start(options);
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    broker_ = std::move(b).value();
  }
  TempDir dir_;
  std::unique_ptr<EmbeddedBroker> broker_;
};

TEST_F(BrokerServerTest, RoutesTopicsThroughTheNameServer) {
  auto ns = connect_to(broker_->namesrv_addr());
  auto route =
      call(*ns, RemotingCommand::request(rc::GET_ROUTEINFO_BY_TOPIC, {{"topic", "TBW102"}}));
  ASSERT_EQ(route.code, rsp::SUCCESS) << route.remark;
  auto data = rocketmq::TopicRouteData::from_json(route.body);
  ASSERT_TRUE(data.ok()) << data.error().message();
  ASSERT_EQ(data->broker_datas.size(), 1u);
  EXPECT_EQ(data->broker_datas[0].broker_addrs.at(0), broker_->broker_addr());
  EXPECT_EQ(data->queue_datas[0].perm, 7);

  auto missing =
      call(*ns, RemotingCommand::request(rc::GET_ROUTEINFO_BY_TOPIC, {{"topic", "nope"}}));
  EXPECT_EQ(missing.code, rsp::TOPIC_NOT_EXIST);
  EXPECT_TRUE(missing.remark.starts_with("No topic route info in name server for the topic: nope"));

  auto b = connect_to(broker_->broker_addr());
  rocketmq::CreateTopicRequestHeader create;
  create.topic = "orders";
  create.read_queue_nums = create.write_queue_nums = 3;
  auto created =
      call(*b, RemotingCommand::request(rc::UPDATE_AND_CREATE_TOPIC, create.to_ext_fields()));
  ASSERT_EQ(created.code, rsp::SUCCESS) << created.remark;
  route = call(*ns, RemotingCommand::request(rc::GET_ROUTEINFO_BY_TOPIC, {{"topic", "orders"}}));
  ASSERT_EQ(route.code, rsp::SUCCESS);
  data = rocketmq::TopicRouteData::from_json(route.body);
  EXPECT_EQ(data->queue_datas[0].write_queue_nums, 3);

  create.topic = "TBW102";
  auto system =
      call(*b, RemotingCommand::request(rc::UPDATE_AND_CREATE_TOPIC, create.to_ext_fields()));
  EXPECT_EQ(system.code, rsp::SYSTEM_ERROR);
  EXPECT_EQ(system.remark, "The topic[TBW102] is conflict with system topic.");

  auto cluster = call(*ns, RemotingCommand::request(rc::GET_BROKER_CLUSTER_INFO));
  auto info = rocketmq::ClusterInfo::from_json(cluster.body);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->cluster_addr_table.at("DefaultCluster"), std::vector<std::string>{"broker-a"});
  auto topics = call(*ns, RemotingCommand::request(rc::GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
  EXPECT_NE(topics.body.find("orders"), std::string::npos);
}

TEST_F(BrokerServerTest, SendThenPullReturnsStoredRecords) {
  auto c = connect_to(broker_->broker_addr());
  auto sent = call(*c, send_request("t1", "hello", "TagA", "k1"));
  ASSERT_EQ(sent.code, rsp::SUCCESS) << sent.remark;
  EXPECT_EQ(*sent.ext("queueOffset"), "0");
  EXPECT_EQ(*sent.ext("queueId"), "0");
  EXPECT_EQ(sent.ext("msgId")->size(), 32u);
  EXPECT_EQ(*sent.ext("MSG_REGION"), "DefaultRegion");
  auto second = call(*c, send_request("t1", "world", "TagB"));
  EXPECT_EQ(*second.ext("queueOffset"), "1");

  auto pulled = call(*c, pull_request("t1", 0, 0));
  ASSERT_EQ(pulled.code, rsp::SUCCESS) << pulled.remark;
  EXPECT_EQ(pulled.remark, "FOUND");
  EXPECT_EQ(*pulled.ext("nextBeginOffset"), "2");
  EXPECT_EQ(*pulled.ext("maxOffset"), "2");
  auto records = rocketmq::decode_stored_messages(pulled.body);
  ASSERT_TRUE(records.ok()) << records.error().message();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].body, "hello");
  EXPECT_EQ((*records)[0].topic, "t1");
  EXPECT_EQ((*records)[0].offset_msg_id(), *sent.ext("msgId"));
  auto props = rocketmq::parse_properties((*records)[0].properties);
  EXPECT_EQ(props["TAGS"], "TagA");
  EXPECT_EQ(props["KEYS"], "k1");
  EXPECT_EQ(props["CLUSTER"], "DefaultCluster");
  EXPECT_EQ(props.count("WAIT"), 0u);

  // Tag filter: only TagB.
  auto filtered = call(*c, pull_request("t1", 0, 0, 0, "TagB"));
  ASSERT_EQ(filtered.code, rsp::SUCCESS);
  auto only_b = rocketmq::decode_stored_messages(filtered.body);
  ASSERT_EQ(only_b->size(), 1u);
  EXPECT_EQ((*only_b)[0].body, "world");

  // Out-of-range offsets.
  EXPECT_EQ(call(*c, pull_request("t1", 0, 2)).code, rsp::PULL_NOT_FOUND);
  auto badly = call(*c, pull_request("t1", 0, 9));
  EXPECT_EQ(badly.code, rsp::PULL_OFFSET_MOVED);
  EXPECT_EQ(*badly.ext("nextBeginOffset"), "2");
  auto bad_queue = call(*c, pull_request("t1", 7, 0));
  EXPECT_EQ(bad_queue.code, rsp::SYSTEM_ERROR);
  EXPECT_EQ(call(*c, pull_request("unknown-topic", 0, 0)).code, rsp::TOPIC_NOT_EXIST);
}

TEST_F(BrokerServerTest, BatchSendStoresEachMessage) {
  auto c = connect_to(broker_->broker_addr());
  rocketmq::BatchMessageView a{0, "one",
                               "UNIQ_KEY\x01"
                               "A"};
  rocketmq::BatchMessageView b{0, "two",
                               "UNIQ_KEY\x01"
                               "B"};
  std::vector<rocketmq::BatchMessageView> batch{a, b};
  auto body = rocketmq::encode_batch_body(batch);
  ASSERT_TRUE(body.ok());
  rocketmq::SendMessageRequestHeader h;
  h.topic = "batched";
  h.batch = true;
  h.born_timestamp = 1;
  auto cmd = RemotingCommand::request(rc::SEND_BATCH_MESSAGE, h.to_v2_ext_fields());
  cmd.body = *body;
  auto sent = call(*c, cmd);
  ASSERT_EQ(sent.code, rsp::SUCCESS) << sent.remark;
  EXPECT_NE(sent.ext("msgId")->find(','), std::string::npos);
  auto pulled = call(*c, pull_request("batched", 0, 0));
  auto records = rocketmq::decode_stored_messages(pulled.body);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].body, "two");
  EXPECT_EQ(rocketmq::parse_properties((*records)[1].properties)["UNIQ_KEY"], "B");
}

TEST_F(BrokerServerTest, LongPollAnswersWhenAMessageArrives) {
  auto producer = connect_to(broker_->broker_addr());
  ASSERT_EQ(call(*producer, send_request("lp", "first")).code, rsp::SUCCESS);
  auto consumer = connect_to(broker_->broker_addr());
  // Caught up at offset 1: the broker holds the pull (up to 20 s) instead of answering.
  std::thread later([&] {
    std::this_thread::sleep_for(300ms);
    auto p2 = connect_to(broker_->broker_addr());
    EXPECT_EQ(call(*p2, send_request("lp", "second")).code, rsp::SUCCESS);
  });
  auto start = std::chrono::steady_clock::now();
  auto pulled = call(*consumer, pull_request("lp", 0, 1, 20000));
  auto waited = std::chrono::steady_clock::now() - start;
  later.join();
  ASSERT_EQ(pulled.code, rsp::SUCCESS) << pulled.remark;
  auto records = rocketmq::decode_stored_messages(pulled.body);
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].body, "second");
  EXPECT_GE(waited, 250ms);  // it was held, not answered "not found" at once
  EXPECT_LT(waited, 15s);    // and answered on arrival, not at the deadline
}

TEST_F(BrokerServerTest, LongPollTimesOutWithNotFound) {
  auto c = connect_to(broker_->broker_addr());
  ASSERT_EQ(call(*c, send_request("lp2", "x")).code, rsp::SUCCESS);
  auto start = std::chrono::steady_clock::now();
  auto pulled = call(*c, pull_request("lp2", 0, 1, 400));
  EXPECT_EQ(pulled.code, rsp::PULL_NOT_FOUND);
  EXPECT_EQ(*pulled.ext("nextBeginOffset"), "1");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 350ms);
}

TEST_F(BrokerServerTest, ConsumerOffsetsAndQueries) {
  auto c = connect_to(broker_->broker_addr());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(call(*c, send_request("off", "m")).code, rsp::SUCCESS);
  rocketmq::QueryConsumerOffsetRequestHeader q{"g1", "off", 0, std::nullopt};
  auto fresh = call(*c, RemotingCommand::request(rc::QUERY_CONSUMER_OFFSET, q.to_ext_fields()));
  EXPECT_EQ(*fresh.ext("offset"), "0");  // young queue: a new group starts at 0
  rocketmq::UpdateConsumerOffsetRequestHeader u{"g1", "off", 0, 2, std::nullopt};
  EXPECT_EQ(call(*c, RemotingCommand::request(rc::UPDATE_CONSUMER_OFFSET, u.to_ext_fields())).code,
            rsp::SUCCESS);
  auto after = call(*c, RemotingCommand::request(rc::QUERY_CONSUMER_OFFSET, q.to_ext_fields()));
  EXPECT_EQ(*after.ext("offset"), "2");
  rocketmq::QueueRequestHeader qr{"off", 0, std::nullopt, std::nullopt};
  EXPECT_EQ(
      *call(*c, RemotingCommand::request(rc::GET_MAX_OFFSET, qr.to_ext_fields())).ext("offset"),
      "3");
  EXPECT_EQ(
      *call(*c, RemotingCommand::request(rc::GET_MIN_OFFSET, qr.to_ext_fields())).ext("offset"),
      "0");
  rocketmq::SearchOffsetRequestHeader s{"off", 0, 0, std::nullopt};
  EXPECT_EQ(*call(*c, RemotingCommand::request(rc::SEARCH_OFFSET_BY_TIMESTAMP, s.to_ext_fields()))
                 .ext("offset"),
            "0");
  auto earliest =
      call(*c, RemotingCommand::request(rc::GET_EARLIEST_MSG_STORETIME, qr.to_ext_fields()));
  EXPECT_GT(std::stoll(*earliest.ext("timestamp")), 0);
}

TEST_F(BrokerServerTest, MembershipChangesAreNotified) {
  auto a = connect_to(broker_->broker_addr());
  auto hb = RemotingCommand::request(rc::HEART_BEAT);
  hb.body = heartbeat_body("client-a", "G", "T");
  ASSERT_EQ(call(*a, hb).code, rsp::SUCCESS);
  auto first = a->take_server_request(2s);  // the joiner is notified too, before the reply
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(first->code, rc::NOTIFY_CONSUMER_IDS_CHANGED);
  EXPECT_EQ(*first->ext("consumerGroup"), "G");
  EXPECT_TRUE(first->is_oneway());

  auto b = connect_to(broker_->broker_addr());
  hb.body = heartbeat_body("client-b", "G", "T");
  ASSERT_EQ(call(*b, hb).code, rsp::SUCCESS);
  ASSERT_TRUE(a->take_server_request(2s).ok());  // a learns that b joined
  ASSERT_TRUE(b->take_server_request(2s).ok());

  auto list =
      call(*a, RemotingCommand::request(rc::GET_CONSUMER_LIST_BY_GROUP, {{"consumerGroup", "G"}}));
  ASSERT_EQ(list.code, rsp::SUCCESS);
  auto ids = rocketmq::ConsumerListBody::from_json(list.body);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->consumer_id_list.size(), 2u);

  // Same heartbeat again: no notification.
  hb.body = heartbeat_body("client-a", "G", "T");
  ASSERT_EQ(call(*a, hb).code, rsp::SUCCESS);
  EXPECT_FALSE(a->take_server_request(300ms).ok());

  b->close();  // a learns that b left
  auto left = a->take_server_request(3s);
  ASSERT_TRUE(left.ok()) << left.error().to_string();
  EXPECT_EQ(left->code, rc::NOTIFY_CONSUMER_IDS_CHANGED);
  list =
      call(*a, RemotingCommand::request(rc::GET_CONSUMER_LIST_BY_GROUP, {{"consumerGroup", "G"}}));
  ids = rocketmq::ConsumerListBody::from_json(list.body);
  EXPECT_EQ(ids->consumer_id_list, std::vector<std::string>{"client-a"});

  // The group's retry topic exists now.
  auto ns = connect_to(broker_->namesrv_addr());
  auto route =
      call(*ns, RemotingCommand::request(rc::GET_ROUTEINFO_BY_TOPIC, {{"topic", "%RETRY%G"}}));
  EXPECT_EQ(route.code, rsp::SUCCESS);
  auto empty = call(
      *a, RemotingCommand::request(rc::GET_CONSUMER_LIST_BY_GROUP, {{"consumerGroup", "none"}}));
  EXPECT_EQ(empty.code, rsp::SYSTEM_ERROR);
  EXPECT_EQ(empty.remark, "no consumer for this group, none");
}

// Everything the broker and name server log, from before any of them starts: sinks are attached
// once, at static initialisation, because a logger's sink list must not change while server
// threads log. Tests find their lines by a reason no other test produces.
class CaptureSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines_containing(std::string_view a, std::string_view b = {}) {
    std::lock_guard lock(this->mutex_);
    std::vector<std::string> found;
    for (const auto& line : lines_) {
      if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) {
        found.push_back(line);
      }
    }
    return found;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.push_back(std::string(spdlog::level::to_string_view(msg.level).data(),
                                 spdlog::level::to_string_view(msg.level).size()) +
                     " " + std::string(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

CaptureSink& captured_log() {
  static auto sink = [] {
    auto s = std::make_shared<CaptureSink>();
    for (const char* name : {"broker", "namesrv"}) logger(name)->sinks().push_back(s);
    return s;
  }();
  return *sink;
}
[[maybe_unused]] const bool kCaptureInstalled = (captured_log(), true);

// A pull that names no subscription of its own: the broker answers it from the subscription the
// group registered by heartbeat, or SUBSCRIPTION_NOT_EXIST when it has none.
RemotingCommand group_pull(const std::string& group, const std::string& topic) {
  rocketmq::PullMessageRequestHeader h;
  h.consumer_group = group;
  h.topic = topic;
  h.queue_id = 0;
  h.queue_offset = 0;
  h.max_msg_nums = 32;
  h.sys_flag = 0;
  return RemotingCommand::request(rc::PULL_MESSAGE, h.to_ext_fields());
}

// Sends a heartbeat with this body over a fresh connection and checks that the client joined
// its group and that the group's subscription is the one a pull is served from.
void expect_heartbeat_registers(EmbeddedBroker& broker, const std::string& body,
                                const std::string& client_id, const std::string& group,
                                const std::string& topic) {
  auto c = connect_to(broker.broker_addr());
  ASSERT_EQ(call(*c, send_request(topic, "m1")).code, rsp::SUCCESS);
  EXPECT_EQ(call(*c, group_pull(group, topic)).code, rsp::SUBSCRIPTION_NOT_EXIST);
  auto hb = RemotingCommand::request(rc::HEART_BEAT);
  hb.body = body;
  auto reply = call(*c, hb);
  ASSERT_EQ(reply.code, rsp::SUCCESS) << reply.remark;
  auto notify = c->take_server_request(2s);
  ASSERT_TRUE(notify.ok()) << notify.error().to_string();
  EXPECT_EQ(notify->code, rc::NOTIFY_CONSUMER_IDS_CHANGED);
  EXPECT_EQ(*notify->ext("consumerGroup"), group);
  auto list = call(
      *c, RemotingCommand::request(rc::GET_CONSUMER_LIST_BY_GROUP, {{"consumerGroup", group}}));
  ASSERT_EQ(list.code, rsp::SUCCESS) << list.remark;
  auto ids = rocketmq::ConsumerListBody::from_json(list.body);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->consumer_id_list, std::vector<std::string>{client_id});
  auto pulled = call(*c, group_pull(group, topic));
  EXPECT_EQ(pulled.code, rsp::SUCCESS) << pulled.remark;
  EXPECT_NE(pulled.body.find("m1"), std::string::npos);
}

TEST_F(BrokerServerTest, CppClientHeartbeatWithOrdinalsAndStringNumbersJoinsTheGroup) {
  // rocketmq-client-cpp 2.x, verbatim from the protocol doc (2.3.6): enums as ordinals,
  // subVersion as a string, no unitMode/classFilterMode/expressionType/tagsSet/codeSet.
  const std::string body =
      R"({"clientID":"127.0.0.1@4242#rig_consume_4242","consumerDataSet":[{"consumeFromWhere":4,"consumeType":1,)"
      R"("groupName":"G1","messageModel":1,"subscriptionDataSet":[{"subString":"*","subVersion":"1733470000000",)"
      R"("topic":"TopicTest"},{"subString":"*","subVersion":"1733470000001","topic":"%RETRY%G1"}]}],)"
      R"("producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}]})"
      "\n";
  expect_heartbeat_registers(*broker_, body, "127.0.0.1@4242#rig_consume_4242", "G1", "TopicTest");
}

TEST_F(BrokerServerTest, JavaClientHeartbeatJoinsTheGroup) {
  const std::string body =
      R"({"clientID":"192.168.0.10@12345#9876543210",)"
      R"("consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY",)"
      R"("groupName":"G2","messageModel":"CLUSTERING","subscriptionDataSet":[)"
      R"({"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*",)"
      R"("subVersion":1700000000000,"tagsSet":[],"topic":"TopicJ"},)"
      R"({"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*",)"
      R"("subVersion":1700000000001,"tagsSet":[],"topic":"%RETRY%G2"}],"unitMode":false}],)"
      R"("producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}]})";
  expect_heartbeat_registers(*broker_, body, "192.168.0.10@12345#9876543210", "G2", "TopicJ");
}

TEST_F(BrokerServerTest, HeartbeatWithABadEnumIsRefusedAndLoggedOnce) {
  auto& log = captured_log();
  auto c = connect_to(broker_->broker_addr());
  auto hb = RemotingCommand::request(rc::HEART_BEAT);
  hb.body =
      R"({"clientID":"bad@1","consumerDataSet":[{"consumeFromWhere":4,"consumeType":"CONSUME_SOMETIMES",)"
      R"("groupName":"GB","messageModel":1,"subscriptionDataSet":[{"subString":"*","topic":"T"}]}]})";
  for (int i = 0; i < 3; ++i) {
    auto reply = call(*c, hb);
    EXPECT_EQ(reply.code, rsp::SYSTEM_ERROR);
    EXPECT_NE(reply.remark.find("consumeType"), std::string::npos) << reply.remark;
  }
  // An ordinal beyond the enum is refused too (a different reason, so logged on its own).
  hb.body =
      R"({"clientID":"bad@1","consumerDataSet":[{"consumeFromWhere":6,"consumeType":1,)"
      R"("groupName":"GB","messageModel":1,"subscriptionDataSet":[{"subString":"*","topic":"T"}]}]})";
  auto reply = call(*c, hb);
  EXPECT_EQ(reply.code, rsp::SYSTEM_ERROR);
  EXPECT_NE(reply.remark.find("consumeFromWhere"), std::string::npos) << reply.remark;
  // Nobody joined.
  auto list =
      call(*c, RemotingCommand::request(rc::GET_CONSUMER_LIST_BY_GROUP, {{"consumerGroup", "GB"}}));
  EXPECT_EQ(list.code, rsp::SYSTEM_ERROR);

  // One warning per reason, naming the request code, the peer and the reason.
  auto bad_name = log.lines_containing("refused request 34 from 127.0.0.1:", "CONSUME_SOMETIMES");
  ASSERT_EQ(bad_name.size(), 1u);
  EXPECT_EQ(bad_name[0].rfind("warning ", 0), 0u) << bad_name[0];
  EXPECT_NE(bad_name[0].find("HeartbeatData: "), std::string::npos) << bad_name[0];
  EXPECT_EQ(log.lines_containing("refused request 34 from 127.0.0.1:",
                                 "consumeFromWhere: no value with ordinal 6")
                .size(),
            1u);
  // The broker still serves this connection.
  EXPECT_EQ(call(*c, send_request("still-ok", "x")).code, rsp::SUCCESS);
}

TEST_F(BrokerServerTest, NameServerReadsRegistrationsLeniently) {
  auto& log = captured_log();
  auto ns = connect_to(broker_->namesrv_addr());
  rocketmq::RegisterBrokerRequestHeader h;
  h.broker_name = "broker-x";
  h.broker_addr = "127.0.0.1:1";
  h.cluster_name = "DefaultCluster";
  h.ha_server_addr = "127.0.0.1:2";
  auto reg = RemotingCommand::request(rc::REGISTER_BROKER, h.to_ext_fields());
  // Numbers as strings, booleans as strings, the filter type as an ordinal, unknown fields.
  reg.body =
      R"({"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":"3",)"
      R"("timestamp":"1700000000000","unknown":1},"topicConfigTable":{"LenientTopic":{"order":"false",)"
      R"("perm":"6","readQueueNums":"3","topicFilterType":0,"topicName":"LenientTopic",)"
      R"("topicSysFlag":0,"writeQueueNums":3,"extra":"x"}}}})";
  auto ok = call(*ns, reg);
  ASSERT_EQ(ok.code, rsp::SUCCESS) << ok.remark;
  auto route =
      call(*ns, RemotingCommand::request(rc::GET_ROUTEINFO_BY_TOPIC, {{"topic", "LenientTopic"}}));
  ASSERT_EQ(route.code, rsp::SUCCESS) << route.remark;
  auto data = rocketmq::TopicRouteData::from_json(route.body);
  ASSERT_TRUE(data.ok());
  ASSERT_EQ(data->queue_datas.size(), 1u);
  EXPECT_EQ(data->queue_datas[0].read_queue_nums, 3);
  EXPECT_EQ(data->queue_datas[0].perm, 6);

  // A body that cannot be read is refused, and logged once however often it comes.
  reg.body = R"({"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":"rw"}}}})";
  for (int i = 0; i < 2; ++i) EXPECT_EQ(call(*ns, reg).code, rsp::SYSTEM_ERROR);
  auto refused = log.lines_containing("refused request 103 from ", "string \"rw\" is not a number");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].rfind("warning ", 0), 0u) << refused[0];
  EXPECT_NE(refused[0].find("RegisterBrokerBody"), std::string::npos) << refused[0];
}

RemotingCommand lock_request(bool lock, const std::string& group, const std::string& client_id,
                             std::vector<std::int32_t> queue_ids) {
  rocketmq::LockBatchRequestBody body;
  body.consumer_group = group;
  body.client_id = client_id;
  for (auto id : queue_ids) body.mq_set.push_back(rocketmq::MessageQueue{"T", "broker-a", id});
  auto cmd = RemotingCommand::request(lock ? rc::LOCK_BATCH_MQ : rc::UNLOCK_BATCH_MQ);
  cmd.body = body.to_json();
  return cmd;
}

std::vector<std::int32_t> locked_ids(const RemotingCommand& reply) {
  EXPECT_EQ(reply.code, rsp::SUCCESS);
  auto body = rocketmq::LockBatchResponseBody::from_json(reply.body);
  EXPECT_TRUE(body.ok()) << reply.body;
  std::vector<std::int32_t> out;
  if (body.ok()) {
    for (const auto& mq : body->lock_ok_mq_set) out.push_back(mq.queue_id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(BrokerServerTest, QueueLocksAreExclusiveAndDroppedWithTheirConnection) {
  using Ids = std::vector<std::int32_t>;
  auto a = connect_to(broker_->broker_addr());
  auto b = connect_to(broker_->broker_addr());
  EXPECT_EQ(locked_ids(call(*a, lock_request(true, "G", "client-a", {0, 1}))), (Ids{0, 1}));
  EXPECT_EQ(locked_ids(call(*a, lock_request(true, "G2", "client-a", {0}))), (Ids{0}));
  // Held by a: b gets only the free one; renewing is granted to the holder.
  EXPECT_EQ(locked_ids(call(*b, lock_request(true, "G", "client-b", {0, 1, 2}))), (Ids{2}));
  EXPECT_EQ(locked_ids(call(*a, lock_request(true, "G", "client-a", {0, 1}))), (Ids{0, 1}));
  // Unlocking someone else's lock does nothing (code 0, no body).
  auto unlock = call(*b, lock_request(false, "G", "client-b", {0}));
  EXPECT_EQ(unlock.code, rsp::SUCCESS);
  EXPECT_TRUE(unlock.body.empty());
  EXPECT_EQ(locked_ids(call(*b, lock_request(true, "G", "client-b", {0}))), Ids{});
  // The holder unlocks one: b takes it.
  EXPECT_EQ(call(*a, lock_request(false, "G", "client-a", {1})).code, rsp::SUCCESS);
  EXPECT_EQ(locked_ids(call(*b, lock_request(true, "G", "client-b", {1}))), (Ids{1}));

  // a's connection closes without unlocking: its locks in every group go at once, not after
  // the lock expiry (60 s); b's stay b's.
  auto c = connect_to(broker_->broker_addr());
  const auto closed_at = std::chrono::steady_clock::now();
  a->close();
  Ids got;
  while (got != Ids{0, 1, 2} && std::chrono::steady_clock::now() - closed_at < 10s) {
    got = locked_ids(call(*b, lock_request(true, "G", "client-b", {0, 1, 2})));
    if (got != Ids{0, 1, 2}) std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(got, (Ids{0, 1, 2}));
  std::printf("locks of the closed connection free after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - closed_at)
                                         .count()));
  EXPECT_EQ(locked_ids(call(*c, lock_request(true, "G2", "client-c", {0}))), (Ids{0}));
  EXPECT_EQ(locked_ids(call(*c, lock_request(true, "G", "client-c", {0, 1, 2}))), Ids{});
}

TEST(BrokerDelayTest, DelayedMessageIsParkedThenDeliveredAfterItsLevel) {
  TempDir dir;
  auto options = test_options(dir.str());
  options.broker.message_delay_level = "200ms 1h";
  auto b = EmbeddedBroker::start(options);
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  auto c = connect_to((*b)->broker_addr());
  // Level 2 (an hour) stays parked; level 1 (200 ms) is delivered: once it is, the scan ran past
  // level 2 too. Level 9 is clamped to the last level.
  auto later = call(*c, delayed_send_request("timed", "in an hour", 2, 1));
  ASSERT_EQ(later.code, rsp::SUCCESS) << later.remark;
  EXPECT_EQ(*later.ext("queueId"), "1");  // the real queue, not the schedule queue
  ASSERT_EQ(call(*c, delayed_send_request("timed", "clamped", 9, 1)).code, rsp::SUCCESS);
  auto soon = call(*c, delayed_send_request("timed", "soon", 1, 2));
  ASSERT_EQ(soon.code, rsp::SUCCESS) << soon.remark;

  std::vector<Pulled> got;
  ASSERT_TRUE(eventually([&] { return !(got = pull_all(*c, "timed", 2)).empty(); }))
      << "the level-1 message was never delivered";
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "soon");
  EXPECT_NE(got[0].msg_id, *soon.ext("msgId")) << "a delivered copy is a new message";
  EXPECT_EQ(got[0].props["REAL_TOPIC"], "timed");
  EXPECT_EQ(got[0].props["REAL_QID"], "2");
  EXPECT_EQ(got[0].props.count("DELAY"), 0u);
  EXPECT_TRUE(pull_all(*c, "timed", 1).empty()) << "an hour's delay was delivered at once";
  EXPECT_EQ((*b)->broker().schedule().pending(2), 2);
  // Parked in SCHEDULE_TOPIC_XXXX queue level-1, with its real topic and queue.
  auto parked = pull_all(*c, "SCHEDULE_TOPIC_XXXX", 1);
  ASSERT_EQ(parked.size(), 2u);
  EXPECT_EQ(parked[0].props["DELAY"], "2");
  EXPECT_EQ(parked[1].props["DELAY"], "2");
  EXPECT_EQ(parked[0].props["REAL_TOPIC"], "timed");
  EXPECT_EQ(parked[0].props["REAL_QID"], "1");
}

TEST(BrokerDelayTest, DeliveryProgressSurvivesARestart) {
  TempDir dir;
  auto options = test_options(dir.str());
  options.broker.message_delay_level = "300ms";
  {
    auto b = EmbeddedBroker::start(options);
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    auto c = connect_to((*b)->broker_addr());
    ASSERT_EQ(call(*c, delayed_send_request("later", "a", 1)).code, rsp::SUCCESS);
    ASSERT_TRUE(eventually([&] { return pull_all(*c, "later", 0).size() == 1; }));
    ASSERT_EQ(call(*c, delayed_send_request("later", "b", 1)).code, rsp::SUCCESS);
  }  // stopped, b possibly not yet due
  auto b = EmbeddedBroker::start(options);
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  auto c = connect_to((*b)->broker_addr());
  std::vector<Pulled> got;
  ASSERT_TRUE(eventually([&] { return (got = pull_all(*c, "later", 0)).size() >= 2; }));
  std::this_thread::sleep_for(500ms);  // a repeated delivery of a would show up by now
  got = pull_all(*c, "later", 0);
  ASSERT_EQ(got.size(), 2u) << "a delayed message was delivered twice or lost across a restart";
  EXPECT_EQ(got[0].body, "a");
  EXPECT_EQ(got[1].body, "b");
}

TEST(BrokerDelayTest, DelayLevelsParseLikeMessageDelayLevel) {
  EXPECT_TRUE(
      parse_delay_levels("1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h").ok());
  auto levels = parse_delay_levels(" 250ms 2s  3m 1h 1d ");
  ASSERT_TRUE(levels.ok());
  EXPECT_EQ(levels->size(), 5u);
  EXPECT_EQ((*levels)[0], 250ms);
  EXPECT_EQ((*levels)[4], 24h);
  EXPECT_FALSE(parse_delay_levels("1s 5x").ok());
  EXPECT_FALSE(parse_delay_levels("").ok());
  EXPECT_FALSE(parse_delay_levels("-1s").ok());
}

TEST_F(BrokerServerTest, SendBackGoesToRetryThenDeadLetterQueue) {
  auto c = connect_to(broker_->broker_addr());
  ASSERT_EQ(call(*c, send_request("work", "job")).code, rsp::SUCCESS);
  auto pulled = call(*c, pull_request("work", 0, 0));
  auto records = rocketmq::decode_stored_messages(pulled.body);
  ASSERT_EQ(records->size(), 1u);
  rocketmq::ConsumerSendMsgBackRequestHeader back;
  back.offset = (*records)[0].physical_offset;
  back.group = "W";
  back.delay_level = 0;
  back.max_reconsume_times = 1;
  ASSERT_EQ(
      call(*c, RemotingCommand::request(rc::CONSUMER_SEND_MSG_BACK, back.to_ext_fields())).code,
      rsp::SUCCESS);
  // Backed off through delay level 3 (+ reconsumeTimes 0), as a real broker does.
  auto parked = pull_all(*c, "SCHEDULE_TOPIC_XXXX", 2);
  ASSERT_EQ(parked.size(), 1u) << "the retry was not parked at delay level 3";
  EXPECT_EQ(parked[0].props["DELAY"], "3");
  EXPECT_EQ(parked[0].props["REAL_TOPIC"], "%RETRY%W");
  EXPECT_EQ(parked[0].props["REAL_QID"], "0");
  RemotingCommand retry_reply;
  ASSERT_TRUE(eventually([&] {
    retry_reply = call(*c, pull_request("%RETRY%W", 0, 0));
    return retry_reply.code == rsp::SUCCESS;
  })) << "the retry never came back";
  auto retry = rocketmq::decode_stored_messages(retry_reply.body);
  ASSERT_EQ(retry->size(), 1u);
  EXPECT_EQ((*retry)[0].reconsume_times, 1);
  auto props = rocketmq::parse_properties((*retry)[0].properties);
  EXPECT_EQ(props["RETRY_TOPIC"], "work");
  EXPECT_EQ(props["ORIGIN_MESSAGE_ID"], (*records)[0].offset_msg_id());
  EXPECT_EQ(props["REAL_TOPIC"], "%RETRY%W");
  EXPECT_EQ(props.count("DELAY"), 0u);
  // Failing again with reconsumeTimes (1) >= max (1): dead letter queue.
  back.offset = (*retry)[0].physical_offset;
  ASSERT_EQ(
      call(*c, RemotingCommand::request(rc::CONSUMER_SEND_MSG_BACK, back.to_ext_fields())).code,
      rsp::SUCCESS);
  auto dlq_reply = call(*c, pull_request("%DLQ%W", 0, 0));  // the records view this reply's body
  auto dlq = rocketmq::decode_stored_messages(dlq_reply.body);
  ASSERT_TRUE(dlq.ok());
  ASSERT_EQ(dlq->size(), 1u);
  EXPECT_EQ((*dlq)[0].body, "job");
  back.offset = 123456789;
  auto bad = call(*c, RemotingCommand::request(rc::CONSUMER_SEND_MSG_BACK, back.to_ext_fields()));
  EXPECT_EQ(bad.code, rsp::SYSTEM_ERROR);
  EXPECT_EQ(bad.remark, "look message by offset failed, 123456789");
}

TEST_F(BrokerServerTest, BadInputClosesOnlyThatConnection) {
  auto c = connect_to(broker_->broker_addr());
  auto unknown = call(*c, RemotingCommand::request(9999));
  EXPECT_EQ(unknown.code, rsp::REQUEST_CODE_NOT_SUPPORTED);
  EXPECT_EQ(unknown.remark, " request type 9999 not supported");
  auto missing_fields = call(*c, RemotingCommand::request(rc::PULL_MESSAGE, {{"topic", "x"}}));
  EXPECT_EQ(missing_fields.code, rsp::SYSTEM_ERROR);

  auto evil = connect_to(broker_->broker_addr());
  ASSERT_TRUE(evil->send_raw(std::string("\x7f\xff\xff\xff\x00\x00\x00\x10garbage", 15)).ok());
  auto dead = evil->invoke(RemotingCommand::request(rc::HEART_BEAT), 2s);
  EXPECT_FALSE(dead.ok());  // closed by the broker
  // Everyone else is fine.
  EXPECT_EQ(call(*c, send_request("still-ok", "x")).code, rsp::SUCCESS);
}

TEST(BrokerAclTest, OnlySignedRequestsAreServed) {
  TempDir dir;
  auto options = test_options(dir.str());
  options.broker.acl_enable = true;
  options.broker.acl_accounts["rocketmq2"] = "12345678";
  auto b = EmbeddedBroker::start(options);
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  auto c = connect_to((*b)->broker_addr());
  auto unsigned_send = call(*c, send_request("secured", "x"));
  EXPECT_EQ(unsigned_send.code, rsp::SYSTEM_ERROR);
  EXPECT_EQ(unsigned_send.remark, "No accessKey is configured");
  auto wrong = send_request("secured", "x");
  rocketmq::sign_request(wrong, "rocketmq2", "not-the-secret");
  EXPECT_EQ(call(*c, wrong).remark, "Check signature failed for accessKey=rocketmq2");
  auto good = send_request("secured", "x");
  rocketmq::sign_request(good, "rocketmq2", "12345678");
  EXPECT_EQ(call(*c, good).code, rsp::SUCCESS);
  auto pull = pull_request("secured", 0, 0);
  rocketmq::sign_request(pull, "rocketmq2", "12345678");
  auto pulled = call(*c, pull);
  ASSERT_EQ(pulled.code, rsp::SUCCESS) << pulled.remark;
  EXPECT_EQ(rocketmq::decode_stored_messages(pulled.body)->size(), 1u);
}

TEST(BrokerRestartTest, MessagesAndOffsetsSurviveARestart) {
  TempDir dir;
  {
    auto b = EmbeddedBroker::start(test_options(dir.str()));
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    auto c = connect_to((*b)->broker_addr());
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(call(*c, send_request("durable", "m" + std::to_string(i))).code, rsp::SUCCESS);
    }
    rocketmq::UpdateConsumerOffsetRequestHeader u{"g", "durable", 0, 3, std::nullopt};
    call(*c, RemotingCommand::request(rc::UPDATE_CONSUMER_OFFSET, u.to_ext_fields()));
  }
  auto b = EmbeddedBroker::start(test_options(dir.str()));
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  auto c = connect_to((*b)->broker_addr());
  auto records_reply =
      call(*c, pull_request("durable", 0, 0));  // the records view this reply's body
  auto records = rocketmq::decode_stored_messages(records_reply.body);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 5u);
  EXPECT_EQ((*records)[4].body, "m4");
  rocketmq::QueryConsumerOffsetRequestHeader q{"g", "durable", 0, std::nullopt};
  EXPECT_EQ(*call(*c, RemotingCommand::request(rc::QUERY_CONSUMER_OFFSET, q.to_ext_fields()))
                 .ext("offset"),
            "3");
  // The topic survived too: its route is back on the (new) name server.
  auto ns = connect_to((*b)->namesrv_addr());
  EXPECT_EQ(
      call(*ns, RemotingCommand::request(rc::GET_ROUTEINFO_BY_TOPIC, {{"topic", "durable"}})).code,
      rsp::SUCCESS);
}

TEST(MultiBrokerTest, SecondBrokerRegistersWithTheFirstNameServer) {
  TempDir dir_a;
  TempDir dir_b;
  auto a = EmbeddedBroker::start(test_options(dir_a.str()));
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  auto options = test_options(dir_b.str());
  options.run_namesrv = false;
  options.namesrv_addr = (*a)->namesrv_addr();
  options.broker.broker_name = "broker-b";
  auto b = EmbeddedBroker::start(options);
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  auto ns = connect_to((*a)->namesrv_addr());
  auto info = rocketmq::ClusterInfo::from_json(
      call(*ns, RemotingCommand::request(rc::GET_BROKER_CLUSTER_INFO)).body);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->broker_addr_table.size(), 2u);
  EXPECT_EQ(info->broker_addr_table.at("broker-b").broker_addrs.at(0), (*b)->broker_addr());
  // Stopping b unregisters it, and its port refuses connections at once.
  std::string b_addr = (*b)->broker_addr();
  (*b)->stop();
  BlockingClient refused;
  EXPECT_FALSE(refused.connect(b_addr, 2s).ok());
  info = rocketmq::ClusterInfo::from_json(
      call(*ns, RemotingCommand::request(rc::GET_BROKER_CLUSTER_INFO)).body);
  EXPECT_EQ(info->broker_addr_table.size(), 1u);
}

}  // namespace
}  // namespace rmqc::broker
