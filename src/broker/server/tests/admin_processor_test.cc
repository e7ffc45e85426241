// The broker's query, admin and monitoring requests over real TCP (spec §2.2, §2.3.9, §8.5,
// §8.8): QUERY_MESSAGE by key and unique key (also after a restart), consumer connections,
// topic and consume stats, runtime info, broker config, consumers of a topic, all topic
// configs, the name server's topic list, and the smaller differences of issue 16.
#include "broker/server/embedded_broker.h"
#include "broker/server/tests/broker_test_env.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/message_properties.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"
#include "rocketmq/remoting/blocking_client.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

namespace rmqc::broker {
namespace {

namespace fs = std::filesystem;
namespace rc = rocketmq::request_code;
namespace rsp = rocketmq::response_code;
using nlohmann::json;
using remoting::BlockingClient;
using rocketmq::RemotingCommand;
using namespace std::chrono_literals;
using testing::call;
using testing::connect_to;

using testing::TempDir;

std::unique_ptr<EmbeddedBroker> start_broker(const std::string& dir) {
  return testing::start_broker(testing::test_options(dir));
}

RemotingCommand send(BlockingClient& c, const std::string& topic, const std::string& body,
                     const std::string& keys, const std::string& uniq, std::int32_t queue = 0) {
  rocketmq::MessageProperties props;
  if (!keys.empty()) props["KEYS"] = keys;
  if (!uniq.empty()) props["UNIQ_KEY"] = uniq;
  return call(c, testing::send_request(topic, body, std::move(props), queue));
}

RemotingCommand query(BlockingClient& c, const std::string& topic, const std::string& key,
                      bool unique, std::int32_t max_num = 32, std::int64_t begin = 0,
                      std::int64_t end = std::numeric_limits<std::int64_t>::max()) {
  rocketmq::QueryMessageRequestHeader h;
  h.topic = topic;
  h.key = key;
  h.max_num = max_num;
  h.begin_timestamp = begin;
  h.end_timestamp = end;
  h.unique_key_query = unique;
  return call(c, RemotingCommand::request(rc::QUERY_MESSAGE, h.to_ext_fields()));
}

std::multiset<std::string> bodies_of(const RemotingCommand& reply) {
  std::multiset<std::string> out;
  auto records = rocketmq::decode_stored_messages(reply.body);
  EXPECT_TRUE(records.ok());
  if (records.ok()) {
    for (const auto& r : *records) out.insert(std::string(r.body));
  }
  return out;
}

// fastjson's object-keyed maps: `{"brokerName":..,"queueId":..,"topic":..}:{...}` pairs in order.
std::vector<std::pair<json, json>> object_keyed_entries(std::string_view text) {
  std::vector<std::pair<json, json>> out;
  size_t pos = 0;
  auto balanced = [&](size_t start) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = start; i < text.size(); ++i) {
      char c = text[i];
      if (in_string) {
        if (c == '\\') ++i;
        if (c == '"') in_string = false;
        continue;
      }
      if (c == '"') in_string = true;
      if (c == '{') ++depth;
      if (c == '}' && --depth == 0) return i + 1;
    }
    return text.size();
  };
  while ((pos = text.find("{\"brokerName\"", pos)) != std::string_view::npos) {
    size_t key_end = balanced(pos);
    if (key_end >= text.size() || text[key_end] != ':') break;
    size_t value_end = balanced(key_end + 1);
    out.emplace_back(json::parse(text.substr(pos, key_end - pos)),
                     json::parse(text.substr(key_end + 1, value_end - key_end - 1)));
    pos = value_end;
  }
  return out;
}

