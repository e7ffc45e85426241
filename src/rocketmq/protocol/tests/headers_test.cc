#include "rocketmq/protocol/headers.h"

#include "rocketmq/protocol/bodies.h"
#include "rocketmq/protocol/frame_codec.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"

#include <gtest/gtest.h>

namespace rmqc::rocketmq {
namespace {

// Every header type round-trips through ext fields, and a missing required field is named.
template <typename H>
void expect_round_trip(const H& header, std::string_view required_field) {
  ExtFields fields = header.to_ext_fields();
  auto back = H::from_ext_fields(fields);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->to_ext_fields(), fields);
  if (!required_field.empty()) {
    ExtFields missing = fields;
    ASSERT_EQ(missing.erase(std::string(required_field)), 1u) << required_field;
    auto err = H::from_ext_fields(missing);
    ASSERT_FALSE(err.ok());
    EXPECT_EQ(err.error().code(), ErrorCode::kProtocolError);
    EXPECT_NE(err.error().message().find("'" + std::string(required_field) + "'"),
              std::string::npos)
        << err.error().message();
  }
}

SendMessageRequestHeader send_header() {
  SendMessageRequestHeader h;
  h.producer_group = "PG";
  h.topic = "TopicTest";
  h.queue_id = 1;
  h.born_timestamp = 1700000000000;
  h.properties = "TAGS\x01TagA";
  h.bname = "broker-a";
  return h;
}

TEST(Headers, SendMessageLongAndShortNames) {
  auto h = send_header();
  expect_round_trip(h, "topic");
  ExtFields v2 = h.to_v2_ext_fields();
  EXPECT_EQ(v2, (ExtFields{{"a", "PG"},
                           {"b", "TopicTest"},
                           {"c", "TBW102"},
                           {"d", "4"},
                           {"e", "1"},
                           {"f", "0"},
                           {"g", "1700000000000"},
                           {"h", "0"},
                           {"i", "TAGS\x01TagA"},
                           {"j", "0"},
                           {"k", "false"},
                           {"m", "false"},
                           {"n", "broker-a"}}));
  auto back = SendMessageRequestHeader::from_v2_ext_fields(v2);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->to_ext_fields(), h.to_ext_fields());

  // ali-ons: a..k only, typed values already turned to text by the frame decoder.
  auto ons = decode_frame(encode_frame([] {
                            auto cmd = RemotingCommand::request(request_code::SEND_MESSAGE_V2);
                            return cmd;
                          }())
                              .value())
                 .value();
  ons.ext_fields = {
      {"a", "PG"}, {"b", "T"}, {"c", "TBW102"},        {"d", "4"}, {"e", "0"},    {"f", "0"},
      {"g", "1"},  {"h", "0"}, {"i", "TAGS\x01x\x02"}, {"j", "0"}, {"k", "false"}};
  auto parsed = SendMessageRequestHeader::from_command(ons);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_FALSE(parsed->batch);
  EXPECT_FALSE(parsed->max_reconsume_times);
  // Batch selection is by m, and the 4.9.7 broker does not insist on a.
  ons.ext_fields["m"] = "true";
  ons.ext_fields.erase("a");
  parsed = SendMessageRequestHeader::from_command(ons);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->batch);
  // Code 10 uses the long names.
  RemotingCommand v1 = RemotingCommand::request(request_code::SEND_MESSAGE, h.to_ext_fields());
  EXPECT_EQ(SendMessageRequestHeader::from_command(v1)->topic, "TopicTest");
  // Bad numbers are named.
  auto bad = v2;
  bad["e"] = "abc";
  auto err = SendMessageRequestHeader::from_v2_ext_fields(bad);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message().find("'e' = 'abc' is not a valid int32"), std::string::npos);
}

