// The Kafka connectors through the whole worker (issue 14, "Benchmark"): `rmq-connect standalone`
// with its embedded broker as a child process, librdkafka's mock Kafka cluster in this process
// (loopback TCP). At 100 B and 1 KB bodies, 1 task and 4 tasks:
//   Kafka -> RocketMQ: the topic is filled first (librdkafka's raw producer, timed: the Kafka
//                      ceiling), then a KafkaSourceConnector is created; timed from the first
//                      message in the RocketMQ topic to the last (the group join is not
//                      throughput), read from the broker's queue offsets;
//   RocketMQ -> Kafka: the topic is filled first (the native producer, async, 512 in flight,
//                      binary headers as the worker's clients: the RocketMQ ceiling), then a
//                      KafkaSinkConnector is created (its own group, from the first offset);
//                      timed from the first message in the Kafka topic to the last, read from
//                      the partitions' high watermarks.
// Each run copies every message through the worker's tasks, converters (the default
// StringConverter), position store and commit path. Target: at least 50% of the slower raw
// producer of the same size. The bench process (mock Kafka, the raw producers, the watching) and
// the worker share the machine's cores.
//
//   rmqc_bench_kafka_worker [path/to/rmq-connect] [messages at 100 B, default 200000; half at 1 KB]
//                           [task counts, default 1,4] [body sizes, default 100,1024]
//
// The worker's log is kept as /tmp/rmqc_bench_kafka_worker.log.
#include "rmqc/api/config_def.h"

#include "kafka_bench_support.h"
#include "mock_cluster.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/throughput.h"
#include "worker_harness.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace {

using namespace rmqc;
using namespace rmqc::itest;
using bench::Rate;

// Watches `count()` until it reaches n: the rate from the first message seen to the n-th.
template <typename Count>
Rate watch(std::int64_t n, std::size_t size, Count&& count, std::chrono::milliseconds every) {
  const auto deadline = Clock::now() + std::chrono::seconds(600);
  std::optional<Clock::time_point> first;
  std::int64_t seen = 0;
  while (Clock::now() < deadline) {
    const std::int64_t c = count();
    if (c > 0 && !first) first = Clock::now();
    seen = std::max(seen, c);
    if (c >= n) break;
    std::this_thread::sleep_for(every);
  }
  if (seen < n) std::fprintf(stderr, "only %lld of %lld arrived\n", (long long)seen, (long long)n);
  return Rate{seen, seen * static_cast<std::int64_t>(size), first ? bench::since(*first) : 0};
}

std::int64_t rocketmq_topic_size(rocketmq::Admin& admin, const std::string& topic) {
  auto queues = admin.topic_status(topic);
  if (!queues.ok()) return -1;
  std::int64_t sum = 0;
  for (const auto& q : *queues) sum += q.max_offset;
  return sum;
}

