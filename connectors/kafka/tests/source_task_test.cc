// KafkaSourceConnector and KafkaSourceTask against librdkafka's mock cluster on loopback.
#include "rmqc/api/errors.h"
#include "rmqc/plugin/entry.h"

#include "kafka/kafka_source.h"
#include "mock_cluster.h"
#include "plugins/plugin_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

RMQC_PLUGIN_DECLARE(kafka);

namespace rmqc::connectors::kafka {
namespace {

using testing::KafkaMessage;
using testing::MockKafkaCluster;
using namespace std::chrono_literals;

// The worker's side of a source task: positions it committed before.
class FakeSourceContext final : public SourceTaskContext, public OffsetStorageReader {
 public:
  explicit FakeSourceContext(std::string name = "kafka-src") : name_(std::move(name)) {}
  OffsetStorageReader& offset_storage_reader() override { return *this; }
  std::string_view connector_name() const override { return name_; }
  std::string_view task_name() const override { return "task-0"; }
  const KeyValue& configs() const override { return configs_; }
  std::optional<RecordOffset> read_offset(const RecordPartition& partition) override {
    auto it = positions.find(partition);
    if (it == positions.end()) return std::nullopt;
    return it->second;
  }
  OffsetMap read_offsets(const std::vector<RecordPartition>& partitions) override {
    OffsetMap out;
    for (const auto& p : partitions) {
      if (auto o = read_offset(p)) out.emplace(p, *o);
    }
    return out;
  }

  OffsetMap positions;

