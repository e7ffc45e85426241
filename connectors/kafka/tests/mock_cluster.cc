#include "mock_cluster.h"

#include <chrono>
#include <memory>
#include <stdexcept>

namespace rmqc::connectors::kafka::testing {
namespace {

rd_kafka_t* new_client(rd_kafka_type_t type,
                       const std::vector<std::pair<std::string, std::string>>& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char reason[512];
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), reason, sizeof(reason)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(k + ": " + reason);
    }
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, reason, sizeof(reason));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(reason);
  }
  return rk;
}

struct Destroy {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};

}  // namespace

MockKafkaCluster::MockKafkaCluster(int brokers) {
  handle_ = new_client(RD_KAFKA_PRODUCER, {{"log_level", "3"}});
  cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
  if (cluster_ == nullptr) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
  bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
}

MockKafkaCluster::~MockKafkaCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

void MockKafkaCluster::create_topic(const std::string& topic, int partitions) {
  if (auto err = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1); err) {
    throw std::runtime_error("creating " + topic + ": " + rd_kafka_err2str(err));
  }
}

void MockKafkaCluster::set_down(int broker) {
  rd_kafka_mock_broker_set_down(cluster_, broker);
}

void MockKafkaCluster::set_up(int broker) {
  rd_kafka_mock_broker_set_up(cluster_, broker);
}

bool produce(const std::string& bootstraps, const std::vector<KafkaMessage>& messages,
             std::string* error) {
  std::unique_ptr<rd_kafka_t, Destroy> rk(
      new_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstraps}, {"linger.ms", "1"}}));
  for (const auto& m : messages) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(m.headers.size());
    for (const auto& [k, v] : m.headers) {
      rd_kafka_header_add(headers, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                          static_cast<ssize_t>(v.size()));
    }
    auto err = rd_kafka_producev(
        rk.get(), RD_KAFKA_V_TOPIC(m.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_PARTITION(m.partition >= 0 ? m.partition : RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_KEY(m.has_key ? m.key.data() : nullptr, m.has_key ? m.key.size() : 0),
        RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()),
        RD_KAFKA_V_TIMESTAMP(m.timestamp >= 0 ? m.timestamp : 0), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_END);
    if (err) {
      rd_kafka_headers_destroy(headers);
      if (error) *error = rd_kafka_err2str(err);
      return false;
    }
  }
  if (rd_kafka_flush(rk.get(), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (error) *error = "flush timed out";
    return false;
  }
  return true;
}

std::vector<KafkaMessage> consume(const std::string& bootstraps, const std::string& topic,
                                  std::size_t count, int timeout_ms) {
  static int group = 0;
  std::unique_ptr<rd_kafka_t, Destroy> rk(new_client(
      RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstraps},
                          {"group.id", "test-reader-" + std::to_string(++group) + "-" + topic},
                          {"auto.offset.reset", "earliest"},
                          {"enable.auto.commit", "false"}}));
  rd_kafka_poll_set_consumer(rk.get());
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<KafkaMessage> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 200);
    if (m == nullptr) continue;
    if (!m->err) {
      KafkaMessage k;
      k.topic = rd_kafka_topic_name(m->rkt);
      k.partition = m->partition;
      k.offset = m->offset;
      k.has_key = m->key != nullptr;
      if (m->key) k.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) k.value.assign(static_cast<const char*>(m->payload), m->len);
      k.timestamp = rd_kafka_message_timestamp(m, nullptr);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        for (std::size_t i = 0; !rd_kafka_header_get_all(headers, i, &name, &value, &size); ++i) {
          k.headers.emplace_back(
              name, value ? std::string(static_cast<const char*>(value), size) : std::string());
        }
      }
      out.push_back(std::move(k));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

std::map<std::int32_t, std::int64_t> committed(const std::string& bootstraps,
                                               const std::string& group, const std::string& topic,
                                               int partitions) {
  std::unique_ptr<rd_kafka_t, Destroy> rk(
      new_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstraps}, {"group.id", group}}));
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  std::map<std::int32_t, std::int64_t> out;
  if (rd_kafka_committed(rk.get(), list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < list->cnt; ++i) out[list->elems[i].partition] = list->elems[i].offset;
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(rk.get());
  return out;
}

}  // namespace rmqc::connectors::kafka::testing
