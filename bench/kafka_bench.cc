// Kafka connectors (issue 14, "Benchmark"): msgs/s and MB/s at 100 B and 1 KB bodies, against
// librdkafka's mock Kafka cluster and the embedded RocketMQ broker, both in-process on loopback:
//   Kafka -> RocketMQ: KafkaSourceTask poll() + the native producer's async sends (1024 in flight
//                      per task, as the worker's window) + commit(record) per acknowledged
//                      record, 1 task and 4 tasks (one group, own threads, the producer shared);
//   RocketMQ -> Kafka: the lite pull consumer + KafkaSinkTask put() + the final pre_commit()
//                      (waits for every delivery report), 1 task and 4 tasks (own threads, the
//                      queues split among them);
// next to each side's raw producer in the same run (the ceilings): librdkafka producing the same
// messages into the mock cluster (these are the source's input), and the native RocketMQ
// producer, async, 512 in flight, binary headers as the worker's clients (the sink's input). The
// mock cluster keeps about 5 MB per partition, so the topics get as many partitions as the run
// needs. The tasks run without a worker (no converters, transforms or position store): the
// connector's own cost plus the clients'. kafka_worker_bench.cc measures the whole worker.
//
//   rmqc_bench_kafka [messages per run at 100 B, default 200000; half as many at 1 KB]
#include "base/logging.h"
#include "kafka/kafka_sink.h"
#include "kafka/kafka_source.h"
#include "kafka_bench_support.h"
#include "mock_cluster.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/throughput.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

namespace {

using namespace rmqc;
namespace kafka = rmqc::connectors::kafka;

using bench::Clock;
using bench::Rate;
using bench::since;

// `tasks` KafkaSourceTasks of one group on threads of their own, each sending and committing as
// kafka_to_rocketmq(); the input is produced once every partition is assigned, and the time runs
// from the first record to the n-th acknowledgement.
Rate kafka_to_rocketmq_tasks(const std::string& bootstraps, const std::string& topic,
                             int partitions, rocketmq::Producer& producer,
                             const std::string& rocketmq_topic, std::int64_t n, std::size_t size,
                             int tasks) {
  std::atomic<std::int64_t> done{0};
  std::atomic<std::int64_t> committed{0};
  std::atomic<bool> started{false};
  std::mutex start_mutex;
  Clock::time_point start = Clock::now();
  std::vector<std::atomic<int>> shares(static_cast<std::size_t>(tasks));
  auto run = [&](int index) {
    kafka::KafkaSourceTask task;
    task.start(KeyValue{{"connector.name", "bench-source-" + topic},
                        {"kafka.bootstrap.server", bootstraps},
                        {"kafka.topics", topic},
                        {"rocketmq.topic", rocketmq_topic}});
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<ConnectRecord> acked;
    std::int64_t in_flight = 0;
    constexpr std::int64_t kWindow = 1024;
    while (done.load() < n) {
      std::vector<ConnectRecord> records = task.poll();
      shares[static_cast<std::size_t>(index)] = static_cast<int>(task.assignment().size());
      if (!records.empty() && !started.exchange(true)) {
        std::lock_guard lock(start_mutex);
        start = Clock::now();
      }
      for (auto& record : records) {
        {
          std::unique_lock lock(mutex);
          cv.wait(lock, [&] { return in_flight < kWindow; });
          ++in_flight;
        }
        const auto* key = record.key.get_if<std::string>();
        rocketmq::Message m(std::string(record.topic()), record.value.as_string(), {},
                            key ? *key : std::string());
        for (const auto& [k, v] : record.extensions) {
          if (k != ConnectRecord::kTopicExtension) m.properties[k] = v;
        }
        auto shared = std::make_shared<ConnectRecord>(std::move(record));
        producer.send_async(std::move(m), [&, shared](Result<rocketmq::SendResult> r) {
          std::lock_guard lock(mutex);
          --in_flight;
          if (r.ok()) acked.push_back(std::move(*shared));
          ++done;
          cv.notify_all();
        });
      }
      std::deque<ConnectRecord> ready;
      {
        std::lock_guard lock(mutex);
        ready.swap(acked);
      }
      for (const auto& record : ready) task.commit(record, {});
      committed += static_cast<std::int64_t>(ready.size());
      if (records.empty() && ready.empty()) {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, std::chrono::milliseconds(5), [&] { return !acked.empty(); });
      }
    }
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return in_flight == 0; });  // the callbacks use this frame
    lock.unlock();
    task.stop();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < tasks; ++t) threads.emplace_back(run, t);
  for (auto deadline = Clock::now() + std::chrono::seconds(60); Clock::now() < deadline;) {
    int sum = 0;
    for (const auto& share : shares) sum += share.load();
    if (sum == partitions) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  bench::raw_kafka_produce(bootstraps, topic, n, size);  // the input, not measured here
  for (auto& t : threads) t.join();
  std::lock_guard lock(start_mutex);
  return Rate{committed.load(), committed.load() * static_cast<std::int64_t>(size), since(start)};
}