TEST(Headers, AllHeadersRoundTrip) {
  SendMessageResponseHeader send_resp{
      "C0A8000200002A9F0000000000001000", 1, 5, std::nullopt, "DefaultRegion", "true"};
  expect_round_trip(send_resp, "msgId");
  EXPECT_EQ(send_resp.to_ext_fields().at("MSG_REGION"), "DefaultRegion");

  PullMessageRequestHeader pull;
  pull.consumer_group = "G1";
  pull.topic = "TopicTest";
  pull.sys_flag = pull_sysflag::FLAG_SUSPEND;
  pull.sub_version = 1700000000000;
  pull.expression_type = "TAG";
  pull.bname = "broker-a";
  expect_round_trip(pull, "subVersion");
  // Example 10's request fields, exactly.
  pull.commit_offset = 0;
  EXPECT_EQ(pull.to_ext_fields(), (ExtFields{{"bname", "broker-a"},
                                             {"commitOffset", "0"},
                                             {"consumerGroup", "G1"},
                                             {"expressionType", "TAG"},
                                             {"maxMsgNums", "32"},
                                             {"queueId", "0"},
                                             {"queueOffset", "0"},
                                             {"subVersion", "1700000000000"},
                                             {"suspendTimeoutMillis", "15000"},
                                             {"sysFlag", "2"},
                                             {"topic", "TopicTest"}}));
  expect_round_trip(PullMessageResponseHeader{0, 1, 0, 1}, "nextBeginOffset");
  expect_round_trip(QueryConsumerOffsetRequestHeader{"G", "T", 0, "b"}, "consumerGroup");
  expect_round_trip(OffsetResponseHeader{-1}, "offset");
  expect_round_trip(UpdateConsumerOffsetRequestHeader{"G", "T", 3, 99, std::nullopt},
                    "commitOffset");
  expect_round_trip(QueueRequestHeader{"T", 2, true, std::nullopt}, "queueId");
  expect_round_trip(SearchOffsetRequestHeader{"T", 2, 1700000000000, std::nullopt}, "timestamp");
  expect_round_trip(GetEarliestMsgStoretimeResponseHeader{-1}, "timestamp");
  expect_round_trip(GetRouteInfoRequestHeader{"TopicTest", true}, "topic");
  expect_round_trip(RegisterBrokerRequestHeader{"broker-a", "127.0.0.1:10911", "DefaultCluster",
                                                "127.0.0.1:10912", 0, false, 12345},
                    "brokerAddr");
  EXPECT_EQ(RegisterBrokerRequestHeader{}.to_ext_fields().size(), 7u);
  expect_round_trip(RegisterBrokerResponseHeader{"a:1", "b:2"}, "");
  expect_round_trip(UnregisterBrokerRequestHeader{"broker-a", "a:1", "C", 0}, "brokerId");
  expect_round_trip(QueryDataVersionResponseHeader{true}, "changed");
  expect_round_trip(GetTopicsByClusterRequestHeader{"C"}, "cluster");
  expect_round_trip(ConsumerGroupRequestHeader{"G1"}, "consumerGroup");
  expect_round_trip(UnregisterClientRequestHeader{"ip@pid", std::nullopt, "G1"}, "clientID");
  expect_round_trip(ConsumerSendMsgBackRequestHeader{4096, "G1", 0, "id", "T", false, 16, "b"},
                    "offset");
  expect_round_trip(EndTransactionRequestHeader{"PG", 1, 2, 8, false, "id", "tx"},
                    "commitOrRollback");
  expect_round_trip(CheckTransactionStateRequestHeader{1, 2, "m", "t", "o"}, "commitLogOffset");
  CreateTopicRequestHeader create;
  create.topic = "T";
  expect_round_trip(create, "perm");
  EXPECT_EQ(create.to_ext_fields().at("order"), "false");
  expect_round_trip(DeleteTopicRequestHeader{"T", "C"}, "topic");
  expect_round_trip(ViewMessageRequestHeader{4096}, "offset");
  expect_round_trip(QueryMessageRequestHeader{"T", "k", 32, 0, 1, true}, "key");
  QueryMessageRequestHeader query{"T", "k", 32, 0, 1, true};
  EXPECT_EQ(query.to_ext_fields().at("_UNIQUE_KEY_QUERY"), "true");
  expect_round_trip(QueryMessageResponseHeader{1, 2}, "indexLastUpdatePhyoffset");
}

