// KafkaSinkTask against librdkafka's mock cluster on loopback.
#include "rmqc/api/errors.h"

#include "kafka/kafka_sink.h"
#include "mock_cluster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace rmqc::connectors::kafka {
namespace {

using testing::MockKafkaCluster;
using namespace std::chrono_literals;

class FakeSinkContext final : public SinkTaskContext, public ErrorRecordReporter {
 public:
  std::string_view connector_name() const override { return "kafka-sink"; }
  std::string_view task_name() const override { return "task-0"; }
  const KeyValue& configs() const override { return configs_; }
  void reset_offset(const RecordPartition& partition, const RecordOffset& offset) override {
    resets.emplace_back(partition, offset);
  }
  void reset_offset(const OffsetMap& offsets) override {
    for (const auto& [p, o] : offsets) reset_offset(p, o);
  }
  void pause(const std::vector<RecordPartition>&) override {}
  void resume(const std::vector<RecordPartition>&) override {}
  std::vector<RecordPartition> assignment() const override { return {}; }
  ErrorRecordReporter* error_record_reporter() override { return with_dlq ? this : nullptr; }
  void report(const ConnectRecord& record, const std::string& error) override {
    dead.emplace_back(record.value.to_string(), error);
  }

  bool with_dlq = false;
  std::vector<std::pair<RecordPartition, RecordOffset>> resets;
  std::vector<std::pair<std::string, std::string>> dead;

 private:
  KeyValue configs_;
};

RecordPartition queue(const std::string& topic, int id) {
  return RecordPartition{{"topic", Value(topic)},
                         {"brokerName", Value("broker-a")},
                         {"queueId", Value(std::int64_t{id})}};
}

ConnectRecord sink_record(const std::string& topic, int queue_id, std::int64_t offset,
                          std::optional<std::string> key, std::string value) {
  ConnectRecord r(queue(topic, queue_id), RecordOffset{{"queueOffset", Value(offset)}}, 42,
                  schemas::string(true), key ? Value(*key) : Value(), schemas::string(true),
                  Value(std::move(value)));
  return r;
}

KeyValue sink_config(const MockKafkaCluster& cluster) {
  return KeyValue{{"connector.class", "KafkaSinkConnector"},
                  {std::string(kBootstrapServerConfig), cluster.bootstraps()},
                  {"connect.topicnames", "t"}};
}

TEST(KafkaSinkTaskTest, WritesKeysValuesHeadersAndTimestampsThenCommits) {
  MockKafkaCluster cluster;
  cluster.create_topic("events", 1);
  FakeSinkContext context;
  KafkaSinkTask task;
  task.init(context);
  task.start(sink_config(cluster));
  const std::string binary("\x00\x02\xff bytes", 9);
  std::vector<ConnectRecord> records;
  records.push_back(sink_record("events", 0, 10, "k1", binary));
  records.back().add_extension("h1", "v1");
  records.back().add_extension("UNIQ_KEY", "AC11000100002A9F0000000000000000");
  records.back().add_extension("KEYS", "k1");
  records.back().add_extension("connect.timestamp", "1700000000123");
  records.push_back(sink_record("events", 0, 11, std::nullopt, "second"));
  records.push_back(sink_record("events", 0, 12, "k3", ""));
  records.back().value = Value(Bytes{'b', 0, 'y'});
  task.put(records);
  OffsetMap current{{queue("events", 0), RecordOffset{{"queueOffset", Value(std::int64_t{13})}}}};
  OffsetMap committed = task.pre_commit(current);
  EXPECT_EQ(committed, current);
  EXPECT_EQ(task.in_flight(), 0);
  EXPECT_TRUE(context.resets.empty());

  auto got = testing::consume(cluster.bootstraps(), "events", 3, 30000);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].has_key);
  EXPECT_EQ(got[0].key, "k1");
  EXPECT_EQ(got[0].value, binary);
  ASSERT_EQ(got[0].headers.size(), 1u);  // system properties are not headers
  EXPECT_EQ(got[0].headers[0], (std::pair<std::string, std::string>{"h1", "v1"}));
  EXPECT_EQ(got[0].timestamp, 1'700'000'000'123);
  EXPECT_FALSE(got[1].has_key);
  EXPECT_EQ(got[1].value, "second");
  EXPECT_EQ(got[1].timestamp, 42);
  EXPECT_EQ(got[2].value, std::string("b\0y", 3));
  task.stop();
}

TEST(KafkaSinkTaskTest, KafkaTopicRenames) {
  MockKafkaCluster cluster;
  cluster.create_topic("elsewhere", 1);
  KafkaSinkTask task;
  KeyValue config = sink_config(cluster);
  config.put("kafka.topic", "elsewhere");
  task.start(config);
  std::vector<ConnectRecord> records{sink_record("rocket", 1, 0, "k", "v")};
  task.put(records);
  task.flush({});
  auto got = testing::consume(cluster.bootstraps(), "elsewhere", 1, 30000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, "v");
  task.stop();
}

