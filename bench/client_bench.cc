// Native RocketMQ client throughput against an in-process embedded broker over loopback:
// producer sync / async / batch and the lite-pull consumer, 1 KB messages; next to ali-ons
// (node, bench/ali_ons_bench.js) on the same broker when node and ali-ons are installed.
//
//   rmqc_bench_client [messages per producer mode, default 200000] [json|rocketmq]
//
// The second argument picks the remoting header form the client sends (JSON by default; the
// broker answers in the same form).
//
// ali-ons is looked up on $NODE_PATH, else in the tests/e2e/ali_ons work directory
// (/tmp/rmqc-e2e-ali-ons-<uid>/node_modules, filled by tests/e2e/ali_ons/run.sh).
#include "base/logging.h"
#include "bench_support.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/throughput.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace {

using namespace rmqc;
using namespace rmqc::rocketmq;

void row(const char* what, const ThroughputResult& r) {
  std::printf("| %-34s | %10.0f | %8.1f | %8.2f | %8.2f | %6lld |\n", what, r.msgs_per_sec(),
              r.mb_per_sec(), r.p50_ms, r.p99_ms, static_cast<long long>(r.errors));
  std::fflush(stdout);
}

std::string run_node(const std::string& node_path, const std::string& args) {
  std::string cmd =
      "NODE_PATH='" + node_path + "' node '" RMQC_BENCH_DIR "/ali_ons_bench.js' " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "popen failed";
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string find_ali_ons() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("NODE_PATH"); env && fs::exists(fs::path(env) / "ali-ons")) {
    return env;
  }
  fs::path work =
      fs::path("/tmp") / ("rmqc-e2e-ali-ons-" + std::to_string(::getuid())) / "node_modules";
  if (fs::exists(work / "ali-ons") && std::system("node --version >/dev/null 2>&1") == 0) {
    return work.string();
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t count = argc > 1 ? std::atoll(argv[1]) : 200'000;
  const bool binary = argc > 2 && std::string(argv[2]) == "rocketmq";
  const auto header = binary ? SerializeType::ROCKETMQ : SerializeType::JSON;
  set_log_level("warn");
  auto broker = bench::TempBroker::start("rmqc_client_bench");
  if (!broker) return 1;
  auto& b = **broker;
  for (const char* t : {"bench", "bench_ali"}) {
    if (auto r = b.broker().create_topic(t, 8, 8); !r.ok()) return 1;
  }

  ProducerConfig pc;
  pc.client.namesrv_addr = b.namesrv_addr();
  pc.client.serialize_type = header;
  pc.group = "bench_producer";
  auto producer = Producer::start(pc);
  if (!producer.ok()) return 1;

  std::printf(
      "native client, embedded broker in-process, loopback, 1 KB bodies, %lld msgs/mode, %s "
      "headers\n",
      static_cast<long long>(count), binary ? "ROCKETMQ" : "JSON");
  std::printf("| %-34s | %10s | %8s | %8s | %8s | %6s |\n", "mode", "msgs/s", "MB/s", "p50 ms",
              "p99 ms", "errors");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(36, '-').c_str(), std::string(12, '-').c_str(),
              std::string(10, '-').c_str(), std::string(10, '-').c_str(),
              std::string(10, '-').c_str(), std::string(8, '-').c_str());
  ThroughputOptions t;
  t.topic = "bench";
  t.size = 1024;
  std::int64_t total = 0;

  t.count = count / 4;  // sync is latency-bound: fewer messages
  t.mode = ProduceMode::kSync;
  t.concurrency = 1;
  auto r = run_produce(**producer, t);
  total += r.messages;
  row("producer sync, 1 thread", r);
  t.concurrency = 8;
  r = run_produce(**producer, t);
  total += r.messages;
  row("producer sync, 8 threads", r);

  t.count = count;
  t.mode = ProduceMode::kAsync;
  t.concurrency = 512;
  r = run_produce(**producer, t);
  total += r.messages;
  row("producer async, 512 in flight", r);

  t.mode = ProduceMode::kBatch;
  t.concurrency = 4;
  t.batch_size = 32;
  r = run_produce(**producer, t);
  total += r.messages;
  row("producer batch of 32, 4 threads", r);

  ConsumerConfig cc;
  cc.client.namesrv_addr = b.namesrv_addr();
  cc.client.serialize_type = header;
  cc.group = "bench_consumer";
  cc.auto_commit = false;
  auto consumer = LitePullConsumer::start(cc);
  if (!consumer.ok()) return 1;
  auto queues = (*consumer)->fetch_queues("bench");
  if (!queues.ok() || !(*consumer)->assign(*queues).ok()) return 1;
  for (const auto& q : *queues) (void)(*consumer)->seek_to_begin(q);
  t.count = total;
  r = run_consume(**consumer, t);
  row("consumer poll (all of the above)", r);
  (*consumer)->shutdown();

  if (auto node_path = find_ali_ons(); !node_path.empty()) {
    const std::string common = " --namesrv " + b.namesrv_addr() +
                               " --topic bench_ali --size 1024 --count " +
                               std::to_string(count / 4);
    std::printf("\nreference on the same broker: %s\n",
                run_node(node_path, "produce" + common + " --concurrency 1").c_str());
    std::printf("reference on the same broker: %s (64 in flight)\n",
                run_node(node_path, "produce" + common + " --concurrency 64").c_str());
    std::printf("reference on the same broker: %s\n",
                run_node(node_path, "consume" + common).c_str());
  } else {
    std::printf(
        "\nali-ons reference skipped: node or ali-ons not found (run "
        "tests/e2e/ali_ons/run.sh once, or set NODE_PATH)\n");
  }
  (*producer)->shutdown();
  return 0;
}