TEST(Headers, OptionalFieldsFollowJavaConversions) {
  // Unconvertible optional values become null (Java), booleans parse like Boolean.parseBoolean.
  auto h = ConsumerSendMsgBackRequestHeader::from_ext_fields({{"offset", "1"},
                                                              {"group", "G"},
                                                              {"delayLevel", "-1"},
                                                              {"maxReconsumeTimes", "x"},
                                                              {"unitMode", "TRUE"}});
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->max_reconsume_times);
  EXPECT_TRUE(h->unit_mode);
  EXPECT_EQ(h->delay_level, -1);
  auto r = GetRouteInfoRequestHeader::from_ext_fields(
      {{"topic", "T"}, {"acceptStandardJsonOnly", "yes"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accept_standard_json_only, false);
  // int64 overflow in a required field is an error.
  EXPECT_FALSE(OffsetResponseHeader::from_ext_fields({{"offset", "99999999999999999999"}}).ok());
  EXPECT_FALSE(OffsetResponseHeader::from_ext_fields({{"offset", ""}}).ok());
  EXPECT_EQ(OffsetResponseHeader::from_ext_fields({{"offset", "+5"}})->offset, 5);
}

TEST(Codes, NamedAsRocketMq) {
  EXPECT_EQ(request_code::SEND_MESSAGE, 10);
  EXPECT_EQ(request_code::PULL_MESSAGE, 11);
  EXPECT_EQ(request_code::GET_ROUTEINFO_BY_TOPIC, 105);
  EXPECT_EQ(request_code::SEND_MESSAGE_V2, 310);
  EXPECT_EQ(request_code::SEND_BATCH_MESSAGE, 320);
  EXPECT_EQ(request_code::QUERY_DATA_VERSION, 322);
  EXPECT_EQ(response_code::PULL_NOT_FOUND, 19);
  EXPECT_EQ(response_code::FLOW_CONTROL, 215);
  EXPECT_TRUE(response_code::is_send_stored(response_code::FLUSH_DISK_TIMEOUT));
  EXPECT_TRUE(response_code::is_send_retriable(response_code::TOPIC_NOT_EXIST));
  EXPECT_FALSE(response_code::is_send_retriable(response_code::MESSAGE_ILLEGAL));
}

// --- bodies ------------------------------------------------------------------------------------

constexpr std::string_view kExample3Body =
    R"({"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]})";

TopicRouteData example3_route() {
  TopicRouteData r;
  r.broker_datas.push_back({"DefaultCluster", "broker-a", {{0, "127.0.0.1:10911"}}});
  r.queue_datas.push_back({"broker-a", 4, 4, 6, 0});
  return r;
}

TEST(Bodies, Example3RouteStandardAndLegacyByteForByte) {
  auto route = example3_route();
  EXPECT_EQ(route.to_json(true), kExample3Body);
  EXPECT_EQ(route.to_json(true).size(), 235u);
  std::string legacy(kExample3Body);
  legacy.replace(legacy.find("{\"0\":"), 5, "{0:");
  EXPECT_EQ(route.to_json(false), legacy);
  EXPECT_EQ(legacy.size(), 233u);
  for (const auto& text : {std::string(kExample3Body), legacy}) {
    auto parsed = TopicRouteData::from_json(text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_EQ(*parsed, route);
  }
}

TEST(Bodies, RouteReaderToleratesVariants) {
  // Old name servers spell topicSynFlag; 5.x adds members; slaves; orderTopicConf; whitespace.
  auto parsed = TopicRouteData::from_json(
      R"({ "orderTopicConf":"broker-a:4", "brokerDatas":[{"brokerAddrs":{ 0 :"a:1", 1:"b:1"},"brokerName":"broker-a","cluster":"C","enableActingMaster":false,"zoneName":"z"}],
          "queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":8,"topicSynFlag":3,"writeQueueNums":8}],
          "topicQueueMappingByBroker":null, "filterServerTable":{"a:1":["f:1"]}})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->order_topic_conf, "broker-a:4");
  EXPECT_EQ(parsed->broker_datas[0].broker_addrs.at(1), "b:1");
  EXPECT_EQ(parsed->queue_datas[0].topic_sys_flag, 3);
  EXPECT_EQ(parsed->filter_server_table.at("a:1").at(0), "f:1");
  EXPECT_EQ(TopicRouteData::from_json(parsed->to_json(false)).value(), *parsed);

  // Strings that look like keys are left alone.
  parsed = TopicRouteData::from_json(
      R"({"brokerDatas":[{"brokerAddrs":{0:"{1:\"x\",2:3}"},"brokerName":"b,{3:","cluster":"C"}],"queueDatas":[]})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->broker_datas[0].broker_addrs.at(0), "{1:\"x\",2:3}");
  EXPECT_EQ(parsed->broker_datas[0].broker_name, "b,{3:");

  // Errors name the body and problem.
  for (std::string_view bad :
       {"", "[]", "{", R"({"brokerDatas":[{"brokerAddrs":{"x":"a"},"brokerName":"b"}]})",
        R"({"brokerDatas":[{"brokerAddrs":{}}]})", R"({"queueDatas":[{"brokerName":1}]})",
        R"({"queueDatas":7})"}) {
    auto r = TopicRouteData::from_json(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocolError);
    EXPECT_NE(r.error().message().find("TopicRouteData"), std::string::npos);
  }
  // Deep nesting is refused before parsing.
  std::string deep = "{\"queueDatas\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
  EXPECT_FALSE(TopicRouteData::from_json(deep).ok());
}

