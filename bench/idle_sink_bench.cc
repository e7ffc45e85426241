// What idle tasks cost: CPU time of this process (utime + stime from /proc/self/stat) and context
// switches while N tasks have nothing to do, against an in-process embedded broker.
//
//   rmqc_bench_idle_sink [--mode sink|sink-one-group|consumer|source] [--tasks N]
//                        [--seconds S] [--queues Q]
//
//   sink            N WorkerSinkTasks, each its own connector (own consumer group), subscribed
//                   to one empty topic of Q queues (every task reads all Q queues)
//   sink-one-group  N WorkerSinkTasks of one connector (one group): Q of them own a queue, the
//                   others own none
//   consumer        N bare LitePullConsumers, each its own group, subscribed to the empty topic
//   source          N WorkerSourceTasks whose poll() returns nothing
//
// The broker runs in this process; the per-thread table (by thread name, /proc/self/task) says
// how much of it is the broker's. A plain program printing a table, not a timed test.
#include "rmqc/api/sink_task.h"
#include "rmqc/api/source_task.h"

#include "base/logging.h"
#include "broker/server/embedded_broker.h"
#include "converters/string_converter.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "runtime/storage/state_store.h"
#include "runtime/worker_task.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace rmqc;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class IdleSink final : public SinkTask {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  void put(std::vector<ConnectRecord>&) override {}
};

class IdleSource final : public SourceTask {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<ConnectRecord> poll() override { return {}; }
};

struct Cpu {
  double seconds = 0;  // utime + stime
  long voluntary = 0;  // voluntary context switches (a blocked thread woke up)
  long nonvoluntary = 0;
};