TEST(BrokerAdmin, QueryMessageByKeyAndUniqueKeyAlsoAfterRestart) {
  TempDir dir;
  auto broker = start_broker(dir.str());
  ASSERT_TRUE(broker);
  {
    auto c = connect_to(broker->broker_addr());
    for (int i = 0; i < 20; ++i) {
      auto r = send(*c, "Orders", "order-" + std::to_string(i),
                    "K" + std::to_string(i % 4) + " all", "UNIQ" + std::to_string(i), i % 4);
      ASSERT_EQ(r.code, rsp::SUCCESS) << r.remark;
    }
    auto k1 = query(*c, "Orders", "K1", false);
    ASSERT_EQ(k1.code, rsp::SUCCESS) << k1.remark;
    EXPECT_EQ(bodies_of(k1), (std::multiset<std::string>{"order-1", "order-5", "order-9",
                                                         "order-13", "order-17"}));
    EXPECT_GT(std::stoll(k1.ext_fields.at("indexLastUpdateTimestamp")), 0);
    EXPECT_GT(std::stoll(k1.ext_fields.at("indexLastUpdatePhyoffset")), 0);
    auto u = query(*c, "Orders", "UNIQ7", true);
    ASSERT_EQ(u.code, rsp::SUCCESS);
    EXPECT_EQ(bodies_of(u), std::multiset<std::string>{"order-7"});
    auto capped = query(*c, "Orders", "all", false, 3);
    EXPECT_EQ(bodies_of(capped).size(), 3u);
    auto none = query(*c, "Orders", "nope", false);
    EXPECT_EQ(none.code, rsp::QUERY_NOT_FOUND);
    EXPECT_EQ(none.remark, "can not find message, maybe time range not correct");
    EXPECT_EQ(none.ext_fields.at("indexLastUpdateTimestamp"), "0");
    auto early = query(*c, "Orders", "K1", false, 32, 0, 1000);
    EXPECT_EQ(early.code, rsp::QUERY_NOT_FOUND);
  }
  broker->stop();
  broker.reset();
  broker = start_broker(dir.str());
  ASSERT_TRUE(broker);
  auto c = connect_to(broker->broker_addr());
  auto u = query(*c, "Orders", "UNIQ19", true);
  ASSERT_EQ(u.code, rsp::SUCCESS) << u.remark;
  EXPECT_EQ(bodies_of(u), std::multiset<std::string>{"order-19"});
  auto k2 = query(*c, "Orders", "K2", false);
  EXPECT_EQ(bodies_of(k2).size(), 5u);
}

std::string heartbeat_body(const std::string& client_id, const std::string& group,
                           const std::string& topic) {
  rocketmq::HeartbeatData hb;
  hb.client_id = client_id;
  rocketmq::ConsumerData c;
  c.group_name = group;
  c.consume_type = "CONSUME_PASSIVELY";
  c.message_model = "BROADCASTING";
  c.consume_from_where = "CONSUME_FROM_FIRST_OFFSET";
  c.subscription_data_set.push_back(rocketmq::SubscriptionData::build(topic, "TagA || TagB", 7));
  hb.consumer_data_set.push_back(c);
  return hb.to_json();
}

