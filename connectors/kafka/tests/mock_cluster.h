#pragma once

// librdkafka's mock Kafka cluster for tests: brokers in this process listening on loopback TCP
// ports, speaking the Kafka protocol (produce, fetch, consumer groups, idempotence), so any Kafka
// client (librdkafka, kcat) can use it.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rmqc::connectors::kafka::testing {

class MockKafkaCluster {
 public:
  explicit MockKafkaCluster(int brokers = 1);
  ~MockKafkaCluster();
  MockKafkaCluster(const MockKafkaCluster&) = delete;
  MockKafkaCluster& operator=(const MockKafkaCluster&) = delete;

  // host:port,host:port of the brokers.
  const std::string& bootstraps() const { return bootstraps_; }
  void create_topic(const std::string& topic, int partitions);
  // Disconnects a broker (ids 1..brokers) and refuses connections until set_up().
  void set_down(int broker);
  void set_up(int broker);

 private:
  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstraps_;
};

// A message as a test client sees it.
struct KafkaMessage {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  bool has_key = false;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  std::int64_t timestamp = -1;
};

// Produces messages synchronously (each acknowledged before return); false on failure.
bool produce(const std::string& bootstraps, const std::vector<KafkaMessage>& messages,
             std::string* error = nullptr);

// Reads a topic from the beginning (a group of its own) until `count` messages arrived or
// `timeout_ms` passed.
std::vector<KafkaMessage> consume(const std::string& bootstraps, const std::string& topic,
                                  std::size_t count, int timeout_ms);

// The group's committed offsets of a topic's partitions (partition -> offset; -1001 = none).
std::map<std::int32_t, std::int64_t> committed(const std::string& bootstraps,
                                               const std::string& group, const std::string& topic,
                                               int partitions);

}  // namespace rmqc::connectors::kafka::testing
