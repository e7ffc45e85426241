// Seed 001's legacy connector keys, renamed where configs enter the runtime (LocalWorker::check).
#include "rmqc/api/sink_task.h"
#include "rmqc/api/source_task.h"

#include "runtime/local_worker.h"

#include <gtest/gtest.h>

namespace rmqc::runtime {
namespace {

class NullSource final : public SourceConnector {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<KeyValue> task_configs(int) override { return {}; }
  std::string task_class() const override { return "NullSourceTask"; }
  std::unique_ptr<Task> create_task() const override { return nullptr; }
};

class NullSink final : public SinkConnector {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<KeyValue> task_configs(int) override { return {}; }
  std::string task_class() const override { return "NullSinkTask"; }
  std::unique_ptr<Task> create_task() const override { return nullptr; }
};

plugins::PluginRegistry& registry() {
  static plugins::PluginRegistry* r = [] {
    auto* reg = new plugins::PluginRegistry;
    reg->add_source_connector<NullSource>(
        {"com.example.KafkaSourceConnector", {"NullSource"}, "1", "test"});
    reg->add_sink_connector<NullSink>(
        {"org.apache.rocketmq.connect.rocketmq.connector.RocketMQSinkConnector",
         {"NullSink"},
         "1",
         "test"});
    return reg;
  }();
  return *r;
}

TEST(LegacyKeysTest, SeedKeysOfASinkBecomeTheCurrentOnes) {
  // Seed 001's kafkaSink call, verbatim.
  KeyValue seed{
      {"rocketmq.topics", "kafkaconnect"},
      {"tasks.num", "2"},
      {"kafka.bootstrap.server", "127.0.0.1:9092"},
      {"connector-class", "org.apache.rocketmq.connect.rocketmq.connector.RocketMQSinkConnector"}};
  KeyValue out = normalize_legacy_keys(seed, registry());
  EXPECT_EQ(out.get_string("connector.class"),
            "org.apache.rocketmq.connect.rocketmq.connector.RocketMQSinkConnector");
  EXPECT_EQ(out.get_string("max.tasks"), "2");
  EXPECT_EQ(out.get_string("connect.topicnames"), "kafkaconnect");
  EXPECT_EQ(out.get_string("kafka.bootstrap.server"), "127.0.0.1:9092");
  EXPECT_FALSE(out.contains("connector-class"));
  EXPECT_FALSE(out.contains("tasks.num"));
  EXPECT_FALSE(out.contains("rocketmq.topics"));
  EXPECT_EQ(out.size(), 4u);
}

TEST(LegacyKeysTest, ASourceKeepsRocketmqTopicsAndCurrentKeysWin) {
  KeyValue source{{"connector-class", "NullSource"},
                  {"tasks.num", "4"},
                  {"max.tasks", "3"},
                  {"rocketmq.topics", "not-for-a-source"}};
  KeyValue out = normalize_legacy_keys(source, registry());
  EXPECT_EQ(out.get_string("connector.class"), "NullSource");
  EXPECT_EQ(out.get_string("max.tasks"), "3");  // set explicitly: the legacy value is dropped
  EXPECT_FALSE(out.contains("tasks.num"));
  EXPECT_EQ(out.get_string("rocketmq.topics"), "not-for-a-source");
  EXPECT_FALSE(out.contains("connect.topicnames"));

  KeyValue current{{"connector.class", "NullSink"}, {"connect.topicnames", "a"}};
  EXPECT_EQ(normalize_legacy_keys(current, registry()), current);
}

// Seed 001: a sink's RocketMQ consumer group is connector-consumer-group-<connector name>.
TEST(LegacyKeysTest, ASinkCreatedTheSeedsWayGetsTheSeedsConsumerGroup) {
  KeyValue seed{
      {"rocketmq.topics", "kafkaconnect"},
      {"connector-class", "org.apache.rocketmq.connect.rocketmq.connector.RocketMQSinkConnector"}};
  EXPECT_EQ(normalize_legacy_keys(seed, registry(), "kafkaSink").get_string("task.group.id"),
            "connector-consumer-group-kafkaSink");
  // The seed's class under current keys, or the seed's topics key on another sink: the same.
  KeyValue seed_class{
      {"connector.class", "org.apache.rocketmq.connect.rocketmq.connector.RocketMQSinkConnector"},
      {"connect.topicnames", "t"}};
  EXPECT_EQ(normalize_legacy_keys(seed_class, registry(), "s").get_string("task.group.id"),
            "connector-consumer-group-s");
  KeyValue seed_topics{{"connector.class", "NullSink"}, {"rocketmq.topics", "t"}};
  EXPECT_EQ(normalize_legacy_keys(seed_topics, registry(), "s").get_string("task.group.id"),
            "connector-consumer-group-s");
  // An explicit group wins; without a name (validation) nothing is added.
  KeyValue explicit_group = seed;
  explicit_group.put("task.group.id", "mine");
  EXPECT_EQ(
      normalize_legacy_keys(explicit_group, registry(), "kafkaSink").get_string("task.group.id"),
      "mine");
  EXPECT_FALSE(normalize_legacy_keys(seed, registry()).contains("task.group.id"));
  // Current keys on another sink, and sources, keep the runtime's default (connect-<name>).
  KeyValue current{{"connector.class", "NullSink"}, {"connect.topicnames", "a"}};
  EXPECT_FALSE(normalize_legacy_keys(current, registry(), "s").contains("task.group.id"));
  KeyValue source{{"connector-class", "NullSource"}, {"rocketmq.topics", "x"}};
  EXPECT_FALSE(normalize_legacy_keys(source, registry(), "s").contains("task.group.id"));
}

}  // namespace
}  // namespace rmqc::runtime