TEST(BrokerAdmin, ConsumerConnectionsStatsAndMonitoringBodies) {
  TempDir dir;
  auto broker = start_broker(dir.str());
  ASSERT_TRUE(broker);
  auto admin = connect_to(broker->broker_addr());
  auto offline = call(*admin, RemotingCommand::request(rc::GET_CONSUMER_CONNECTION_LIST,
                                                       {{"consumerGroup", "G1"}}));
  EXPECT_EQ(offline.code, rsp::CONSUMER_NOT_ONLINE);
  EXPECT_EQ(offline.remark, "the consumer group[G1] not online");

  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(send(*admin, "Stats", "m" + std::to_string(i), "", "", i % 2).code, rsp::SUCCESS);
  }
  auto consumer = connect_to(broker->broker_addr());
  auto hb = RemotingCommand::request(rc::HEART_BEAT);
  hb.body = heartbeat_body("10.0.0.9@77", "G1", "Stats");
  hb.language = rocketmq::LanguageCode::CPP;
  hb.version = 373;
  ASSERT_EQ(call(*consumer, std::move(hb)).code, rsp::SUCCESS);
  // The consumer commits offset 2 on queue 0 (none on queue 1).
  rocketmq::UpdateConsumerOffsetRequestHeader commit{"G1", "Stats", 0, 2, std::nullopt};
  ASSERT_EQ(
      call(*consumer, RemotingCommand::request(rc::UPDATE_CONSUMER_OFFSET, commit.to_ext_fields()))
          .code,
      rsp::SUCCESS);

  auto conn = call(*admin, RemotingCommand::request(rc::GET_CONSUMER_CONNECTION_LIST,
                                                    {{"consumerGroup", "G1"}}));
  ASSERT_EQ(conn.code, rsp::SUCCESS) << conn.remark;
  auto cj = json::parse(conn.body);
  ASSERT_EQ(cj["connectionSet"].size(), 1u);
  EXPECT_EQ(cj["connectionSet"][0]["clientId"], "10.0.0.9@77");
  EXPECT_EQ(cj["connectionSet"][0]["language"], "CPP");
  EXPECT_EQ(cj["connectionSet"][0]["version"], 373);
  EXPECT_TRUE(cj["connectionSet"][0]["clientAddr"].get<std::string>().starts_with("127.0.0.1:"));
  EXPECT_EQ(cj["consumeType"], "CONSUME_PASSIVELY");
  EXPECT_EQ(cj["messageModel"], "BROADCASTING");
  EXPECT_EQ(cj["consumeFromWhere"], "CONSUME_FROM_FIRST_OFFSET");
  auto sub = cj["subscriptionTable"]["Stats"];
  EXPECT_EQ(sub["subString"], "TagA || TagB");
  EXPECT_EQ(sub["subVersion"], 7);
  EXPECT_EQ(sub["tagsSet"], json::array({"TagA", "TagB"}));
  EXPECT_EQ(sub["topic"], "Stats");

  // 202: per-queue min/max and the last message's store time.
  auto stats =
      call(*admin, RemotingCommand::request(rc::GET_TOPIC_STATS_INFO, {{"topic", "Stats"}}));
  ASSERT_EQ(stats.code, rsp::SUCCESS);
  ASSERT_TRUE(stats.body.starts_with("{\"offsetTable\":{{\"brokerName\":\"broker-a\""))
      << stats.body;
  auto entries = object_keyed_entries(stats.body);
  ASSERT_EQ(entries.size(), 4u);  // the auto-created topic's 4 write queues
  for (const auto& [mq, v] : entries) {
    EXPECT_EQ(mq["topic"], "Stats");
    const int q = mq["queueId"];
    EXPECT_EQ(v["minOffset"], 0);
    EXPECT_EQ(v["maxOffset"], q < 2 ? 3 : 0);
    if (q < 2) {
      EXPECT_GT(v["lastUpdateTimestamp"].get<std::int64_t>(), 1700000000000);
    } else {
      EXPECT_EQ(v["lastUpdateTimestamp"], 0);
    }
  }
  auto missing =
      call(*admin, RemotingCommand::request(rc::GET_TOPIC_STATS_INFO, {{"topic", "Nope"}}));
  EXPECT_EQ(missing.code, rsp::TOPIC_NOT_EXIST);

  // 208: broker and consumer offsets per queue.
  auto cs = call(*admin, RemotingCommand::request(rc::GET_CONSUME_STATS,
                                                  {{"consumerGroup", "G1"}, {"topic", "Stats"}}));
  ASSERT_EQ(cs.code, rsp::SUCCESS);
  ASSERT_TRUE(cs.body.starts_with("{\"consumeTps\":0.0,\"offsetTable\":{")) << cs.body;
  entries = object_keyed_entries(cs.body);
  ASSERT_EQ(entries.size(), 4u);
  for (const auto& [mq, v] : entries) {
    const int q = mq["queueId"];
    EXPECT_EQ(v["brokerOffset"], q < 2 ? 3 : 0);
    EXPECT_EQ(v["consumerOffset"], q == 0 ? 2 : 0);
    if (q == 0) {
      EXPECT_GT(v["lastTimestamp"].get<std::int64_t>(), 1700000000000);
    } else {
      EXPECT_EQ(v["lastTimestamp"], 0);
    }
  }
  // Without a topic: the topics the group has offsets for.
  auto all =
      call(*admin, RemotingCommand::request(rc::GET_CONSUME_STATS, {{"consumerGroup", "G1"}}));
  EXPECT_EQ(object_keyed_entries(all.body).size(), 4u);

  // 300: who consumes the topic.
  auto who =
      call(*admin, RemotingCommand::request(rc::QUERY_TOPIC_CONSUME_BY_WHO, {{"topic", "Stats"}}));
  ASSERT_EQ(who.code, rsp::SUCCESS);
  EXPECT_EQ(json::parse(who.body), (json{{"groupList", {"G1"}}}));

  // 28: the keys mqadmin clusterList reads, parseable as it parses them.
  auto rt = call(*admin, RemotingCommand::request(rc::GET_BROKER_RUNTIME_INFO));
  ASSERT_EQ(rt.code, rsp::SUCCESS);
  auto table = json::parse(rt.body)["table"];
  EXPECT_EQ(table["brokerVersionDesc"], "V4_9_7");
  EXPECT_EQ(table["brokerVersion"], "407");
  EXPECT_EQ(table["msgPutTotalTodayNow"], "6");
  for (const char* key :
       {"msgPutTotalYesterdayMorning", "msgPutTotalTodayMorning", "msgGetTotalYesterdayMorning",
        "msgGetTotalTodayMorning", "msgGetTotalTodayNow", "sendThreadPoolQueueHeadWaitTimeMills",
        "pullThreadPoolQueueHeadWaitTimeMills", "earliestMessageTimeStamp", "bootTimestamp",
        "commitLogMaxOffset"}) {
    ASSERT_TRUE(table.contains(key)) << key;
    EXPECT_NO_THROW((void)std::stoll(table[key].get<std::string>())) << key;
  }
  for (const char* key :
       {"putTps", "getTransferedTps", "commitLogDiskRatio", "runtime", "sendThreadPoolQueueSize",
        "pullThreadPoolQueueSize", "pageCacheLockTimeMills"}) {
    EXPECT_TRUE(table.contains(key)) << key;
  }
  const double ratio = std::stod(table["commitLogDiskRatio"].get<std::string>());
  EXPECT_GE(ratio, 0.0);
  EXPECT_LE(ratio, 1.0);

  // 26: properties text and the data version.
  auto bc = call(*admin, RemotingCommand::request(rc::GET_BROKER_CONFIG));
  ASSERT_EQ(bc.code, rsp::SUCCESS);
  EXPECT_NE(bc.body.find("brokerClusterName=DefaultCluster\n"), std::string::npos) << bc.body;
  EXPECT_NE(bc.body.find("brokerName=broker-a\n"), std::string::npos);
  EXPECT_TRUE(json::parse(bc.ext_fields.at("version")).contains("counter"));

  // The member leaves: offline again.
  consumer.reset();
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = call(*admin, RemotingCommand::request(rc::GET_CONSUMER_CONNECTION_LIST,
                                                 {{"consumerGroup", "G1"}}))
               .code == rsp::CONSUMER_NOT_ONLINE;
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone);
}

