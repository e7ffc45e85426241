// The RocketMQ replicator (docs/connectors/replicator.md) end to end with real processes: two
// `rmq-connect broker` children, A (source) and B (destination), and `rmq-connect standalone` on
// B. For 100 B and 1 KB bodies: the raw native producer's rate into A (async, 512 in flight,
// binary headers, what the worker's producer uses) fills a source topic of 4 queues; then a
// ReplicatorSourceConnector with 1 and with 4 tasks copies it into B, timed from the connector's
// creation until B holds every message. Prints a table (msgs/s, MB/s).
//
//   rmqc_bench_replicator [messages at 100 B] [messages at 1 KB]
#include "cluster_harness.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/throughput.h"

#include <cstdio>

using namespace rmqc;
using namespace rmqc::itest;

namespace {

std::int64_t stored(rocketmq::Admin& admin, const std::string& topic) {
  auto status = admin.topic_status(topic);
  if (!status.ok()) return 0;
  std::int64_t total = 0;
  for (const auto& q : *status) total += q.max_offset;
  return total;
}

void row(const std::string& what, double msgs_per_sec, std::size_t size) {
  std::printf("| %-52s | %10.0f | %8.1f |\n", what.c_str(), msgs_per_sec,
              msgs_per_sec * static_cast<double>(size) / (1024.0 * 1024.0));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t n_100 = argc > 1 ? std::atoll(argv[1]) : 200'000;
  const std::int64_t n_1k = argc > 2 ? std::atoll(argv[2]) : 100'000;
  ::setenv("RMQ_CONNECT_BIN", RMQC_WORKER_BIN, 0);
  TempDir dir("rmqc_bench_replicator");
  BrokerChild a;
  BrokerChild b;
  if (!a.start_broker(dir / "store-a", dir / "broker-a.log") ||
      !b.start_broker(dir / "store-b", dir / "broker-b.log")) {
    std::fprintf(stderr, "brokers did not start: %s %s\n", a.error().c_str(), b.error().c_str());
    return 1;
  }
  write_file(dir / "worker.conf", "workerId=bench-replicator\nhttpPort=0\nnamesrvAddr=" +
                                      b.namesrv() + "\nstorePathRootDir=" + (dir / "worker") +
                                      "\noffsetCommitIntervalMsConfig=1000\n");
  WorkerProcess w;
  if (!w.start(dir / "worker.conf", {}, dir / "worker.log")) {
    std::fprintf(stderr, "worker did not start: %s\n", w.error().c_str());
    return 1;
  }
  rocketmq::ClientConfig ca;
  ca.namesrv_addr = a.namesrv();
  rocketmq::ClientConfig cb;
  cb.namesrv_addr = b.namesrv();
  auto admin_a = rocketmq::Admin::start(ca);
  auto admin_b = rocketmq::Admin::start(cb);
  rocketmq::ProducerConfig pc;
  pc.client = ca;
  pc.client.serialize_type = rocketmq::SerializeType::ROCKETMQ;
  pc.group = "bench-raw-producer";
  auto producer = rocketmq::Producer::start(pc);
  if (!admin_a.ok() || !admin_b.ok() || !producer.ok()) {
    std::fprintf(stderr, "clients did not start\n");
    return 1;
  }

  std::printf("| %-52s | %10s | %8s |\n", "run", "msgs/s", "MB/s");
  std::printf("|%s|%s|%s|\n", std::string(54, '-').c_str(), std::string(12, '-').c_str(),
              std::string(10, '-').c_str());
  for (std::size_t size : {std::size_t{100}, std::size_t{1024}}) {
    const std::int64_t count = size == 100 ? n_100 : n_1k;
    const std::string src = "bench-src-" + std::to_string(size);
    if (!(*admin_a)->create_topic(src, 4).ok()) return 1;
    eventually([&] {
      auto st = (*admin_a)->topic_status(src);
      return st.ok() && st->size() == 4;
    });
    rocketmq::ThroughputOptions t;
    t.topic = src;
    t.size = size;
    t.count = count;
    t.mode = rocketmq::ProduceMode::kAsync;
    t.concurrency = 512;
    auto raw = rocketmq::run_produce(**producer, t);
    row("raw producer into A, " + std::to_string(size) + " B, async 512", raw.msgs_per_sec(), size);
    const std::int64_t in_source = stored(**admin_a, src);

    for (int tasks : {1, 4}) {
      const std::string dst = "bench-dst-" + std::to_string(size) + "-" + std::to_string(tasks);
      (void)(*admin_b)->create_topic(dst, 4);
      const std::string name = "repl-" + std::to_string(size) + "-" + std::to_string(tasks);
      Json config = {
          {"connector.class", "org.apache.rocketmq.replicator.ReplicatorSourceConnector"},
          {"max.tasks", std::to_string(tasks)},
          {"src.endpoint", a.namesrv()},
          {"src.topictags", src},
          {"dest.topic", dst}};
      const auto started = Clock::now();
      auto r = w.post("/connectors", Json{{"name", name}, {"config", config}}.dump());
      if (r.status != 201) {
        std::fprintf(stderr, "create: %d %s\n", r.status, r.body.c_str());
        return 1;
      }
      const bool done = eventually([&] { return stored(**admin_b, dst) >= in_source; }, 600s, 20ms);
      const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
      if (!done) {
        std::fprintf(stderr, "replication of %s did not finish: %lld of %lld\n%s\n", src.c_str(),
                     static_cast<long long>(stored(**admin_b, dst)),
                     static_cast<long long>(in_source), w.log_tail().c_str());
        return 1;
      }
      row("replicator A -> B, " + std::to_string(size) + " B, " + std::to_string(tasks) +
              (tasks == 1 ? " task" : " tasks"),
          static_cast<double>(in_source) / seconds, size);
      (void)w.del("/connectors/" + name);
    }
  }
  (*producer)->shutdown();
  w.stop();
  return 0;
}