 private:
  std::string name_;
  KeyValue configs_;
};

KeyValue source_config(const MockKafkaCluster& cluster, const std::string& topics) {
  return KeyValue{{"connector.class", "KafkaSourceConnector"},
                  {std::string(kBootstrapServerConfig), cluster.bootstraps()},
                  {std::string(kTopicsConfig), topics},
                  // The mock cluster may not honour LeaveGroup: a member gone is noticed by its
                  // session timeout, which a test keeps short.
                  {"kafka.session.timeout.ms", "6000"}};
}

// Polls until `count` records arrived (or 30 s passed).
std::vector<ConnectRecord> poll_until(KafkaSourceTask& task, std::size_t count) {
  std::vector<ConnectRecord> out;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    for (auto& r : task.poll()) out.push_back(std::move(r));
  }
  return out;
}

std::int64_t int_of(const Value* v) {
  std::int64_t n = -1;
  if (v) v->to_int64(n);
  return n;
}

TEST(KafkaSourceConnectorTest, RegisteredUnderTheJavaNamesAndAlias) {
  plugins::PluginRegistry registry;
  rmqc_plugin_register_kafka(registry);
  for (const char* name : {"org.apache.rocketmq.connect.kafka.connector.KafkaSourceConnector",
                           "KafkaSourceConnector"}) {
    const auto* e = registry.find(name);
    ASSERT_NE(e, nullptr) << name;
    EXPECT_EQ(e->kind, PluginKind::kSourceConnector);
  }
  for (const char* name : {"org.apache.rocketmq.connect.kafka.connector.KafkaSinkConnector",
                           "org.apache.rocketmq.connect.rocketmq.connector.RocketMQSinkConnector",
                           "KafkaSinkConnector"}) {
    const auto* e = registry.find(name);
    ASSERT_NE(e, nullptr) << name;
    EXPECT_EQ(e->kind, PluginKind::kSinkConnector);
  }
}

TEST(KafkaSourceConnectorTest, ValidatesKeysAndSplitsIntoMaxTasks) {
  KafkaSourceConnector connector;
  EXPECT_THROW(connector.validate(KeyValue{{"kafka.topics", "a"}}), ConnectException);
  EXPECT_THROW(connector.validate(KeyValue{{"kafka.bootstrap.server", "127.0.0.1:1"}}),
               ConnectException);
  try {
    connector.validate(KeyValue{{"kafka.bootstrap.server", "127.0.0.1:1"},
                                {"kafka.topics", "a"},
                                {"kafka.no.such.setting", "1"}});
    ADD_FAILURE() << "an unknown librdkafka key was accepted";
  } catch (const ConnectException& e) {
    EXPECT_NE(std::string(e.what()).find("kafka.no.such.setting"), std::string::npos) << e.what();
  }
  // kafka.* reaches librdkafka: a valid client key passes.
  const KeyValue ok{{"kafka.bootstrap.server", "127.0.0.1:1"},
                    {"kafka.topics", "a,b"},
                    {"kafka.fetch.wait.max.ms", "50"}};
  connector.validate(ok);
  connector.start(ok);
  auto tasks = connector.task_configs(4);
  ASSERT_EQ(tasks.size(), 4u);
  for (const auto& t : tasks) EXPECT_EQ(t.get_string("kafka.topics"), "a,b");
  EXPECT_EQ(default_group_id("kafkaSource"), "connector-consumer-group-kafkaSource");
}

TEST(KafkaSourceTaskTest, RecordsKeepKeyBytesHeadersTimestampAndPosition) {
  MockKafkaCluster cluster;
  cluster.create_topic("orders", 2);
  const std::string binary("\x00\x01\xff\xfe payload", 12);
  std::vector<KafkaMessage> sent;
  sent.push_back(
      {"orders", 0, -1, true, "k1", binary, {{"h1", "v1"}, {"trace", "abc"}}, 1'700'000'000'000});
  sent.push_back({"orders", 1, -1, false, "", "no key", {}, 1'700'000'000'001});
  sent.push_back({"orders", 0, -1, true, "k3", "third", {{"h1", "v3"}}, 1'700'000'000'002});
  std::string error;
  ASSERT_TRUE(testing::produce(cluster.bootstraps(), sent, &error)) << error;

  FakeSourceContext context("orders-src");
  KafkaSourceTask task;
  task.init(context);
  task.start(source_config(cluster, "orders"));
  EXPECT_EQ(task.group_id(), "connector-consumer-group-orders-src");
  auto records = poll_until(task, 3);
  ASSERT_EQ(records.size(), 3u);
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return *a.timestamp < *b.timestamp; });
  const auto& first = records[0];
  EXPECT_EQ(first.topic(), "orders");
  EXPECT_EQ(first.key.as_string(), "k1");
  EXPECT_EQ(first.value.as_string(), binary);
  ASSERT_NE(first.extension("h1"), nullptr);
  EXPECT_EQ(*first.extension("h1"), "v1");
  EXPECT_EQ(*first.extension("trace"), "abc");
  EXPECT_EQ(first.timestamp, 1'700'000'000'000);
  EXPECT_EQ(first.position.partition.find("topic")->as_string(), "orders");
  EXPECT_EQ(int_of(first.position.partition.find("partition")), 0);
  EXPECT_EQ(int_of(first.position.offset.find("offset")), 0);
  EXPECT_TRUE(records[1].key.is_null());
  EXPECT_EQ(int_of(records[1].position.partition.find("partition")), 1);
  EXPECT_EQ(int_of(records[2].position.offset.find("offset")), 1);
  EXPECT_EQ(*records[2].extension("h1"), "v3");
  task.stop();
}

TEST(KafkaSourceTaskTest, RenamesAndUsesBytesForByteArrayConverter) {
  MockKafkaCluster cluster;
  cluster.create_topic("kafkaconnect", 1);
  ASSERT_TRUE(
      testing::produce(cluster.bootstraps(), {{"kafkaconnect", 0, -1, true, "k", "v", {}, 5}}));
  KafkaSourceTask task;
  KeyValue config = source_config(cluster, "kafkaconnect");
  config.put("rocketmq.topic", "renamed");
  config.put("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
  config.put("kafka.group.id", "my-group");
  task.start(config);
  EXPECT_EQ(task.group_id(), "my-group");
  auto records = poll_until(task, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].topic(), "renamed");
  EXPECT_EQ(records[0].value_schema->type(), FieldType::kBytes);
  EXPECT_EQ(records[0].value.as_bytes(), (Bytes{'v'}));
  EXPECT_EQ(records[0].key.as_string(), "k");  // the key converter is not ByteArrayConverter
  task.stop();
}