TEST(Bodies, ClusterInfoIsLegacyByDefault) {
  ClusterInfo info;
  info.broker_addr_table["broker-a"] = {"DefaultCluster", "broker-a", {{0, "ip:port"}}};
  info.cluster_addr_table["DefaultCluster"] = {"broker-a"};
  const std::string expected =
      R"({"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"ip:port"},"brokerName":"broker-a","cluster":"DefaultCluster"}},"clusterAddrTable":{"DefaultCluster":["broker-a"]}})";
  EXPECT_EQ(info.to_json(), expected);
  auto back = ClusterInfo::from_json(expected);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->broker_addr_table, info.broker_addr_table);
  EXPECT_EQ(back->cluster_addr_table, info.cluster_addr_table);
}

TEST(Bodies, ListsAndLocks) {
  TopicList topics{{"A", "B"}, std::nullopt};
  EXPECT_EQ(topics.to_json(), R"({"topicList":["A","B"]})");
  EXPECT_EQ(TopicList::from_json(topics.to_json())->topic_list, topics.topic_list);
  ConsumerListBody consumers{{"192.168.0.10@12345#9876543210", "192.168.0.11@222#1"}};
  EXPECT_EQ(ConsumerListBody::from_json(consumers.to_json())->consumer_id_list,
            consumers.consumer_id_list);

  LockBatchRequestBody lock{"G1", "cid", {{"T", "broker-a", 0}, {"T", "broker-a", 1}}, true};
  EXPECT_EQ(
      lock.to_json(),
      R"({"clientId":"cid","consumerGroup":"G1","mqSet":[{"brokerName":"broker-a","queueId":0,"topic":"T"},{"brokerName":"broker-a","queueId":1,"topic":"T"}],"onlyThisBroker":true})");
  auto back = LockBatchRequestBody::from_json(lock.to_json());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->mq_set, lock.mq_set);
  EXPECT_EQ(back->only_this_broker, true);
  LockBatchResponseBody locked{{{"T", "broker-a", 1}}};
  EXPECT_EQ(LockBatchResponseBody::from_json(locked.to_json())->lock_ok_mq_set,
            locked.lock_ok_mq_set);
  EXPECT_FALSE(LockBatchRequestBody::from_json(R"({"clientId":"c"})").ok());
}

constexpr std::string_view kSpecHeartbeat =
    R"({"clientID":"192.168.0.10@12345#9876543210",
 "consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY",
   "groupName":"G1","messageModel":"CLUSTERING",
   "subscriptionDataSet":[
     {"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA",
      "subVersion":1700000000000,"tagsSet":["TagA"],"topic":"TopicTest"},
     {"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*",
      "subVersion":1700000000001,"tagsSet":[],"topic":"%RETRY%G1"}],
   "unitMode":false}],
 "producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}]})";