// Lite pull consumer -> KafkaSinkTask, `tasks` of them on threads of their own, the topic's
// queues split among them, until n records are put and acknowledged by Kafka.
Rate rocketmq_to_kafka(const std::string& namesrv, const std::string& topic,
                       const std::string& bootstraps, const std::string& kafka_topic,
                       std::int64_t n, std::size_t size, int tasks) {
  std::atomic<std::int64_t> put{0};
  auto run = [&](int index) {
    rocketmq::ConsumerConfig cc;
    cc.client.namesrv_addr = namesrv;
    cc.group = "bench_sink_" + topic + "_" + std::to_string(tasks) + "_" + std::to_string(index);
    cc.client.serialize_type = rocketmq::SerializeType::ROCKETMQ;
    cc.auto_commit = false;
    auto consumer = rocketmq::LitePullConsumer::start(cc);
    if (!consumer.ok()) return;
    auto queues = (*consumer)->fetch_queues(topic);
    if (!queues.ok()) return;
    std::vector<rocketmq::MessageQueue> mine;
    for (std::size_t q = 0; q < queues->size(); ++q) {
      if (static_cast<int>(q % static_cast<std::size_t>(tasks)) == index) {
        mine.push_back((*queues)[q]);
      }
    }
    if (!(*consumer)->assign(mine).ok()) return;
    for (const auto& q : mine) (void)(*consumer)->seek_to_begin(q);
    kafka::KafkaSinkTask task;
    task.start(KeyValue{{"connector.name", "bench-sink-" + topic},
                        {"kafka.bootstrap.server", bootstraps},
                        {"kafka.topic", kafka_topic}});
    while (put.load() < n) {
      auto polled = (*consumer)->poll(std::chrono::milliseconds(200));
      if (!polled.ok() || polled->empty()) continue;
      std::vector<ConnectRecord> batch;
      batch.reserve(polled->size());
      for (const auto& m : *polled) {
        ConnectRecord record(RecordPartition{{"topic", Value(std::string(m.topic()))},
                                             {"brokerName", Value(m.queue().broker_name)},
                                             {"queueId", Value(std::int64_t{m.queue_id()})}},
                             RecordOffset{{"queueOffset", Value(m.queue_offset())}},
                             m.store_timestamp(), schemas::string(true),
                             m.keys().empty() ? Value() : Value(std::string(m.keys())),
                             schemas::string(true), Value(std::string(m.body())));
        for (auto& [k, v] : m.properties()) record.extensions.put(k, std::move(v));
        batch.push_back(std::move(record));
      }
      task.put(batch);
      put += static_cast<std::int64_t>(batch.size());
    }
    task.pre_commit({});
    task.stop();
    (*consumer)->shutdown();
  };
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < tasks; ++t) threads.emplace_back(run, t);
  for (auto& t : threads) t.join();
  return Rate{put.load(), put.load() * static_cast<std::int64_t>(size), since(start)};
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t count = argc > 1 ? std::atoll(argv[1]) : 200'000;
  set_log_level("warn");
  auto broker = bench::TempBroker::start("rmqc_kafka_bench");
  if (!broker) return 1;
  auto& b = **broker;
  kafka::testing::MockKafkaCluster cluster(1);

  rocketmq::ProducerConfig pc;
  pc.client.namesrv_addr = b.namesrv_addr();
  pc.group = "bench_kafka_producer";
  pc.client.serialize_type = rocketmq::SerializeType::ROCKETMQ;  // binary headers, as the worker
  auto producer = rocketmq::Producer::start(pc);
  if (!producer.ok()) return 1;

  std::printf(
      "Kafka connectors' tasks without a worker, mock Kafka cluster (librdkafka %s) and embedded "
      "broker in-process, loopback, %lld msgs per run at 100 B, half at 1 KB\n",
      rd_kafka_version_str(), static_cast<long long>(count));
  bench::print_rate_header("run");
  for (std::size_t size : {std::size_t{100}, std::size_t{1024}}) {
    const std::string s = std::to_string(size);
    const std::int64_t n = size >= 1024 ? count / 2 : count;  // as rmqc_bench_worker
    const int partitions = bench::partitions_for(n, size);
    for (const char* t : {"raw-", "k2r-", "k2r4-", "r2k-", "r2k4-"}) {
      cluster.create_topic(t + s, partitions);
    }
    if (!b.broker().create_topic("k2r-" + s, 8, 8).ok()) return 1;
    if (!b.broker().create_topic("r2k-" + s, 8, 8).ok()) return 1;

    bench::print_rate("raw librdkafka producer -> mock Kafka", size,
                      bench::raw_kafka_produce(cluster.bootstraps(), "raw-" + s, n, size));
    bench::print_rate("raw RocketMQ producer (async) -> broker", size,
                      bench::raw_rocketmq_produce(**producer, "r2k-" + s, n, size));
    bench::print_rate("Kafka -> RocketMQ (KafkaSourceTask + producer)", size,
                      kafka_to_rocketmq_tasks(cluster.bootstraps(), "k2r-" + s, partitions,
                                              **producer, "k2r-" + s, n, size, 1));
    bench::print_rate("Kafka -> RocketMQ, 4 tasks", size,
                      kafka_to_rocketmq_tasks(cluster.bootstraps(), "k2r4-" + s, partitions,
                                              **producer, "k2r-" + s, n, size, 4));
    bench::print_rate("RocketMQ -> Kafka (consumer + KafkaSinkTask)", size,
                      rocketmq_to_kafka(b.namesrv_addr(), "r2k-" + s, cluster.bootstraps(),
                                        "r2k-" + s, n, size, 1));
    bench::print_rate("RocketMQ -> Kafka, 4 tasks", size,
                      rocketmq_to_kafka(b.namesrv_addr(), "r2k-" + s, cluster.bootstraps(),
                                        "r2k4-" + s, n, size, 4));
  }
  (*producer)->shutdown();
  return 0;
}