TEST(KafkaSourceTaskTest, CommitsToKafkaOnlyWhatRocketMqAcknowledged) {
  MockKafkaCluster cluster;
  cluster.create_topic("acked", 1);
  std::vector<KafkaMessage> sent;
  for (int i = 0; i < 10; ++i)
    sent.push_back({"acked", 0, -1, true, "k", std::to_string(i), {}, -1});
  ASSERT_TRUE(testing::produce(cluster.bootstraps(), sent));

  KeyValue config = source_config(cluster, "acked");
  config.put("kafka.group.id", "acked-group");
  {
    KafkaSourceTask task;
    task.start(config);
    auto records = poll_until(task, 10);
    ASSERT_EQ(records.size(), 10u);
    // The broker acknowledged the first four only.
    for (int i = 0; i < 4; ++i) task.commit(records[static_cast<std::size_t>(i)], {});
    task.stop();  // leaves the group, committing what was stored
  }
  auto offsets = testing::committed(cluster.bootstraps(), "acked-group", "acked", 1);
  EXPECT_EQ(offsets[0], 4);

  // The next member of the group (no worker position) starts at the first unacknowledged one.
  KafkaSourceTask next;
  next.start(config);
  auto again = poll_until(next, 6);
  ASSERT_EQ(again.size(), 6u);
  EXPECT_EQ(int_of(again.front().position.offset.find("offset")), 4);
  EXPECT_EQ(again.front().value.as_string(), "4");
  next.stop();
}

TEST(KafkaSourceTaskTest, ResumesAfterTheWorkersCommittedPosition) {
  MockKafkaCluster cluster;
  cluster.create_topic("resume", 1);
  std::vector<KafkaMessage> sent;
  for (int i = 0; i < 10; ++i)
    sent.push_back({"resume", 0, -1, false, "", std::to_string(i), {}, -1});
  ASSERT_TRUE(testing::produce(cluster.bootstraps(), sent));
  FakeSourceContext context;
  context.positions.emplace(
      RecordPartition{{"topic", Value("resume")}, {"partition", Value(std::int64_t{0})}},
      RecordOffset{{"offset", Value(std::int64_t{6})}});
  KafkaSourceTask task;
  task.init(context);
  task.start(source_config(cluster, "resume"));
  auto records = poll_until(task, 3);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].value.as_string(), "7");
  EXPECT_EQ(records[2].value.as_string(), "9");
  task.stop();
}

TEST(KafkaSourceTaskTest, TasksOfOneConnectorSplitThePartitions) {
  MockKafkaCluster cluster;
  cluster.create_topic("split", 4);
  KeyValue config = source_config(cluster, "split");
  config.put("kafka.group.id", "split-group");
  KafkaSourceTask a;
  KafkaSourceTask b;
  a.start(config);
  b.start(config);
  // Both members poll until the group gave each a share.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while ((a.assignment().empty() || b.assignment().empty() ||
          a.assignment().size() + b.assignment().size() != 4) &&
         std::chrono::steady_clock::now() < deadline) {
    EXPECT_TRUE(a.poll().empty());
    EXPECT_TRUE(b.poll().empty());
  }
  auto in_a = a.assignment();
  auto in_b = b.assignment();
  ASSERT_EQ(in_a.size() + in_b.size(), 4u);
  std::set<std::string> all(in_a.begin(), in_a.end());
  all.insert(in_b.begin(), in_b.end());
  EXPECT_EQ(all.size(), 4u) << "a partition is assigned to both tasks";

  std::vector<KafkaMessage> sent;
  for (int i = 0; i < 40; ++i)
    sent.push_back({"split", i % 4, -1, false, "", std::to_string(i), {}, -1});
  ASSERT_TRUE(testing::produce(cluster.bootstraps(), sent));
  std::vector<ConnectRecord> got_a;
  std::vector<ConnectRecord> got_b;
  deadline = std::chrono::steady_clock::now() + 30s;
  while (got_a.size() + got_b.size() < 40 && std::chrono::steady_clock::now() < deadline) {
    for (auto& r : a.poll()) got_a.push_back(std::move(r));
    for (auto& r : b.poll()) got_b.push_back(std::move(r));
  }
  EXPECT_EQ(got_a.size(), in_a.size() * 10);
  EXPECT_EQ(got_b.size(), in_b.size() * 10);
  std::set<std::string> values;
  for (const auto& r : got_a) values.insert(r.value.as_string());
  for (const auto& r : got_b) values.insert(r.value.as_string());
  EXPECT_EQ(values.size(), 40u);
  a.stop();
  b.stop();
}

