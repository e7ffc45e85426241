// The replicator's config rules, tag filters and offset translation, without servers.
#include "replicator/replicator_config.h"

#include "rmqc/api/errors.h"

#include "replicator/replicator_checkpoint.h"
#include "replicator/replicator_source.h"

#include <gtest/gtest.h>

namespace rmqc::connectors::replicator {
namespace {

KeyValue source_config() {
  KeyValue c;
  c.put("src.endpoint", "127.0.0.1:9876");
  c.put("src.topictags", "TopicA:tagA||tagB;TopicB");
  return c;
}

std::string rejection(Connector& connector, const KeyValue& config) {
  try {
    connector.validate(config);
  } catch (const ConnectException& e) {
    return e.what();
  }
  return "";
}

TEST(ReplicatorConfigTest, TopicTagsFormats) {
  std::vector<TopicTags> t;
  ASSERT_EQ(parse_topic_tags("TopicA,TopicB", &t), std::nullopt);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].topic, "TopicA");
  EXPECT_EQ(t[1].topic, "TopicB");
  EXPECT_TRUE(t[0].accepts("anything"));
  EXPECT_EQ(t[0].expression(), "*");

  ASSERT_EQ(parse_topic_tags(" TopicA : tagA || tagB ; TopicB:* ;", &t), std::nullopt);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].tags, (std::vector<std::string>{"tagA", "tagB"}));
  EXPECT_TRUE(t[0].accepts("tagB"));
  EXPECT_FALSE(t[0].accepts("tagC"));
  EXPECT_FALSE(t[0].accepts(""));
  EXPECT_EQ(t[0].expression(), "tagA || tagB");
  EXPECT_TRUE(t[1].tags.empty());

  EXPECT_NE(parse_topic_tags("", &t), std::nullopt);
  EXPECT_NE(parse_topic_tags("Topic A", &t), std::nullopt);
  EXPECT_NE(parse_topic_tags("TopicA:a||", &t), std::nullopt);
  EXPECT_NE(parse_topic_tags("TopicA;TopicA:x", &t), std::nullopt);
  auto e = parse_topic_tags("bad/topic", &t);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->find("src.topictags"), std::string::npos) << *e;
}

TEST(ReplicatorConfigTest, DestinationTopic) {
  KeyValue c;
  EXPECT_EQ(destination_topic(c, "orders"), "orders");
  c.put("topic.rename.format", "dr-${topic}-${topic}");
  EXPECT_EQ(destination_topic(c, "orders"), "dr-orders-orders");
  c.put("dest.topic", "all");
  EXPECT_EQ(destination_topic(c, "orders"), "all");
}

TEST(ReplicatorConfigTest, QueuesAreSplitOverTasks) {
  std::vector<rocketmq::MessageQueue> all;
  for (int q = 0; q < 5; ++q) all.push_back({"T", "b", q});
  all.push_back({"S", "b", 0});
  std::vector<rocketmq::MessageQueue> seen;
  for (int i = 0; i < 3; ++i) {
    auto mine = queues_of_task(all, i, 3);
    EXPECT_EQ(mine.size(), 2u);
    seen.insert(seen.end(), mine.begin(), mine.end());
  }
  std::sort(seen.begin(), seen.end());
  auto sorted = all;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(seen, sorted);
}

TEST(ReplicatorConfigTest, TranslationNeverSkips) {
  std::map<std::int64_t, std::int64_t> syncs{{10, 100}, {20, 130}, {30, 150}};
  EXPECT_EQ(translate(syncs, 5), std::nullopt);  // before the first sync: unknown
  EXPECT_EQ(translate(syncs, 10), 100);          // message 10 not consumed: it is at 100
  EXPECT_EQ(translate(syncs, 15), 101);          // 10 consumed: after its copy
  EXPECT_EQ(translate(syncs, 20), 130);
  EXPECT_EQ(translate(syncs, 21), 131);
  EXPECT_EQ(translate(syncs, 1000), 151);
}

TEST(ReplicatorConfigTest, RecordsRoundTrip) {
  OffsetSync s{"c", "T", "b", 3, 42, "D", "bd", 1, 7};
  auto back = OffsetSync::from_json(s.to_json());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->src_offset, 42);
  EXPECT_EQ(back->dest_queue_id, 1);
  EXPECT_EQ(back->dest_broker, "bd");
  EXPECT_FALSE(OffsetSync::from_json("{\"srcTopic\":1}").has_value());
  EXPECT_FALSE(OffsetSync::from_json("not json").has_value());

  Checkpoint c;
  c.group = "g";
  c.src_topic = "T";
  c.src_max_offset = 50;
  c.replicated_offset = 45;
  auto cb = Checkpoint::from_json(c.to_json());
  ASSERT_TRUE(cb.has_value());
  EXPECT_EQ(cb->group, "g");
  EXPECT_EQ(cb->replication_lag(), 5);
}

TEST(ReplicatorConfigTest, SourceValidationNamesTheKey) {
  ReplicatorSourceConnector connector;
  EXPECT_EQ(rejection(connector, source_config()), "");

  KeyValue c = source_config();
  c.put("src.endpoint", "");
  EXPECT_NE(rejection(connector, c).find("src.endpoint"), std::string::npos);
  c.put("src.cluster", "127.0.0.1:9876");  // accepted as the endpoint
  EXPECT_EQ(rejection(connector, c), "");

  c = source_config();
  c.erase("src.topictags");
  EXPECT_NE(rejection(connector, c).find("src.topictags"), std::string::npos);
  c.put("src.topictags", "A:x||");
  EXPECT_NE(rejection(connector, c).find("src.topictags"), std::string::npos);

  c = source_config();
  c.put("src.acl.enable", "true");
  c.put("src.access.key", "ak");
  EXPECT_NE(rejection(connector, c).find("src.secret.key"), std::string::npos);

  c = source_config();
  c.put("src.consume.from", "middle");
  EXPECT_NE(rejection(connector, c).find("src.consume.from"), std::string::npos);

  c = source_config();
  c.put("value.converter",
        "org.apache.rocketmq.connect.runtime.converter.record.json.JsonConverter");
  EXPECT_NE(rejection(connector, c).find("value.converter"), std::string::npos);

  c = source_config();
  c.put("topic.rename.format", "");
  EXPECT_EQ(rejection(connector, c), "");  // empty = keep the name
}

TEST(ReplicatorConfigTest, CheckpointValidationNamesTheKey) {
  ReplicatorCheckpointConnector connector;
  KeyValue c = source_config();
  c.put("sync.gids", "g1;g2");
  EXPECT_NE(rejection(connector, c).find("dest.endpoint"), std::string::npos);
  c.put("dest.endpoint", "127.0.0.1:9877");
  EXPECT_EQ(rejection(connector, c), "");
  c.erase("sync.gids");
  EXPECT_NE(rejection(connector, c).find("sync.gids"), std::string::npos);
  c.put("sync.gids", "g");
  c.put("checkpoint.interval.ms", "5");
  EXPECT_NE(rejection(connector, c).find("checkpoint.interval.ms"), std::string::npos);
}

TEST(ReplicatorConfigTest, TaskConfigsCarryTheirShare) {
  ReplicatorSourceConnector connector;
  connector.start(source_config());
  auto configs = connector.task_configs(3);
  ASSERT_EQ(configs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(configs[static_cast<std::size_t>(i)].get_int("replicator.task.index"), i);
    EXPECT_EQ(configs[static_cast<std::size_t>(i)].get_int("replicator.task.count"), 3);
  }
}

}  // namespace
}  // namespace rmqc::connectors::replicator