TEST(BrokerAdmin, AllTopicConfigAndTheNameServersTopicList) {
  TempDir dir;
  auto broker = start_broker(dir.str());
  ASSERT_TRUE(broker);
  auto c = connect_to(broker->broker_addr());
  rocketmq::CreateTopicRequestHeader create;
  create.topic = "Made";
  create.read_queue_nums = create.write_queue_nums = 3;
  auto created =
      call(*c, RemotingCommand::request(rc::UPDATE_AND_CREATE_TOPIC, create.to_ext_fields()));
  ASSERT_EQ(created.code, rsp::SUCCESS);
  EXPECT_EQ(created.remark, "not set any response code");

  for (const char* name : {"DefaultCluster", "broker-a", "BenchmarkTest"}) {
    create.topic = name;
    auto refused =
        call(*c, RemotingCommand::request(rc::UPDATE_AND_CREATE_TOPIC, create.to_ext_fields()));
    EXPECT_EQ(refused.code, rsp::SYSTEM_ERROR);
    EXPECT_EQ(refused.remark,
              "The topic[" + std::string(name) + "] is conflict with system topic.");
  }
  auto all = call(*c, RemotingCommand::request(rc::GET_ALL_TOPIC_CONFIG));
  ASSERT_EQ(all.code, rsp::SUCCESS);
  EXPECT_TRUE(all.ext_fields_present);
  auto body = json::parse(all.body);
  EXPECT_TRUE(body["dataVersion"].contains("counter"));
  EXPECT_TRUE(body["dataVersion"].contains("timestamp"));
  auto made = body["topicConfigTable"]["Made"];
  EXPECT_EQ(made, (json{{"order", false},
                        {"perm", 6},
                        {"readQueueNums", 3},
                        {"topicFilterType", "SINGLE_TAG"},
                        {"topicName", "Made"},
                        {"topicSysFlag", 0},
                        {"writeQueueNums", 3}}));
  EXPECT_EQ(body["topicConfigTable"]["TBW102"]["perm"], 7);

  auto ns = connect_to(broker->namesrv_addr());
  auto list = call(*ns, RemotingCommand::request(rc::GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
  ASSERT_EQ(list.code, rsp::SUCCESS);
  auto topics = json::parse(list.body)["topicList"].get<std::set<std::string>>();
  for (const char* t :
       {"DefaultCluster", "broker-a", "TBW102", "SELF_TEST_TOPIC", "BenchmarkTest",
        "OFFSET_MOVED_EVENT", "SCHEDULE_TOPIC_XXXX", "DefaultCluster_REPLY_TOPIC", "Made"}) {
    EXPECT_TRUE(topics.contains(t)) << t;
  }
  // The broker-name topic routes to this broker, as on a real cluster.
  auto route =
      call(*ns, RemotingCommand::request(rc::GET_ROUTEINFO_BY_TOPIC, {{"topic", "broker-a"}}));
  EXPECT_EQ(route.code, rsp::SUCCESS);
}

TEST(BrokerAdmin, SmallerDifferences) {
  TempDir dir;
  auto broker = start_broker(dir.str());
  ASSERT_TRUE(broker);
  auto c = connect_to(broker->broker_addr());
  // Over-long topic and illegal queue id remarks.
  auto long_topic = send(*c, std::string(128, 'a'), "x", "", "");
  EXPECT_EQ(long_topic.code, rsp::SYSTEM_ERROR);
  EXPECT_EQ(long_topic.remark, "The specified topic is longer than topic max length.");
  ASSERT_EQ(send(*c, "Q", "x", "", "").code, rsp::SUCCESS);
  auto bad_queue = send(*c, "Q", "x", "", "", 9);
  EXPECT_EQ(bad_queue.code, rsp::SYSTEM_ERROR);
  EXPECT_TRUE(bad_queue.remark.starts_with(
      "request queueId[9] is illegal, TopicConfig [topicName=Q, readQueueNums=4, "
      "writeQueueNums=4, perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false] "
      "Producer: 127.0.0.1:"))
      << bad_queue.remark;

  // A batch keeps WAIT=true in what is stored.
  rocketmq::SendMessageRequestHeader h;
  h.producer_group = "pg";
  h.topic = "Batch";
  h.queue_id = 0;
  h.batch = true;
  h.properties = rocketmq::encode_properties({{"WAIT", "true"}});
  auto cmd = RemotingCommand::request(rc::SEND_BATCH_MESSAGE, h.to_v2_ext_fields());
  std::vector<rocketmq::BatchMessageView> inner(2);
  inner[0].body = "b0";
  inner[1].body = "b1";
  cmd.body = *rocketmq::encode_batch_body(inner);
  ASSERT_EQ(call(*c, std::move(cmd)).code, rsp::SUCCESS);
  rocketmq::PullMessageRequestHeader p;
  p.consumer_group = "cg";
  p.topic = "Batch";
  p.queue_id = 0;
  p.max_msg_nums = 32;
  p.sys_flag = rocketmq::pull_sysflag::FLAG_SUBSCRIPTION;
  p.subscription = "*";
  auto pulled = call(*c, RemotingCommand::request(rc::PULL_MESSAGE, p.to_ext_fields()));
  ASSERT_EQ(pulled.code, rsp::SUCCESS);
  auto records = rocketmq::decode_stored_messages(pulled.body);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  for (const auto& r : *records) {
    EXPECT_EQ(rocketmq::parse_properties(r.properties)["WAIT"], "true");
  }

  // A pull whose subscription version is newer than the heartbeat's: 25.
  auto hb = RemotingCommand::request(rc::HEART_BEAT);
  hb.body = heartbeat_body("c1", "cg", "Batch");  // subVersion 7
  ASSERT_EQ(call(*c, std::move(hb)).code, rsp::SUCCESS);
  p.sys_flag = 0;
  p.subscription.reset();
  p.sub_version = 8;
  auto stale = call(*c, RemotingCommand::request(rc::PULL_MESSAGE, p.to_ext_fields()));
  EXPECT_EQ(stale.code, rsp::SUBSCRIPTION_NOT_LATEST);
  EXPECT_EQ(stale.remark, "the consumer's subscription not latest");
  p.sub_version = 7;  // current: served (the untagged messages are filtered out by TagA || TagB)
  EXPECT_EQ(call(*c, RemotingCommand::request(rc::PULL_MESSAGE, p.to_ext_fields())).code,
            rsp::PULL_RETRY_IMMEDIATELY);

  // Unknown codes are still answered.
  auto unknown = call(*c, RemotingCommand::request(9999));
  EXPECT_EQ(unknown.code, rsp::REQUEST_CODE_NOT_SUPPORTED);
}

}  // namespace
}  // namespace rmqc::broker