TEST(KafkaSourceTaskTest, WakeupEndsABlockingPoll) {
  MockKafkaCluster cluster;
  cluster.create_topic("idle", 1);
  KafkaSourceTask task;
  task.start(source_config(cluster, "idle"));
  task.wakeup();  // before the poll: kept for it
  EXPECT_TRUE(task.poll().empty());
  std::thread waker([&] {
    std::this_thread::sleep_for(100ms);
    task.wakeup();
  });
  EXPECT_TRUE(task.poll().empty());
  waker.join();
  task.stop();
  task.wakeup();  // after stop: harmless
}

TEST(KafkaSourceTaskTest, KafkaDownMeansRetryingAndNothingLost) {
  MockKafkaCluster cluster;
  cluster.create_topic("outage", 1);
  ASSERT_TRUE(
      testing::produce(cluster.bootstraps(), {{"outage", 0, -1, false, "", "before", {}, -1}}));
  KafkaSourceTask task;
  task.start(source_config(cluster, "outage"));
  auto first = poll_until(task, 1);
  ASSERT_EQ(first.size(), 1u);
  cluster.set_down(1);
  // Once the client found every broker down, an empty poll says why (the worker retries it and
  // shows the reason in the task's status).
  std::string reason;
  for (int i = 0; i < 60 && reason.empty(); ++i) {
    try {
      EXPECT_TRUE(task.poll().empty());
    } catch (const RetriableException& e) {
      reason = e.what();
    }
  }
  EXPECT_NE(reason.find("Kafka unreachable (" + cluster.bootstraps() + ")"), std::string::npos)
      << reason;
  cluster.set_up(1);
  // Up again: polls stop throwing (the client reconnects; a metadata probe ends the outage).
  bool answered = false;
  for (int i = 0; i < 60 && !answered; ++i) {
    try {
      EXPECT_TRUE(task.poll().empty());
      answered = true;
    } catch (const RetriableException&) {
    }
  }
  EXPECT_TRUE(answered) << "still unreachable after set_up";
  ASSERT_TRUE(
      testing::produce(cluster.bootstraps(), {{"outage", 0, -1, false, "", "after", {}, -1}}));
  // At least once: "before" was never acknowledged, so the group may hand it out again after
  // the outage; "after" must arrive, and nothing else may.
  std::vector<std::string> seen;
  for (int i = 0; i < 50 && std::find(seen.begin(), seen.end(), "after") == seen.end(); ++i) {
    for (const auto& r : poll_until(task, 1)) seen.push_back(r.value.as_string());
  }
  ASSERT_NE(std::find(seen.begin(), seen.end(), "after"), seen.end()) << "lost across the outage";
  for (const auto& v : seen) EXPECT_TRUE(v == "after" || v == "before") << v;
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "after"), 1);
  task.stop();
}

}  // namespace
}  // namespace rmqc::connectors::kafka