TEST(KafkaSinkTaskTest, FailedDeliveryHoldsBackItsQueueAndRewindsIt) {
  MockKafkaCluster cluster;
  cluster.create_topic("down", 1);
  FakeSinkContext context;
  KafkaSinkTask task;
  task.init(context);
  KeyValue config = sink_config(cluster);
  config.put("kafka.message.timeout.ms", "1500");
  config.put("kafka.reconnect.backoff.max.ms", "300");
  task.start(config);
  // Up: the first record is delivered.
  std::vector<ConnectRecord> first{sink_record("down", 0, 5, "k", "delivered")};
  task.put(first);
  OffsetMap current{{queue("down", 0), RecordOffset{{"queueOffset", Value(std::int64_t{6})}}}};
  EXPECT_EQ(task.pre_commit(current), current);

  cluster.set_down(1);
  std::vector<ConnectRecord> lost{sink_record("down", 0, 6, "k", "a"),
                                  sink_record("down", 0, 7, "k", "b")};
  task.put(lost);
  OffsetMap advanced{{queue("down", 0), RecordOffset{{"queueOffset", Value(std::int64_t{8})}}},
                     {queue("other", 1), RecordOffset{{"queueOffset", Value(std::int64_t{3})}}}};
  // While the records wait and the cluster is down, a commit says why at once; once they timed
  // out (kafka.message.timeout.ms), it goes through with the failed queue held back.
  OffsetMap to_commit;
  std::string reason;
  for (int i = 0; i < 200; ++i) {
    try {
      to_commit = task.pre_commit(advanced);
      break;
    } catch (const RetriableException& e) {
      reason = e.what();
    }
  }
  EXPECT_NE(reason.find("Kafka unreachable (" + cluster.bootstraps() + ")"), std::string::npos)
      << reason;
  // Nothing of the failed queue past its first undelivered record; the other queue is fine.
  EXPECT_EQ(to_commit.at(queue("down", 0)),
            (RecordOffset{{"queueOffset", Value(std::int64_t{6})}}));
  EXPECT_EQ(to_commit.at(queue("other", 1)), advanced.at(queue("other", 1)));
  ASSERT_EQ(context.resets.size(), 1u);
  EXPECT_EQ(context.resets[0].first, queue("down", 0));
  EXPECT_EQ(context.resets[0].second, (RecordOffset{{"queueOffset", Value(std::int64_t{6})}}));
  // flush() reports a failure as retriable.
  task.put(lost);
  EXPECT_THROW(task.flush(advanced), RetriableException);

  // Back up: the rewound records are written again (as the worker re-reads them) until Kafka
  // acknowledged them; then everything is committed.
  cluster.set_up(1);
  bool committed = false;
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       !committed && std::chrono::steady_clock::now() < deadline;) {
    task.put(lost);
    try {
      committed = task.pre_commit(advanced) == advanced;
    } catch (const RetriableException&) {
      // still reconnecting
    }
  }
  EXPECT_TRUE(committed);
  auto got = testing::consume(cluster.bootstraps(), "down", 3, 30000);
  ASSERT_GE(got.size(), 3u);
  EXPECT_EQ(got[0].value, "delivered");
  std::vector<std::string> values;
  for (const auto& m : got) values.push_back(m.value);
  auto a = std::find(values.begin(), values.end(), "a");
  auto b = std::find(values.begin(), values.end(), "b");
  ASSERT_NE(a, values.end());
  ASSERT_NE(b, values.end());
  EXPECT_LT(a, b);
  task.stop();
}

TEST(KafkaSinkTaskTest, WakeupEndsAWaitForDeliveries) {
  MockKafkaCluster cluster;
  cluster.create_topic("slow", 1);
  KafkaSinkTask task;
  KeyValue config = sink_config(cluster);
  config.put("kafka.flush.timeout.ms", "3600000");
  task.start(config);
  cluster.set_down(1);
  std::vector<ConnectRecord> records{sink_record("slow", 0, 0, "k", "v")};
  task.put(records);
  std::thread waker([&] {
    std::this_thread::sleep_for(200ms);
    task.wakeup();
  });
  EXPECT_THROW(task.pre_commit({}), RetriableException);
  waker.join();
  cluster.set_up(1);
  // Up again: the record is delivered (a commit meanwhile may still find the cluster down).
  bool committed = false;
  for (int i = 0; i < 200 && !committed; ++i) {
    try {
      task.pre_commit({});
      committed = true;
    } catch (const RetriableException&) {
    }
  }
  EXPECT_TRUE(committed);
  EXPECT_EQ(task.in_flight(), 0);
  task.stop();
}

TEST(KafkaSinkTaskTest, ARecordKafkaRefusesGoesToTheDeadLetterQueue) {
  MockKafkaCluster cluster;
  cluster.create_topic("big", 1);
  KeyValue config = sink_config(cluster);
  config.put("kafka.message.max.bytes", "1000");
  std::vector<ConnectRecord> records{sink_record("big", 0, 0, "k", "small"),
                                     sink_record("big", 0, 1, "k", std::string(5000, 'x')),
                                     sink_record("big", 0, 2, "k", "after")};
  {
    FakeSinkContext context;
    context.with_dlq = true;
    KafkaSinkTask task;
    task.init(context);
    task.start(config);
    task.put(records);
    task.flush({});
    ASSERT_EQ(context.dead.size(), 1u);
    EXPECT_EQ(context.dead[0].first, std::string(5000, 'x'));
    EXPECT_NE(context.dead[0].second.find("MSG_SIZE_TOO_LARGE"), std::string::npos)
        << context.dead[0].second;
    task.stop();
    auto got = testing::consume(cluster.bootstraps(), "big", 2, 30000);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].value, "after");
  }
  FakeSinkContext no_dlq;
  KafkaSinkTask strict;
  strict.init(no_dlq);
  strict.start(config);
  EXPECT_THROW(strict.put(records), ConnectException);
  strict.stop();
}

}  // namespace
}  // namespace rmqc::connectors::kafka