TEST(Bodies, HeartbeatFromSpecRoundTrips) {
  auto hb = HeartbeatData::from_json(kSpecHeartbeat);
  ASSERT_TRUE(hb.ok()) << hb.error().to_string();
  EXPECT_EQ(hb->client_id, "192.168.0.10@12345#9876543210");
  ASSERT_EQ(hb->consumer_data_set.size(), 1u);
  const auto& c = hb->consumer_data_set[0];
  EXPECT_EQ(c.group_name, "G1");
  ASSERT_EQ(c.subscription_data_set.size(), 2u);
  EXPECT_EQ(c.subscription_data_set[0],
            SubscriptionData::build("TopicTest", "TagA", 1700000000000));
  EXPECT_EQ(c.subscription_data_set[1], SubscriptionData::build("%RETRY%G1", "*", 1700000000001));
  EXPECT_EQ(hb->producer_data_set[0].group_name, "CLIENT_INNER_PRODUCER");
  // Writer emits the spec's text without whitespace.
  std::string compact;
  for (char ch : kSpecHeartbeat) {
    if (ch != '\n' && ch != ' ') compact.push_back(ch);
  }
  EXPECT_EQ(hb->to_json(), compact);
  EXPECT_EQ(HeartbeatData::from_json(hb->to_json()).value(), *hb);
  // ali-ons: no expressionType; missing clientID is an error naming it.
  auto ons = HeartbeatData::from_json(
      R"({"clientID":"127.0.0.1@30548","producerDataSet":[],"consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{"topic":"T","subString":"*"}]}]})");
  ASSERT_TRUE(ons.ok()) << ons.error().to_string();
  EXPECT_FALSE(ons->consumer_data_set[0].subscription_data_set[0].expression_type);
  auto missing = HeartbeatData::from_json(R"({"producerDataSet":[]})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("clientID"), std::string::npos);
}

TEST(Bodies, NumbersOutOfRangeAreErrorsNotUndefinedBehaviour) {
  // Found by body_fuzz: a float beyond int64 used to go through a UB cast.
  for (
      std::string_view text :
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{"topic":"T","subVersion":7.7e27}]}]})",
       R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{"topic":"T","codeSet":[4294967296]}]}]})",
       R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{"topic":"T","subVersion":18446744073709551615}]}]})",
       R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{"topic":"T","subVersion":"x"}]}]})"}) {
    auto r = HeartbeatData::from_json(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocolError);
  }
  auto ok = TopicRouteData::from_json(
      R"({"queueDatas":[{"brokerName":"b","perm":6.0,"readQueueNums":-1,"writeQueueNums":2147483647}]})");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->queue_datas[0].write_queue_nums, 2147483647);
  EXPECT_FALSE(
      TopicRouteData::from_json(R"({"queueDatas":[{"brokerName":"b","perm":2147483648}]})").ok());
}

TEST(Bodies, SubscriptionTagsAndJavaHash) {
  EXPECT_EQ(java_string_hash("TagA"), 2598919);
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("hello world, this is long"), 2047144808);
  EXPECT_EQ(java_string_hash("\xC3\xA9"), 233);              // é: one UTF-16 unit
  EXPECT_EQ(java_string_hash("\xF0\x9F\x98\x80"), 1772899);  // U+1F600: surrogate pair
  auto s = SubscriptionData::build("T", " TagA || TagB||TagA ", 1);
  EXPECT_EQ(s.tags_set, (std::vector<std::string>{"TagA", "TagB"}));
  EXPECT_EQ(s.code_set.size(), 2u);
  EXPECT_EQ(s.sub_string, "TagA || TagB||TagA");
  EXPECT_TRUE(SubscriptionData::build("T", "", 1).tags_set.empty());
  EXPECT_EQ(SubscriptionData::build("T", "", 1).sub_string, "*");
}

TEST(Bodies, RegisterBrokerBodyMatchesSpec) {
  RegisterBrokerBody body;
  body.data_version = {1700000000000, 3};
  TopicConfig t;
  t.topic_name = "TopicTest";
  body.topic_config_table["TopicTest"] = t;
  EXPECT_EQ(
      body.to_json(),
      R"({"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":3,"timestamp":1700000000000},"topicConfigTable":{"TopicTest":{"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4}}}})");
  auto back = RegisterBrokerBody::from_json(body.to_json());
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->data_version, body.data_version);
  EXPECT_EQ(back->topic_config_table, body.topic_config_table);
}

}  // namespace
}  // namespace rmqc::rocketmq