bool create(const WorkerProcess& w, const std::string& name, const Json& config) {
  auto r = w.post("/connectors/" + name, config.dump());
  if (r.status != 200) std::fprintf(stderr, "%s: %d %s\n", name.c_str(), r.status, r.body.c_str());
  return r.status == 200;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) ::setenv("RMQ_CONNECT_BIN", argv[1], 1);
  if (worker_bin().empty()) ::setenv("RMQ_CONNECT_BIN", RMQC_WORKER_BIN, 1);
  const std::int64_t count = argc > 2 ? std::atoll(argv[2]) : 200'000;
  auto numbers = [](const char* list) {
    std::vector<int> out;
    for (const auto& n : split_list(list)) out.push_back(std::atoi(n.c_str()));
    return out;
  };
  const std::vector<int> task_counts = numbers(argc > 3 ? argv[3] : "1,4");
  const std::vector<int> sizes = numbers(argc > 4 ? argv[4] : "100,1024");
  connectors::kafka::testing::MockKafkaCluster cluster(1);
  TempDir dir("rmqc_bench_kafka_worker");
  write_file(dir / "worker.conf",
             worker_conf(dir / "store", "offsetCommitIntervalMsConfig=1000\n"));
  WorkerProcess w;
  if (!w.start(dir / "worker.conf", {}, dir / "worker.log")) {
    std::fprintf(stderr, "worker: %s\n", w.error().c_str());
    return 1;
  }
  rocketmq::ClientConfig client;
  client.namesrv_addr = w.namesrv();
  client.serialize_type = rocketmq::SerializeType::ROCKETMQ;  // as the worker's clients
  auto admin = rocketmq::Admin::start(client);
  rocketmq::ProducerConfig pc;
  pc.client = client;
  pc.group = "bench-raw-producer";
  auto producer = rocketmq::Producer::start(pc);
  if (!admin.ok() || !producer.ok()) {
    std::fprintf(stderr, "RocketMQ clients did not start\n");
    return 1;
  }
  bench::KafkaTopicSize kafka_size(cluster.bootstraps());

  std::printf(
      "Kafka connectors through the worker (%s, embedded broker) and librdkafka %s's mock "
      "cluster, loopback, %lld msgs per run at 100 B, half at 1 KB\n",
      worker_bin().c_str(), rd_kafka_version_str(), static_cast<long long>(count));
  bench::print_rate_header("run");
  std::map<std::string, double> ratio;  // "<size> <direction> <tasks>" -> share of the ceiling
  for (const int body : sizes) {
    const auto size = static_cast<std::size_t>(body);
    const std::string s = std::to_string(size);
    const std::int64_t n = size >= 1024 ? count / 2 : count;
    const int partitions = bench::partitions_for(n, size);
    // The inputs, timed: each side's raw producer.
    cluster.create_topic("k2r-" + s, partitions);
    const Rate raw_kafka = bench::raw_kafka_produce(cluster.bootstraps(), "k2r-" + s, n, size);
    bench::print_rate("raw librdkafka producer -> mock Kafka", size, raw_kafka);
    if (!(*admin)->create_topic("r2k-" + s, 8).ok()) return 1;
    const Rate raw_rocketmq = bench::raw_rocketmq_produce(**producer, "r2k-" + s, n, size);
    bench::print_rate("raw RocketMQ producer (async 512) -> broker", size, raw_rocketmq);
    const double ceiling = std::min(raw_kafka.msgs_per_sec(), raw_rocketmq.msgs_per_sec());

    for (const int tasks : task_counts) {
      const std::string run = s + "-" + std::to_string(tasks);
      // Kafka -> RocketMQ.
      const std::string to_topic = "k2r-out-" + run;
      if (!(*admin)->create_topic(to_topic, 8).ok()) return 1;
      if (!create(w, "k2r-" + run,
                  Json{{"connector.class", "KafkaSourceConnector"},
                       {"kafka.bootstrap.server", cluster.bootstraps()},
                       {"kafka.topics", "k2r-" + s},
                       {"kafka.group.id", "bench-k2r-" + run},
                       // The mock cluster's group coordinator sometimes leaves members of a
                       // 4-member join without their assignment until the session timeout
                       // (45 s by default) evicts them: keep that stall short.
                       {"kafka.session.timeout.ms", "6000"},
                       {"connect.topicname", to_topic},
                       {"max.tasks", std::to_string(tasks)}})) {
        return 1;
      }
      const Rate k2r = watch(
          n, size, [&] { return rocketmq_topic_size(**admin, to_topic); },
          std::chrono::milliseconds(10));
      bench::print_rate("Kafka -> worker -> RocketMQ, " + std::to_string(tasks) + " task(s)", size,
                        k2r);
      w.del("/connectors/k2r-" + run);
      ratio[s + " B Kafka -> RocketMQ, " + std::to_string(tasks) + " task(s)"] =
          k2r.msgs_per_sec() / ceiling;

      // RocketMQ -> Kafka.
      const std::string kafka_topic = "r2k-out-" + run;
      cluster.create_topic(kafka_topic, partitions);
      if (!create(w, "r2k-" + run,
                  Json{{"connector.class", "KafkaSinkConnector"},
                       {"kafka.bootstrap.server", cluster.bootstraps()},
                       {"connect.topicnames", "r2k-" + s},
                       {"task.group.id", "bench-r2k-" + run},
                       {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"},
                       {"kafka.topic", kafka_topic},
                       {"max.tasks", std::to_string(tasks)}})) {
        return 1;
      }
      const Rate r2k = watch(
          n, size, [&] { return kafka_size(kafka_topic, partitions); },
          std::chrono::milliseconds(20));
      bench::print_rate("RocketMQ -> worker -> Kafka, " + std::to_string(tasks) + " task(s)", size,
                        r2k);
      w.del("/connectors/r2k-" + run);
      ratio[s + " B RocketMQ -> Kafka, " + std::to_string(tasks) + " task(s)"] =
          r2k.msgs_per_sec() / ceiling;
    }
  }
  std::printf("\nshare of the slower raw producer of the same size (target >= 50%%):\n");
  for (const auto& [what, share] : ratio)
    std::printf("  %-40s %5.0f%%\n", what.c_str(), 100 * share);
  (*producer)->shutdown();
  w.stop();
  std::error_code ec;
  fs::copy_file(dir / "worker.log", "/tmp/rmqc_bench_kafka_worker.log",
                fs::copy_options::overwrite_existing, ec);
  return 0;
}