double ticks_to_seconds(unsigned long long ticks) {
  return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// utime + stime of a /proc/.../stat line (fields 14 and 15; the name in parentheses may hold
// spaces, so count from the last ')').
double stat_cpu(const std::string& line) {
  auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return ticks_to_seconds(utime + stime);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

long status_field(const std::string& status, const std::string& key) {
  auto at = status.find(key + ":");
  if (at == std::string::npos) return 0;
  return std::strtol(status.c_str() + at + key.size() + 1, nullptr, 10);
}

Cpu process_cpu() {
  Cpu c;
  c.seconds = stat_cpu(read_file("/proc/self/stat"));
  // Context switches of all threads: sum the per-thread counters.
  for (const auto& t : fs::directory_iterator("/proc/self/task")) {
    auto status = read_file(t.path() / "status");
    c.voluntary += status_field(status, "voluntary_ctxt_switches");
    c.nonvoluntary += status_field(status, "nonvoluntary_ctxt_switches");
  }
  return c;
}

// Thread name up to its first ':' or digit run, so "t:sink-17" and "t:sink-3" count together.
std::string thread_group(std::string name) {
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  if (auto colon = name.find(':'); colon != std::string::npos) return name.substr(0, colon + 1);
  return name;
}

struct ThreadSample {
  std::string group;
  double seconds = 0;
  long voluntary = 0;
};

std::map<std::string, ThreadSample> thread_samples() {
  std::map<std::string, ThreadSample> out;  // by tid
  for (const auto& t : fs::directory_iterator("/proc/self/task")) {
    ThreadSample s;
    s.group = thread_group(read_file(t.path() / "comm"));
    // Nanoseconds on a CPU (exact; the tick counts of .../stat are cut to whole ticks per thread).
    s.seconds = std::strtod(read_file(t.path() / "schedstat").c_str(), nullptr) / 1e9;
    s.voluntary = status_field(read_file(t.path() / "status"), "voluntary_ctxt_switches");
    out[t.path().filename().string()] = s;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "sink";
  int tasks = 100;
  int seconds = 10;
  int queues = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--mode") mode = argv[i + 1];
    if (a == "--tasks") tasks = std::atoi(argv[i + 1]);
    if (a == "--seconds") seconds = std::atoi(argv[i + 1]);
    if (a == "--queues") queues = std::atoi(argv[i + 1]);
  }
  set_log_level("warn");

  const fs::path dir =
      fs::temp_directory_path() / ("rmqc_idle_bench_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  broker::EmbeddedBrokerOptions bo;
  bo.store.dir = (dir / "broker").string();
  bo.store.commit_log_segment_bytes = 8 << 20;
  bo.namesrv_port = 0;
  bo.broker_port = 0;
  bo.vip_port = false;
  auto broker = broker::EmbeddedBroker::start(bo);
  if (!broker.ok()) {
    std::cerr << "broker: " << broker.error().to_string() << "\n";
    return 1;
  }
  rocketmq::ClientConfig client;
  client.namesrv_addr = (*broker)->namesrv_addr();
  const std::string topic = "idle-bench";
  {
    auto admin = rocketmq::Admin::start(client);
    if (!admin.ok() || !(*admin)->create_topic(topic, queues).ok()) {
      std::cerr << "cannot create the topic\n";
      return 1;
    }
  }

  auto store = runtime::StateStore::open((dir / "state").string());
  rocketmq::ProducerConfig pc;
  pc.client = client;
  auto producer = rocketmq::Producer::start(pc);
  if (!store.ok() || !producer.ok()) {
    std::cerr << "cannot open the state store or start the producer\n";
    return 1;
  }
  std::shared_ptr<rocketmq::Producer> shared_producer = std::move(producer).value();

  std::vector<std::shared_ptr<runtime::WorkerTask>> running;
  std::vector<std::unique_ptr<rocketmq::LitePullConsumer>> consumers;
  for (int i = 0; i < tasks; ++i) {
    if (mode == "consumer") {
      rocketmq::ConsumerConfig cc;
      cc.client = client;
      cc.group = "idle-" + std::to_string(i);
      cc.auto_commit = false;
      auto c = rocketmq::LitePullConsumer::start(cc);
      if (!c.ok() || !(*c)->subscribe(topic).ok()) {
        std::cerr << "consumer " << i << " did not start\n";
        return 1;
      }
      consumers.push_back(std::move(c).value());
      continue;
    }
    runtime::TaskSetup setup;
    setup.connector = mode == "sink-one-group" ? std::string("idle") : "idle-" + std::to_string(i);
    setup.task_id = mode == "sink-one-group" ? i : 0;
    setup.worker_id = "bench";
    setup.connector_config = KeyValue{{"connect.topicnames", topic}, {"connect.topicname", topic}};
    setup.key_converter = std::make_unique<converters::StringConverter>();
    setup.value_converter = std::make_unique<converters::StringConverter>();
    setup.producer = shared_producer;
    setup.store = store->get();
    setup.client = client;
    std::shared_ptr<runtime::WorkerTask> task;
    if (mode == "source") {
      setup.task = std::make_unique<IdleSource>();
      task = std::make_shared<runtime::WorkerSourceTask>(std::move(setup));
    } else {
      setup.task = std::make_unique<IdleSink>();
      task = std::make_shared<runtime::WorkerSinkTask>(std::move(setup));
    }
    task->start();
    running.push_back(std::move(task));
  }
  // Let them settle: start offsets known, rebalances done, pulls parked on the broker.
  for (int waited = 0; waited < 300; ++waited) {
    bool all_running = true;
    for (auto& t : running) all_running &= t->state().state == runtime::RunState::kRunning;
    if (all_running) break;
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(3s);

  const auto threads_before = thread_samples();
  const Cpu before = process_cpu();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const Cpu after = process_cpu();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto threads_after = thread_samples();

  const double cpu = after.seconds - before.seconds;
  std::printf("mode=%s tasks=%d queues=%d threads=%zu window=%.1fs\n", mode.c_str(), tasks, queues,
              threads_after.size(), wall);
  std::printf("  process CPU: %.3f s = %.2f%% of one core\n", cpu, 100.0 * cpu / wall);
  std::printf("  context switches/s: %.0f voluntary, %.0f involuntary\n",
              static_cast<double>(after.voluntary - before.voluntary) / wall,
              static_cast<double>(after.nonvoluntary - before.nonvoluntary) / wall);
  struct Group {
    int threads = 0;
    double seconds = 0;
    long wakeups = 0;
  };
  std::map<std::string, Group> groups;
  for (const auto& [tid, s] : threads_after) {
    auto& g = groups[s.group];
    ++g.threads;
    if (auto it = threads_before.find(tid); it != threads_before.end()) {
      g.seconds += s.seconds - it->second.seconds;
      g.wakeups += s.voluntary - it->second.voluntary;
    }
  }
  std::printf("  %-18s %8s %10s %12s\n", "thread name", "threads", "% core", "wakeups/s");
  for (const auto& [name, g] : groups) {
    std::printf("  %-18s %8d %9.2f%% %12.0f\n", name.c_str(), g.threads, 100.0 * g.seconds / wall,
                static_cast<double>(g.wakeups) / wall);
  }

  for (auto& t : running) t->stop(5s);
  running.clear();
  for (auto& c : consumers) c->shutdown();
  consumers.clear();
  shared_producer->shutdown();
  (*broker)->stop();
  fs::remove_all(dir);
  return 0;
}
